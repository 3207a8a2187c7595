"""JSON shapes of the API, built from core objects (the OpenAPI schemas describe these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import search

ARTICLE_FIELDS = ("id", "title", "summary", "body", "date", "category", "source", "url")


def iso_date(value: dt.date | None) -> str | None:
    """YYYY-MM-DD, or None when the date is unknown (a datetime keeps only its date)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def hit_json(hit: search.Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "date": iso_date(hit.date),
        "category": hit.category,
        "source": hit.source,
        "score": round(hit.score, 4),
        "title_html": hit.title_html,
        "snippet_html": hit.snippet_html,
        "same_story": hit.same_story,
    }


def results_json(results: search.Results) -> dict[str, Any]:
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "size": results.per_page,
        "took_ms": round(results.took_ms, 2),
        "hits": [hit_json(hit) for hit in results.hits],
        "facets": {name: dict(counts) for name, counts in results.facets.items()},
        "suggestion": results.suggestion,
        "relaxed": results.relaxed,
        "required": list(results.required),
        "dropped": list(results.dropped),
        "min_words": results.min_words,
        "approximate": results.approximate,
        "searched": results.searched,
        "rewrites": [{**r, "also": list(r["also"])} for r in results.rewrites],
        "stories": results.stories,
    }


def article_json(article: Mapping[str, Any]) -> dict[str, Any]:
    """A stored article with every field present (None when the article lacks it)."""
    data = {name: article.get(name) for name in ARTICLE_FIELDS}
    data["date"] = iso_date(data["date"])
    return data


def error_json(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """``param`` names the query parameter at fault, when one is."""
    error = {"code": code, "message": message}
    return {"error": error | {"param": param} if param else error}
