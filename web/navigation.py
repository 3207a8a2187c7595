"""Links of the search page: each one is the current search with one thing changed."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import itertools

from flask import url_for

from search.limits import deepest_page
from web.params import SearchParams


@dataclasses.dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool = False


def search_url(params: SearchParams, **changes: object) -> str:
    """URL of ``params`` with ``changes``; back to page 1 unless the change is the page."""
    changes.setdefault("page", 1)
    return url_for("pages.search_page", **params.replace(**changes).to_args())


def article_url(article_id: str, params: SearchParams | None = None) -> str:
    """The article page, carrying the search it was found by (its words get marked there)."""
    return url_for("pages.article", article_id=article_id, **(params.to_args() if params else {}))


def related_url(article_id: str, params: SearchParams | None = None) -> str:
    """The related-articles page, carrying the search so its way back keeps it."""
    return url_for("pages.related", article_id=article_id, **(params.to_args() if params else {}))


def year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def date_presets(params: SearchParams, today: dt.date, newest: dt.date | None) -> list[Link]:
    """Fixed ranges that work as plain links, so the filter needs no JavaScript.

    They count back from the newest article: from today when the archive is current, else from
    its last day (an archive of 2021 would otherwise show "7 ngày qua" empty forever)."""
    end = today if newest is None or newest >= today - dt.timedelta(days=1) else newest
    if end == today:
        labels = ("7 ngày qua", "30 ngày qua", "Năm nay")
    else:
        last = end.strftime("%d/%m/%Y")
        labels = (f"7 ngày đến {last}", f"30 ngày đến {last}", f"Năm {end.year}")
    ranges = [
        (labels[0], end - dt.timedelta(days=6), end),
        (labels[1], end - dt.timedelta(days=29), end),
        (labels[2], dt.date(end.year, 1, 1), end),
    ]
    links = [
        Link(
            label,
            search_url(params, date_from=start, date_to=stop),
            (params.date_from, params.date_to) == (start, stop),
        )
        for label, start, stop in ranges
    ]
    links.append(
        Link(
            "Mọi lúc",
            search_url(params, date_from=None, date_to=None),
            not (params.date_from or params.date_to),
        )
    )
    return links


@dataclasses.dataclass(frozen=True)
class Pager:
    """Previous/next links and numbered pages; None in ``pages`` marks a gap (…)."""

    previous: str | None
    next: str | None
    pages: list[Link | None]


def pagination(params: SearchParams, total: int, window: int = 2) -> Pager:
    """Pages around the current one, always with the first and the last.

    The last is the last the core serves (``search.limits.deepest_page``), so no link is refused.
    """
    last = min(deepest_page(params.size), max(1, -(-total // params.size)))
    shown = sorted(
        page
        for page in {1, last, *range(params.page - window, params.page + window + 1)}
        if 1 <= page <= last
    )
    pages: list[Link | None] = []
    for before, page in itertools.pairwise([0, *shown]):
        if page - before > 1:
            pages.append(None)
        pages.append(Link(str(page), search_url(params, page=page), page == params.page))
    return Pager(
        previous=search_url(params, page=min(params.page - 1, last)) if params.page > 1 else None,
        next=search_url(params, page=params.page + 1) if params.page < last else None,
        pages=pages,
    )
