"""Where work runs and how it lands on disk: atomic writes and strict JSON (``files``), one
``map(fn, jobs)`` over local processes or Ray (``executor``)."""
