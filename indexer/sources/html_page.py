"""Saved HTML article pages: main text, title, date and metadata (og:image too) extracted by trafilatura."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import trafilatura

from indexer.records import Record, Rejection
from indexer.sources.lines import MAX_PAGE_BYTES, read_page


def read(name: str, stream: BinaryIO) -> Iterator[Record | Rejection]:
    """One record per page; trafilatura detects the page's own encoding."""
    data = read_page(stream)
    if data is None:
        yield Rejection(name, "file too large", f"more than {MAX_PAGE_BYTES:,} bytes")
        return
    if not data.strip():
        return
    page = trafilatura.bare_extraction(
        data,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if page is None or not (page.text or "").strip():
        yield Rejection(name, "no article text found")
        return
    yield Record(
        name,
        {
            "title": page.title,
            "summary": page.description,
            "body": _without_headline(page.text, page.title),
            "date": page.date,
            "category": page.categories[0] if page.categories else None,
            "source": page.sitename or page.hostname,
            "url": page.url,
            "image": page.image,  # og:image / twitter:image, a thumbnail
        },
    )


def _without_headline(text: str, title: str | None) -> str:
    """trafilatura repeats the <h1> as the first line of the text; the title field has it."""
    first, _, rest = text.partition("\n")
    return rest if title and first.strip() == title.strip() else text
