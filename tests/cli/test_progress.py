"""Progress off a terminal: one plain line per step, and not more often than asked."""

from rich.console import Console

import matlattice.cli.common as common


def test_a_log_gets_one_line_per_step_and_no_flood(monkeypatch, capsys):
    monkeypatch.setattr(common, "err_console", Console(stderr=True, force_terminal=False))
    with common.progress_bar("fitting aflow", every=3600) as progress:
        for epoch in range(1, 41):
            progress(f"test: member 1/2, epoch {epoch}/40, val loss 0.5")
        progress("test: member 2/2, epoch 1/40, val loss 0.4")
        progress("measuring the lattice")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "fitting aflow - test: member 1/2, epoch 1/40, val loss 0.5",
        "fitting aflow - test: member 2/2, epoch 1/40, val loss 0.4",
        "fitting aflow - measuring the lattice",
    ]


def test_every_step_is_shown_when_the_interval_has_passed(monkeypatch, capsys):
    monkeypatch.setattr(common, "err_console", Console(stderr=True, force_terminal=False))
    with common.progress_bar("sweep", every=0) as progress:
        progress("width 2, 1/3")
        progress("width 2, 2/3")
    assert len(capsys.readouterr().err.splitlines()) == 2
