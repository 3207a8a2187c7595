"""CSV with a header row naming the article fields (id, title, date, category, url, body, ...)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from indexer.article import MAX_BODY_BYTES
from indexer.records import Record, Rejection
from indexer.sources.lines import numbered_lines

# csv's error for a field that grew past field_size_limit: an opening quote never closed.
FATAL = "field larger than field limit"
TOO_LONG = "too long: "

if TYPE_CHECKING:
    from _csv import Reader


def read(name: str, stream: BinaryIO) -> Iterator[Record | Rejection]:
    """One record per row; rows are reported with the line they start on."""
    # Bodies up to the size limit must reach validation, which reports them as too large.
    csv.field_size_limit(max(csv.field_size_limit(), 2 * MAX_BODY_BYTES))
    bad_lines: dict[int, str] = {}
    reader = csv.reader(_text_lines(stream, bad_lines))
    header = _header(reader)
    if header is None:
        return
    if "body" not in header:
        yield Rejection(f"{name}:{reader.line_num}", "bad CSV header", f"no 'body' column in {header}")
        return
    yield from _rows(name, reader, header, bad_lines)


def _text_lines(stream: BinaryIO, bad_lines: dict[int, str]) -> Iterator[str]:
    """Text lines for the csv module; an overlong line becomes an empty one, remembered."""
    for line in numbered_lines(stream):
        if line.too_long:
            bad_lines[line.number] = TOO_LONG + line.too_long
            yield "\n"
            continue
        if line.bad_bytes:
            bad_lines[line.number] = line.bad_bytes
        yield line.text


def _header(reader: Reader) -> list[str] | None:
    for row in reader:
        if any(cell.strip() for cell in row):
            return [cell.strip().lower() for cell in row]
    return None


def _rows(
    name: str, reader: Reader, header: list[str], bad_lines: dict[int, str]
) -> Iterator[Record | Rejection]:
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if FATAL in str(exc):  # an unterminated quote swallowed the rest: what follows is noise
                yield Rejection(
                    f"{name}:{start}", "malformed CSV", f"{exc}; the rest of the file is not read"
                )
                return
            yield Rejection(f"{name}:{start}", "malformed CSV", str(exc))
            continue
        bad = [bad_lines[n] for n in range(start, reader.line_num + 1) if n in bad_lines]
        yield from _row(f"{name}:{start}", row, header, bad)


def _row(origin: str, row: list[str], header: list[str], bad: list[str]) -> Iterator[Record | Rejection]:
    if too_long := [b for b in bad if b.startswith(TOO_LONG)]:
        yield Rejection(origin, "line too long", too_long[0].removeprefix(TOO_LONG))
        return
    if not any(cell.strip() for cell in row):
        return
    if bad:
        yield Rejection(origin, "not UTF-8", bad[0])
    elif len(row) != len(header):
        yield Rejection(origin, "wrong number of columns", f"{len(row)} instead of {len(header)}")
    else:
        yield Record(origin, dict(zip(header, row, strict=True)))
