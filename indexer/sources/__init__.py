"""Article sources: find the files, pick a reader by extension (or ``--format``), unpack ``.gz``.

Every reader takes ``(name, binary stream)`` and yields ``Record``s and ``Rejection``s whose
origin names the file (and line), so nothing in the input is dropped without a report.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from indexer import encodings
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
    encoding: str = encodings.UTF8  # what its bytes are (``detect_encodings``)
    detected: str = ""  # how the encoding was decided, for the report
    forced: bool = False  # named with --encoding: taken as is, no record repaired


REPAIRED_FIELDS = ("title", "summary", "body", "category")


def detect_encodings(files: list[SourceFile], forced: str | None = None) -> list[SourceFile]:
    """Each file with its encoding: ``forced`` when given, else decided on its first bytes
    (``indexer.encodings.detect``); a file no encoding reads clearly gets a ``problem`` instead."""
    out = []
    for source in files:
        if source.problem:
            out.append(source)
        elif forced:
            out.append(replace(source, encoding=forced, detected=f"{forced} (--encoding)", forced=True))
        else:
            out.append(_detected(source))
    return out


def _detected(source: SourceFile) -> SourceFile:
    try:
        with _open(source.path) as stream:
            sample = stream.read(encodings.SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error):
        return source  # reading it reports why
    found = encodings.detect(sample)
    if isinstance(found, encodings.Undecided):
        return replace(source, problem="encoding undecided", detail=str(found))
    return replace(source, encoding=found.encoding, detected=str(found))


def _open(path: Path) -> BinaryIO:
    return (gzip.open if path.name.lower().endswith(".gz") else open)(path, "rb")


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
    produced = False
    try:
        with _open(source.path) as raw:
            stream = raw if source.encoding == encodings.UTF8 else _Transcoded.reader(raw, source.encoding)
            for item in READERS[source.format](name, stream):
                produced = True
                yield item if source.forced or isinstance(item, Rejection) else _repaired(item)
    except (OSError, EOFError, zlib.error) as exc:
        produced = True
        yield Rejection(name, "unreadable file", str(exc) or type(exc).__name__)
    if not produced:
        yield Rejection(name, "empty file")


def _repaired(record: Record) -> Record:
    """A record whose text reads as mojibake or legacy text shown as Windows-1252, repaired."""
    fields, how = encodings.repair_fields(dict(record.fields), REPAIRED_FIELDS)
    return record if how is None else Record(record.origin, fields, how)


class _Transcoded(io.RawIOBase):
    """A legacy-encoded byte stream read as UTF-8, a line (at most ``CHUNK`` bytes) at a time."""

    CHUNK = 1 << 20

    @classmethod
    def reader(cls, raw: BinaryIO, encoding: str) -> BinaryIO:
        return io.BufferedReader(cls(raw, encoding))

    def __init__(self, raw: BinaryIO, encoding: str):
        self.raw, self.encoding, self.pending, self.held = raw, encoding, b"", b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            chunk = self.raw.readline(self.CHUNK)
            line, self.held = self.held + chunk, b""
            if not line:
                return 0
            if (
                chunk and not chunk.endswith(b"\n") and line[-1] in encodings.PAIR_STARTS
            ):  # its mark may follow
                line, self.held = line[:-1], line[-1:]
            self.pending = encodings.decode(line, self.encoding).encode("utf-8")
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size
