"""The web package's small parts on their own: parameters, links, charts, formatting."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import search
from web import create_app
from web.charts import MAX_BAR_HEIGHT, TOP, chosen_year, month_chart, year_chart
from web.cli import bind_address
from web.errors import error_response
from web.formatting import safe_href, vn_date, vn_number, vn_seconds
from web.navigation import date_presets, pagination
from web.params import MAX_PAGE, ParamError, SearchParams, parse_search_args


@pytest.fixture(scope="module")
def app_context(tmp_path_factory: pytest.TempPathFactory):
    """url_for needs an app; these tests never touch its index."""
    app = create_app({"INDEX": str(tmp_path_factory.mktemp("unused")), "SERVER_NAME": "vn.test"})
    with app.app_context():
        yield


def test_defaults():
    params = parse_search_args({})
    assert params == SearchParams()
    assert params.is_blank and params.to_args() == {}


def test_parse_trims_and_reads_everything():
    params = parse_search_args(
        {
            "q": "  khoa học ",
            "from": "2023-01-01",
            "to": "2023-12-31",
            "category": " Khoa học ",
            "sort": "newest",
            "page": "3",
            "size": "20",
        }
    )
    assert params == SearchParams(
        "khoa học", dt.date(2023, 1, 1), dt.date(2023, 12, 31), "Khoa học", "newest", 3, 20
    )
    assert not params.is_blank


@pytest.mark.parametrize("value", ["２", "1e3", "+1", " ", "٣"])
def test_only_plain_digits_are_numbers(value):
    if value.strip():
        with pytest.raises(ParamError):
            parse_search_args({"page": value})
    else:
        assert parse_search_args({"page": value}).page == 1


def test_same_day_range_is_fine():
    params = parse_search_args({"from": "2023-05-05", "to": "2023-05-05"})
    assert params.date_from == params.date_to


@given(
    st.builds(
        SearchParams,
        q=st.text(max_size=50).map(str.strip),
        date_from=st.none() | st.dates(),
        date_to=st.none(),
        category=st.text(max_size=20).map(str.strip),
        sort=st.sampled_from(["relevance", "newest", "oldest"]),
        page=st.integers(1, MAX_PAGE),
        size=st.integers(1, 100),
    )
)
def test_url_arguments_round_trip(params):
    assert parse_search_args(params.to_args()) == params


def test_presets_count_back_from_today_when_the_archive_is_current(app_context):
    today = dt.date(2024, 3, 10)
    presets = date_presets(SearchParams(q="a", page=4), today, newest=today - dt.timedelta(days=1))
    assert [link.label for link in presets] == ["7 ngày qua", "30 ngày qua", "Năm nay", "Mọi lúc"]
    assert presets[0].href == "http://vn.test/?q=a&from=2024-03-04&to=2024-03-10"
    assert presets[2].href == "http://vn.test/?q=a&from=2024-01-01&to=2024-03-10"
    assert [link.current for link in presets] == [False, False, False, True]


def test_presets_of_an_old_archive_count_back_from_its_newest_article(app_context):
    presets = date_presets(SearchParams(q="a"), dt.date(2026, 12, 3), newest=dt.date(2021, 4, 25))
    assert [link.label for link in presets] == [
        "7 ngày đến 25/04/2021",
        "30 ngày đến 25/04/2021",
        "Năm 2021",
        "Mọi lúc",
    ]
    assert presets[0].href == "http://vn.test/?q=a&from=2021-04-19&to=2021-04-25"


@pytest.mark.parametrize(
    ("page", "total", "labels"),
    [
        (1, 0, ["1"]),
        (1, 95, ["1", "2", "3", None, "10"]),
        (6, 95, ["1", None, "4", "5", "6", "7", "8", None, "10"]),
        (10, 95, ["1", None, "8", "9", "10"]),
        (3, 30, ["1", "2", "3"]),
        (999, 10**6, ["1", None, "997", "998", "999", "1000"]),
    ],
)
def test_pagination(app_context, page, total, labels):
    pager = pagination(SearchParams(q="a", page=page), total)
    assert [link and link.label for link in pager.pages] == labels
    assert [link.label for link in pager.pages if link and link.current] == [str(page)]
    assert (pager.previous is None) == (page == 1)
    assert (pager.next is None) == (page >= min(1000, -(-total // 10)) or total == 0)


@given(size=st.integers(1, 100), total=st.integers(0, 10**7), page=st.integers(1, 1000))
def test_pager_never_links_a_page_the_core_refuses(app_context, size, total, page):
    pager = pagination(SearchParams(q="a", page=page, size=size), total)
    hrefs = [link.href for link in pager.pages if link] + [h for h in (pager.previous, pager.next) if h]
    for href in hrefs:
        linked = int(parse_qs(urlsplit(href).query).get("page", ["1"])[0])
        assert linked * size <= search.limits.MAX_DEPTH, href


def test_pager_at_100_per_page_stops_at_page_100(app_context):
    pager = pagination(SearchParams(q="a", page=99, size=100), 10**6)
    assert [link and link.label for link in pager.pages][-2:] == ["99", "100"]
    assert pager.next == "http://vn.test/?q=a&page=100&size=100"
    assert pagination(SearchParams(q="a", page=100, size=100), 10**6).next is None


def test_pagination_past_the_end_points_back(app_context):
    pager = pagination(SearchParams(q="a", page=50), 25)
    assert pager.previous == "http://vn.test/?q=a&page=3" and pager.next is None


def test_year_chart(app_context):
    chart = year_chart(SearchParams(q="a"), {"2024": 2, "2021": 8, "2022": 0})
    assert [bar.label for bar in chart.bars] == ["2021", "2022", "2024"]
    tallest, empty, small = chart.bars
    assert tallest.height == MAX_BAR_HEIGHT and small.height == round(MAX_BAR_HEIGHT / 4)
    assert empty.height == 0
    assert tallest.y + tallest.height == TOP + MAX_BAR_HEIGHT == small.y + small.height
    assert tallest.href == "http://vn.test/?q=a&from=2021-01-01&to=2021-12-31"
    assert small.description == "Năm 2024: 2 bài"
    assert chart.bars[1].x > tallest.x and chart.width >= chart.bars[-1].x + chart.bar_width
    assert year_chart(SearchParams(), {}) is None


def test_a_tiny_count_stays_visible(app_context):
    chart = year_chart(SearchParams(), {"2020": 1000, "2021": 1})
    assert chart.bars[1].height >= 2


def test_month_chart_has_twelve_months(app_context):
    params = SearchParams(date_from=dt.date(2023, 2, 1), date_to=dt.date(2023, 2, 28))
    chart = month_chart(params, 2023, {"2023-02": 3, "2023-11": 1, "2022-02": 9})
    assert [bar.label for bar in chart.bars] == [f"T{m}" for m in range(1, 13)]
    assert [bar.count for bar in chart.bars if bar.count] == [3, 1]
    assert chart.bars[0].href is None and chart.bars[1].selected
    assert chart.bars[1].href == "http://vn.test/?from=2023-02-01&to=2023-02-28"


def test_chosen_year():
    one_year = SearchParams(date_from=dt.date(2023, 3, 1), date_to=dt.date(2023, 9, 1))
    assert chosen_year(one_year, {"2023": 3}) == 2023
    assert chosen_year(SearchParams(), {"2022": 1}) == 2022
    assert chosen_year(SearchParams(), {"2022": 1, "2023": 1}) is None
    assert chosen_year(SearchParams(date_from=dt.date(2023, 1, 1)), {"2023": 1, "2024": 1}) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://vnexpress.net/a.html", "https://vnexpress.net/a.html"),
        (" http://tuoitre.vn/b ", "http://tuoitre.vn/b"),
        ("HTTPS://X.VN", "HTTPS://X.VN"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("\x01javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("http:///nohost", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_href(url, expected):
    assert safe_href(url) == expected


def test_vietnamese_formats():
    assert vn_date(dt.date(2023, 11, 3)) == "03/11/2023"
    assert vn_date(None) == ""
    assert vn_number(1234567) == "1.234.567"
    assert vn_seconds(12.3456) == "0,012 giây"


def test_bind_address():
    assert bind_address("127.0.0.1", 8000) == "127.0.0.1:8000"
    assert bind_address("::1", 9000) == "[::1]:9000"


@pytest.mark.parametrize(
    ("status", "code", "words"), [(413, "bad_request", "không hợp lệ"), (502, "server_error", "lỗi")]
)
def test_statuses_without_words_of_their_own(tmp_path, status, code, words):
    app = create_app({"INDEX": str(tmp_path)})
    with app.test_request_context("/api/search"):
        body, returned = error_response(status)
    assert returned == status and body["error"]["code"] == code and words in body["error"]["message"]
