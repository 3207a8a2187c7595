"""Date facets as small bar charts, laid out here and drawn as inline SVG by the template.

Geometry is computed on the server so the page needs no script and no inline style
(SVG presentation attributes are allowed by the Content-Security-Policy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from web.navigation import month_range, search_url, year_range
from web.params import SearchParams

BAR_WIDTH = 24
GAP = 6
MAX_BAR_HEIGHT = 70
TOP = 16  # room for the count above the tallest bar
BOTTOM = 18  # room for the label under the bars


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    count: int
    href: str | None  # None for empty months: nothing to filter to
    description: str  # what a screen reader says for the bar
    selected: bool
    x: int = 0  # geometry, set by _layout
    y: int = 0
    height: int = 0


@dataclasses.dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]

    @property
    def width(self) -> int:
        return max(1, len(self.bars) * (BAR_WIDTH + GAP) - GAP)

    @property
    def height(self) -> int:
        return TOP + MAX_BAR_HEIGHT + BOTTOM

    @property
    def bar_width(self) -> int:
        return BAR_WIDTH


def _layout(title: str, bars: list[Bar]) -> Chart:
    """Place the bars side by side, heights relative to the largest count."""
    peak = max((bar.count for bar in bars), default=0) or 1
    placed = []
    for i, bar in enumerate(bars):
        height = max(2, round(MAX_BAR_HEIGHT * bar.count / peak)) if bar.count else 0
        placed.append(
            dataclasses.replace(bar, x=i * (BAR_WIDTH + GAP), y=TOP + MAX_BAR_HEIGHT - height, height=height)
        )
    return Chart(title, placed)


def year_chart(params: SearchParams, years: Mapping[str, int]) -> Chart | None:
    """Articles per year; a bar links to the search limited to that year."""
    if not years:
        return None
    bars = []
    for year in sorted(year for year in years if year.isdigit()):
        start, end = year_range(int(year))
        bars.append(
            Bar(
                label=year,
                count=years[year],
                href=search_url(params, date_from=start, date_to=end),
                description=f"Năm {year}: {years[year]} bài",
                selected=(params.date_from, params.date_to) == (start, end),
            )
        )
    return _layout("Số bài theo năm", bars)


def month_chart(params: SearchParams, year: int, months: Mapping[str, int]) -> Chart:
    """Articles per month of ``year``, all twelve months shown."""
    bars = []
    for month in range(1, 13):
        count = months.get(f"{year}-{month:02d}", 0)
        start, end = month_range(year, month)
        bars.append(
            Bar(
                label=f"T{month}",
                count=count,
                href=search_url(params, date_from=start, date_to=end) if count else None,
                description=f"Tháng {month}/{year}: {count} bài",
                selected=(params.date_from, params.date_to) == (start, end),
            )
        )
    return _layout(f"Số bài theo tháng năm {year}", bars)


def chosen_year(params: SearchParams, years: Mapping[str, int]) -> int | None:
    """The year to break down by month: the one the date filter lies in, or the only one."""
    if params.date_from and params.date_to and params.date_from.year == params.date_to.year:
        return params.date_from.year
    if len(years) == 1:
        return int(next(iter(years)))
    return None
