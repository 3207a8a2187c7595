"""Progress output: a tqdm bar with rate and ETA on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys

import pytest

from indexer import progress as progress_module
from indexer.progress import progress


def test_terminal_gets_a_bar_with_rate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress(3) as update:
        for _ in range(3):
            update(1)
    err = capsys.readouterr().err
    assert "indexing: 100%" in err and "3/3" in err and "articles/s" in err


def test_other_output_gets_periodic_plain_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    monkeypatch.setattr(progress_module, "LOG_EVERY_SECONDS", 0.0)
    with progress(2) as update:
        update(1)
        update(1)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("indexing: 1/2 articles (") and "ETA" in lines[0]
    assert lines[-1].startswith("indexing: 2/2 articles (")
    assert "\r" not in "".join(lines)
