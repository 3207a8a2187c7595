"""Article sources: find the files, pick a reader by extension (or ``--format``), unpack ``.gz``.

Every reader takes ``(name, binary stream)`` and yields ``Record``s and ``Rejection``s whose
origin names the file (and line), so nothing in the input is dropped without a report.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from indexer.records import Record, Rejection
from indexer.sources import csv_rows, html_page, jsonl, portal_text

Reader = Callable[[str, BinaryIO], Iterator[Record | Rejection]]
READERS: dict[str, Reader] = {
    "jsonl": jsonl.read,
    "csv": csv_rows.read,
    "html": html_page.read,
    "txt": portal_text.read,
}
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
}


class SourceError(Exception):
    """A source argument that cannot be read at all (missing path, unknown format)."""


@dataclass(frozen=True)
class SourceFile:
    """A file to read and the format to read it as; ``problem`` says why it cannot be read at all
    (an unreadable directory, a FIFO), reported as one rejection in its place."""

    path: Path
    format: str
    problem: str | None = None
    detail: str = ""


def _format_of(path: Path) -> str | None:
    """The format implied by the extension, looking through a trailing ``.gz``."""
    name = path.name.lower().removesuffix(".gz")
    return _EXTENSIONS.get(Path(name).suffix)


def find_files(paths: Iterable[Path], fmt: str | None = None) -> tuple[list[SourceFile], list[Path]]:
    """Files to read (directories recursively, in name order) and directory entries skipped.

    Within directories, hidden entries are ignored and files of unknown format skipped (and
    returned, so they can be reported); a directory that cannot be listed and an entry that is not
    a regular file (a FIFO, a device) come back as a ``SourceFile`` with its ``problem``. A path
    named explicitly must be a regular file of a known format, or a directory.
    """
    found: list[SourceFile] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            _walk(path, fmt, found, skipped)
        elif path.is_file():
            kind = fmt or _format_of(path)
            if kind is None:
                raise SourceError(f"{path}: unknown format (use --format {'|'.join(READERS)})")
            found.append(SourceFile(path, kind))
        elif path.exists():
            raise SourceError(f"{path}: not a regular file (a FIFO, socket or device cannot be indexed)")
        else:
            raise SourceError(f"{path}: no such file or directory")
    return found, skipped


def _walk(top: Path, fmt: str | None, found: list[SourceFile], skipped: list[Path]) -> None:
    """Every entry below ``top`` with a stack, not recursion: a source tree of any depth is read."""
    start = len(found), len(skipped)
    stack, seen = [top], set()
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
            st = directory.stat()
        except OSError as exc:
            found.append(SourceFile(directory, "", "unreadable directory", exc.strerror or str(exc)))
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symbolic link back up the tree
            continue
        seen.add((st.st_dev, st.st_ino))
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=True):
                stack.append(path)
            elif not entry.is_file(follow_symlinks=True):
                found.append(SourceFile(path, "", "not a regular file"))
            elif kind := fmt or _format_of(path):
                found.append(SourceFile(path, kind))
            else:
                skipped.append(path)
    found[start[0] :] = sorted(found[start[0] :], key=lambda f: f.path)
    skipped[start[1] :] = sorted(skipped[start[1] :])


def read_records(files: Iterable[SourceFile]) -> Iterator[Record | Rejection]:
    """All records of all files, in order."""
    for source in files:
        yield from _read_file(source)


def _read_file(source: SourceFile) -> Iterator[Record | Rejection]:
    name = str(source.path)
    if source.problem:
        yield Rejection(name, source.problem, source.detail)
        return
    opener = gzip.open if source.path.name.lower().endswith(".gz") else open
    produced = False
    try:
        with opener(source.path, "rb") as stream:
            for item in READERS[source.format](name, stream):
                produced = True
                yield item
    except (OSError, EOFError, zlib.error) as exc:
        produced = True
        yield Rejection(name, "unreadable file", str(exc) or type(exc).__name__)
    if not produced:
        yield Rejection(name, "empty file")
