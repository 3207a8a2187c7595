"""HTML pages: the search page, the article page and the related-articles page, server-rendered;
they work without script (web/static/suggest.js only adds search-as-you-type)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory
from werkzeug.wrappers import Response

import search
from web import analytics
from web.charts import chosen_year, month_chart, year_chart
from web.feed import feed_url
from web.index import current_index, run_search
from web.navigation import article_url, date_presets, pagination, related_url, search_url
from web.params import SORTS, ParamError, SearchParams, parse_search_args

bp = Blueprint("pages", __name__)
bp.add_app_template_global(search_url)
bp.add_app_template_global(article_url)
bp.add_app_template_global(related_url)
bp.add_app_template_global(feed_url)

RELATED_COUNT = 10
ARTICLE_RELATED_COUNT = 5  # related articles listed under an article
FILTERS = ("from", "to", "category", "sort")


@bp.get("/")
def search_page() -> str | Response:
    """The search page; with no words and no filter, the landing page with index stats.

    A URL with empty parameters (a submitted form's ``from=&to=&category=``) or a date range
    typed backwards is redirected to its one canonical spelling."""
    params = parse_search_args(request.args)
    if any(not value.strip() for value in request.args.values()) or _swapped(params):
        return redirect(search_url(params, page=params.page))
    results = None if params.is_blank else run_search(params)
    if results is not None:
        analytics.record("page", params, results)
    return render_search(params, results)


def _swapped(params: SearchParams) -> bool:
    return (
        params.date_from is not None and request.args.get("from", "").strip() != params.date_from.isoformat()
    )


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
    context["filters_open"] = _filters_open(params, error)
    if params is not None:
        context["presets"] = date_presets(params, dt.date.today(), stats["date_max"])
    if params is not None and results is not None:
        context.update(result_context(params, results))
    return render_template("search.html", **context)


def _filters_open(params: SearchParams | None, error: ParamError | None) -> bool:
    """The "Bộ lọc" disclosure stays open while a filter is set, or when one is wrong."""
    if error is not None:
        return error.param in FILTERS
    return params is not None and bool(
        params.date_from or params.date_to or params.category or params.sort != "relevance"
    )


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


@bp.get("/articles/<article_id>")
def article(article_id: str) -> str:
    """An article to read, with the words of ``?q=`` marked; the search it came from (its
    parameters ride along) is one link away."""
    params = parse_search_args(request.args)
    index = current_index()
    found = index.article(article_id, params.q)
    if found is None:
        abort(404)
    return render_template(
        "article.html",
        article=found,
        params=params,
        back_url=back_url(params),
        related=index.related(article_id, n=ARTICLE_RELATED_COUNT),
    )


@bp.get("/articles/<article_id>/related")
def related(article_id: str) -> str:
    """Articles like one article, reached from the "Bài liên quan" link of each hit; nothing is
    marked (no query asked for these), and the way back keeps the search."""
    params = parse_search_args(request.args)
    index = current_index()
    found = index.get(article_id)
    if found is None:
        abort(404)
    return render_template(
        "related.html",
        article=found,
        title=found.get("title") or found.get("title_derived") or article_id,
        params=params,
        back_url=back_url(params),
        hits=index.related(article_id, n=RELATED_COUNT),
    )


def back_url(params: SearchParams) -> str:
    """The search a reader came from, on the page they left."""
    return search_url(params, page=params.page)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """For clients that ask for /favicon.ico without reading the page's <link rel=icon>."""
    return send_from_directory(str(current_app.static_folder), "favicon.svg", mimetype="image/svg+xml")
