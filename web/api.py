"""JSON API: search, articles, related articles, health and the OpenAPI description.

Only GET (and HEAD) are routed; anything else gets a JSON 405 from web.errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, request

from web import analytics
from web.index import current_index, run_search
from web.openapi import openapi_document
from web.params import ParamError, parse_search_args, parse_size
from web.serialize import article_json, error_json, hit_json, results_json

bp = Blueprint("api", __name__)

RELATED_DEFAULT_SIZE = 5


def get(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """GET route without Flask's automatic OPTIONS, so the API answers GET and HEAD only."""
    return bp.get(rule, provide_automatic_options=False)


@get("/api/search")
def search() -> dict[str, Any]:
    params = parse_search_args(request.args)
    results = run_search(params)
    analytics.record("api", params, results)
    return results_json(results)


@get("/api/articles/<article_id>")
def article(article_id: str) -> dict[str, Any]:
    found = current_index().get(article_id)
    if found is None:
        abort(404, description=f"Không có bài viết mã «{article_id}».")
    return article_json(found)


@get("/api/articles/<article_id>/related")
def related(article_id: str) -> dict[str, Any]:
    size = parse_size(request.args, default=RELATED_DEFAULT_SIZE)
    try:
        hits = current_index().related(article_id, n=size)
    except KeyError:
        abort(404, description=f"Không có bài viết mã «{article_id}».")
    return {"id": article_id, "hits": [hit_json(hit) for hit in hits]}


@get("/healthz")
def health() -> dict[str, Any]:
    index = current_index()
    return {"status": "ok", "generation": index.generation, "articles": index.doc_count()}


@get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    return openapi_document()


@bp.errorhandler(ParamError)
def bad_parameter(error: ParamError) -> tuple[dict[str, Any], int]:
    return error_json("bad_parameter", f"{error.param}: {error.message}", param=error.param), 400
