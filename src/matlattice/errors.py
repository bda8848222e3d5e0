"""One error hierarchy for matlattice.

Every error a user can trigger derives from :class:`MatlatticeError` and, where a
built-in exception fits, from that built-in too, so ``except ValueError`` still works.
"""

from __future__ import annotations


class MatlatticeError(Exception):
    """Base class of every error raised on purpose by matlattice."""


class InvalidFormulaError(MatlatticeError, ValueError):
    """A chemical formula could not be parsed.

    Attributes
    ----------
    formula : object
        The offending input, exactly as given.
    fault : str
        What is wrong with it, in words.
    """

    def __init__(self, formula: object, fault: str) -> None:
        self.formula = formula
        self.fault = fault
        super().__init__(f"Invalid formula {formula!r}: {fault}")

    def __reduce__(self):  # keep picklable for multiprocessing workers
        return (type(self), (self.formula, self.fault))


class InvalidParameterError(MatlatticeError, ValueError):
    """An argument is out of range, not one of its choices, or conflicts with another one.

    The message quotes the bad value and says what would be valid.
    """


class ConflictingResultError(InvalidParameterError):
    """A result told for a material conflicts with what was told before: another value, or a
    value against "not measurable". Telling it again with ``amend`` corrects it (the old
    value stays in the history)."""


class UnknownDatasetError(MatlatticeError, KeyError):
    """A dataset name is not in the registry and is not a readable file."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownPropertyError(MatlatticeError, KeyError):
    """A property (task) name is not one of the dataset's properties."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DataFormatError(MatlatticeError, ValueError):
    """A data file does not have the columns or types matlattice needs."""


class DataNotAvailableError(MatlatticeError, RuntimeError):
    """A data source is neither cached nor downloadable right now."""


class ChecksumError(MatlatticeError, RuntimeError):
    """A file (a download, a cached data file, saved weights) does not have its recorded sha256."""


class MissingElementError(MatlatticeError, ValueError):
    """An element table has no vector for an element present in a composition."""


class CheckpointMismatchError(MatlatticeError, RuntimeError):
    """A checkpoint to resume from was written by a run with other settings or data."""


class NotFittedError(MatlatticeError, AttributeError):
    """An estimator was used before ``fit``."""
