"""JSON API: search, articles, related articles, health and the OpenAPI description.

Only GET (and HEAD) are routed; anything else gets a JSON 405 from web.errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, render_template, request

from search import MAX_COMPLETIONS, limits
from web import analytics
from web.index import current_index, nothing_found, run_search
from web.openapi import openapi_document
from web.params import ParamError, parse_search_args, parse_size, parse_typed
from web.serialize import article_json, error_json, hit_json, results_json

bp = Blueprint("api", __name__)

RELATED_DEFAULT_SIZE = 5


def get(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """GET route without Flask's automatic OPTIONS, so the API answers GET and HEAD only."""
    return bp.get(rule, provide_automatic_options=False)


@get("/api/search")
def search() -> dict[str, Any]:
    """Every request the OpenAPI document allows is answered (the page shows these two cases as
    errors instead): a page past the depth served has no hits, like a page past the last one; a
    query of no searchable words ("((( *") or the story of an unknown id finds nothing. ``notice``
    says why."""
    params = parse_search_args(request.args)
    if params.page * params.size > limits.MAX_DEPTH:
        counted = run_search(params.replace(page=1))
        notice = f"Chỉ xem được {limits.MAX_DEPTH} kết quả đầu tiên; hãy thu hẹp tìm kiếm."
        return results_json(dataclasses.replace(counted, page=params.page, hits=[]), notice=notice)
    try:
        results = run_search(params)
    except ParamError as error:
        if error.param not in ("q", "story"):  # no word to search for; no article with that id
            raise
        return results_json(nothing_found(params), notice=error.message)
    analytics.record("api", params, results)
    return results_json(results)


@get("/api/suggest")
def suggest() -> dict[str, Any]:
    """Search-as-you-type: completions of what has been typed so far."""
    typed = parse_typed(request.args)
    return {"query": typed, "completions": current_index().complete(typed, MAX_COMPLETIONS)}


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


@get("/api/docs")
def docs() -> str:
    """The OpenAPI document as a page for people, rendered here (no script, no CDN)."""
    return render_template("api_docs.html", doc=openapi_document())


@bp.errorhandler(ParamError)
def bad_parameter(error: ParamError) -> tuple[dict[str, Any], int]:
    return error_json("bad_parameter", f"{error.param}: {error.message}", param=error.param), 400
