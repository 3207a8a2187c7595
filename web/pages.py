"""HTML pages: the search page and the related-articles page, server-rendered, no script."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request

import search
from web import analytics
from web.charts import chosen_year, month_chart, year_chart
from web.feed import feed_url
from web.index import current_index, run_search
from web.navigation import date_presets, pagination, search_url
from web.params import SORTS, ParamError, SearchParams, parse_search_args

bp = Blueprint("pages", __name__)
bp.add_app_template_global(search_url)
bp.add_app_template_global(feed_url)

RELATED_COUNT = 10


@bp.get("/")
def search_page() -> str:
    """The search page; with no words and no filter, the landing page with index stats."""
    params = parse_search_args(request.args)
    results = None if params.is_blank else run_search(params)
    if results is not None:
        analytics.record("page", params, results)
    return render_search(params, results)


@bp.errorhandler(ParamError)
def bad_parameter(error: ParamError) -> tuple[str, int]:
    """Show the form again, as typed, with the problem in words (status 400)."""
    return render_search(None, None, error=error), 400


def render_search(
    params: SearchParams | None,
    results: search.Results | None,
    error: ParamError | None = None,
) -> str:
    stats = page_stats(current_index())
    context: dict[str, object] = {
        "params": params,
        "results": results,
        "error": error,
        "form": request.args,
        "sorts": SORTS,
        "stats": stats,
        "categories": sorted(stats["categories"]),
    }
    if params is not None:
        context["presets"] = date_presets(params, dt.date.today())
    if params is not None and results is not None:
        context.update(result_context(params, results))
    return render_template("search.html", **context)


def page_stats(index: search.Index) -> dict[str, object]:
    """What the page shows about the index: article count, date range, categories.

    Not ``Index.stats()``: that also sizes the index directory by walking it, which costs a walk
    per page view and fails with FileNotFoundError when a reindex removes a directory mid-walk.
    """
    newest = index.search("", sort="newest", per_page=1)
    oldest = index.search("", sort="oldest", per_page=1)
    return {
        "articles": index.doc_count(),
        "date_min": oldest.hits[0].date if oldest.hits else None,
        "date_max": newest.hits[0].date if newest.hits else None,
        "categories": newest.facets.get("categories", {}),
    }


def result_context(params: SearchParams, results: search.Results) -> dict[str, object]:
    """Charts, pager and suggestion link for a page of results."""
    years = results.facets.get("years", {})
    year = chosen_year(params, years)
    return {
        "year_chart": year_chart(params, years),
        "month_chart": month_chart(params, year, results.facets.get("months", {})) if year else None,
        "category_counts": sorted(
            results.facets.get("categories", {}).items(), key=lambda item: (-item[1], item[0])
        ),
        "pager": pagination(params, results.total if results.stories is None else results.stories),
        "suggestion_url": search_url(params, q=results.suggestion) if results.suggestion else None,
    }


@bp.get("/articles/<article_id>/related")
def related(article_id: str) -> str:
    """Articles like one article, reached from the "Bài liên quan" link of each hit."""
    index = current_index()
    article = index.get(article_id)
    if article is None:
        abort(404)
    return render_template("related.html", article=article, hits=index.related(article_id, n=RELATED_COUNT))
