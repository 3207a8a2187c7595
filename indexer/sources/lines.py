"""Numbered UTF-8 lines from a byte stream, where one bad line does not spoil the rest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from indexer.article import MAX_BODY_BYTES


@dataclass(frozen=True)
class Line:
    """One line (1-based ``number``); ``bad_bytes`` says why it is not UTF-8, if it is not."""

    number: int
    text: str
    bad_bytes: str | None = None
    too_long: str | None = None


# The longest line read: a JSON record with a body at the size limit fits even with every character
# \u-escaped (6 bytes each); a longer one (a gzip bomb of one 4 GiB line) is skipped a chunk at a
# time and reported as "line too long", never held in memory.
MAX_LINE_BYTES = 6 * MAX_BODY_BYTES + 2**20
# The largest page (.html, .txt) read whole: markup around a body at the size limit.
MAX_PAGE_BYTES = 4 * MAX_BODY_BYTES
SKIP_CHUNK = 2**20


def numbered_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Decode line by line; undecodable lines come with ``bad_bytes`` and replacement characters,
    lines longer than ``limit`` bytes with ``too_long`` and no text."""
    number = 0
    while raw := stream.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            skipped = len(raw) + _skip_line(stream)
            yield Line(number, "", too_long=f"{skipped:,} bytes or more, at most {limit:,}")
            continue
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield Line(number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            detail = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
            yield Line(number, raw.decode("utf-8", "replace"), detail)


def _skip_line(stream: BinaryIO) -> int:
    """Read past the rest of the current line without keeping it; returns how many bytes."""
    skipped = 0
    while chunk := stream.readline(SKIP_CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def read_page(stream: BinaryIO, limit: int = MAX_PAGE_BYTES) -> bytes | None:
    """A whole page, or None when it is larger than ``limit`` bytes (never more is read)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data
