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


def year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def date_presets(params: SearchParams, today: dt.date) -> list[Link]:
    """Fixed ranges that work as plain links, so the filter needs no JavaScript."""
    ranges = [
        ("7 ngày qua", today - dt.timedelta(days=6), today),
        ("30 ngày qua", today - dt.timedelta(days=29), today),
        ("Năm nay", dt.date(today.year, 1, 1), today),
    ]
    links = [
        Link(
            label,
            search_url(params, date_from=start, date_to=end),
            (params.date_from, params.date_to) == (start, end),
        )
        for label, start, end in ranges
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
