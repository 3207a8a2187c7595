"""Numbered UTF-8 lines from a byte stream, where one bad line does not spoil the rest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Line:
    """One line (1-based ``number``); ``bad_bytes`` says why it is not UTF-8, if it is not."""

    number: int
    text: str
    bad_bytes: str | None = None


def numbered_lines(stream: BinaryIO) -> Iterator[Line]:
    """Decode line by line; undecodable lines come with ``bad_bytes`` and replacement characters."""
    for number, raw in enumerate(stream, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield Line(number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            detail = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
            yield Line(number, raw.decode("utf-8", "replace"), detail)
