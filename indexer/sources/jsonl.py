"""JSON Lines: one article object per line, fields as in shared/corpus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from indexer.records import Record, Rejection
from indexer.sources.lines import numbered_lines


def read(name: str, stream: BinaryIO) -> Iterator[Record | Rejection]:
    """One record per non-blank line; bad lines are rejected, the others still read."""
    for line in numbered_lines(stream):
        origin = f"{name}:{line.number}"
        if line.too_long:
            yield Rejection(origin, "line too long", line.too_long)
        elif line.bad_bytes:
            yield Rejection(origin, "not UTF-8", line.bad_bytes)
        elif line.text.strip():
            yield _parse(origin, line.text)


def _parse(origin: str, text: str) -> Record | Rejection:
    try:
        value = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        return Rejection(origin, "malformed JSON", f"{exc.msg} at column {exc.colno}")
    if not isinstance(value, dict):
        return Rejection(origin, "not a JSON object", type(value).__name__)
    return Record(origin, value)
