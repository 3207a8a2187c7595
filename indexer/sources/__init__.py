"""Article sources: find the files, pick a reader by extension (or ``--format``), unpack ``.gz``.

Every reader takes ``(name, binary stream)`` and yields ``Record``s and ``Rejection``s whose
origin names the file (and line), so nothing in the input is dropped without a report.
"""

from __future__ import annotations

import gzip
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
    """A file to read and the format to read it as."""

    path: Path
    format: str


def _format_of(path: Path) -> str | None:
    """The format implied by the extension, looking through a trailing ``.gz``."""
    name = path.name.lower().removesuffix(".gz")
    return _EXTENSIONS.get(Path(name).suffix)


def find_files(paths: Iterable[Path], fmt: str | None = None) -> tuple[list[SourceFile], list[Path]]:
    """Files to read (directories recursively, in name order) and directory entries skipped.

    Within directories, hidden entries are ignored and files of unknown format skipped (and
    returned, so they can be reported); a file named explicitly must have a known format.
    """
    found: list[SourceFile] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not _hidden(child.relative_to(path)):
                    kind = fmt or _format_of(child)
                    if kind:
                        found.append(SourceFile(child, kind))
                    else:
                        skipped.append(child)
        elif path.is_file():
            kind = fmt or _format_of(path)
            if kind is None:
                raise SourceError(f"{path}: unknown format (use --format {'|'.join(READERS)})")
            found.append(SourceFile(path, kind))
        else:
            raise SourceError(f"{path}: no such file or directory")
    return found, skipped


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def read_records(files: Iterable[SourceFile]) -> Iterator[Record | Rejection]:
    """All records of all files, in order."""
    for source in files:
        yield from _read_file(source)


def _read_file(source: SourceFile) -> Iterator[Record | Rejection]:
    name = str(source.path)
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
