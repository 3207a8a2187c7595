"""Plain text of scraped portal pages (e.g. provincial portals): headline, date line, body, footer.

The layout this reads: portal menus, the headline, a date line ("Ngày cập nhật 13/11/2023",
"Cập nhật", "Ngày đăng", "Đăng ngày"), picture captions and paragraphs, "Nguồn: <site>", then
the portal's footer ("Các tin khác", "Xem tin theo ngày", "Thống kê truy cập", counters).
The headline is taken as the last non-blank line before the date line, so menus above it drop out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import BinaryIO

from indexer.dates import find_date
from indexer.records import Record, Rejection
from indexer.sources.lines import MAX_PAGE_BYTES, read_page

_DATE_LINE = re.compile(r"\s*(?:ngày cập nhật|cập nhật|ngày đăng|đăng ngày)\s*:?\s*(?P<rest>.*)", re.I)
_SOURCE_LINE = re.compile(r"\s*nguồn\s*:\s*(?P<source>.*?)\s*", re.I)
_FOOTER_LINE = re.compile(  # whole lines only: "Tin liên quan đến dự án…" in the body stays
    r"\s*(?:các tin khác|tin liên quan|tin cùng chuyên mục|xem tin theo ngày|thống kê truy cập"
    r"|truy cập tổng|truy cập hiện tại|lượt truy cập)\s*:?\s*[\d.,]*\s*",
    re.I,
)
_SENTENCE_END = (".", "!", "?", "…", '"', "”")


def read(name: str, stream: BinaryIO) -> Iterator[Record | Rejection]:
    """One record per page, or a rejection saying which part of the layout is missing."""
    data = read_page(stream)
    if data is None:
        yield Rejection(name, "file too large", f"more than {MAX_PAGE_BYTES:,} bytes")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        yield Rejection(f"{name}:{line}", "not UTF-8", f"byte 0x{data[exc.start]:02x}")
        return
    if text.strip():
        yield _page(name, text.splitlines())


def _page(name: str, lines: list[str]) -> Record | Rejection:
    found = _date_line(lines)
    if found is None:
        return Rejection(name, "no date line", "expected e.g. 'Ngày cập nhật 13/11/2023'")
    at, date = found
    headline = next((line.strip() for line in reversed(lines[:at]) if line.strip()), "")
    if not headline:
        return Rejection(f"{name}:{at + 1}", "no headline before the date line")
    paragraphs, source = _body(lines[at + 1 :])
    fields = {"title": headline, "date": date, "body": "\n".join(paragraphs), "source": source}
    return Record(name, fields)


def _date_line(lines: list[str]) -> tuple[int, dt.date | dt.datetime] | None:
    for at, line in enumerate(lines):
        label = _DATE_LINE.fullmatch(line)
        date = find_date(label["rest"]) if label else None
        if date is not None:
            return at, date
    return None


def _body(lines: list[str]) -> tuple[list[str], str | None]:
    """Paragraphs up to "Nguồn:" or the footer, without the picture captions above the lead."""
    paragraphs: list[str] = []
    source = None
    for line in lines:
        if credit := _SOURCE_LINE.fullmatch(line):
            source = credit["source"] or None
            break
        if _FOOTER_LINE.fullmatch(line):
            break
        if line.strip():
            paragraphs.append(line.strip())
    lead = next((i for i, p in enumerate(paragraphs) if p.endswith(_SENTENCE_END)), 0)
    return paragraphs[lead:], source
