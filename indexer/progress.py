"""Progress of a long run: a tqdm bar on a terminal, periodic plain log lines otherwise."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

import click
from tqdm import tqdm

LOG_EVERY_SECONDS = 5.0


@contextlib.contextmanager
def progress(total: int, what: str = "indexing") -> Iterator[Callable[[int], None]]:
    """Yield ``update(n)``; shows articles/s and the ETA, on stderr."""
    if sys.stderr.isatty():
        with tqdm(total=total, desc=what, unit=" articles", file=sys.stderr, dynamic_ncols=True) as bar:
            yield bar.update
        return
    log = _LogLines(total, what)
    yield log.update
    log.finish()


class _LogLines:
    """One line every few seconds: logs and CI output stay readable (no carriage returns)."""

    def __init__(self, total: int, what: str) -> None:
        self.total, self.what = total, what
        self.done = 0
        self.started = self.last = time.monotonic()

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= LOG_EVERY_SECONDS:
            self.last = now
            self._line(now)

    def finish(self) -> None:
        self._line(time.monotonic())

    def _line(self, now: float) -> None:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if rate and self.done < self.total else ""
        click.echo(f"{self.what}: {self.done}/{self.total} articles ({rate:.0f} articles/s{eta})", err=True)
