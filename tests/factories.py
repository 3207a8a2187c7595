"""Builders for test data."""

import datetime as dt


def article(id: str, title: str, body: str, date: str | None = "2023-11-13", **extra) -> dict:
    """An article mapping as the indexer hands it to the core."""
    return {
        "id": id,
        "title": title,
        "body": body,
        "summary": extra.pop("summary", ""),
        "date": dt.date.fromisoformat(date) if date else None,
        "category": extra.pop("category", "Thời sự"),
        "source": extra.pop("source", "test"),
        "url": extra.pop("url", f"https://example.vn/{id}"),
        **extra,
    }
