"""The search page in real Chromium (playwright): what a person does with it, with and
without JavaScript, on a desktop and a phone, and what an XSS payload cannot do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
from web_fixtures import CHROMIUM, XSS_ID, live_server, shared_index

from web import create_app

SUGGESTION_CANDIDATES = ["khoa hocc", "hoi thao", "bong daa", "giao duc", "khao hoc"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
ARTIFACTS = Path(__file__).parent / "artifacts"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    return create_app({"INDEX": str(shared_index(tmp_path_factory))})


@pytest.fixture(scope="module")
def base_url(app) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser, base_url) -> Iterator[object]:
    context = browser.new_context(base_url=base_url, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def url_args(page) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}


def hit_dates(page) -> list[str]:
    return page.locator("li.hit time").evaluate_all("els => els.map(e => e.dateTime)")


def test_type_a_query_without_diacritics(page):
    page.goto("/")
    page.get_by_label("Từ khóa", exact=True).fill("khoa hoc")
    page.get_by_label("Từ khóa", exact=True).press("Enter")
    page.wait_for_url(re.compile(r"q=khoa\+hoc"))
    assert page.get_by_label("Từ khóa", exact=True).input_value() == "khoa hoc"
    sync_api.expect(page.locator("#results-heading")).to_contain_text("Tìm thấy")
    assert page.locator("li.hit").count() == 10
    marks = [text.lower() for text in page.locator("li.hit mark").all_inner_texts()]
    assert "khoa học" in marks
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "search-results.png", full_page=True)


def test_filters_sort_and_pagination(page):
    page.goto("/?q=khoa+hoc")
    page.get_by_label("Từ ngày", exact=True).fill("2021-01-01")
    page.get_by_label("Đến ngày", exact=True).fill("2023-12-31")
    page.get_by_label("Chuyên mục", exact=True).select_option(label="Khoa học")
    page.get_by_role("button", name="Áp dụng").click()
    page.wait_for_url(re.compile("category="))
    assert url_args(page) == {
        "q": "khoa hoc",
        "from": "2021-01-01",
        "to": "2023-12-31",
        "category": "Khoa học",
        "sort": "relevance",
    }
    assert set(page.locator("li.hit .category").all_inner_texts()) == {"Khoa học"}
    assert all("2021-01-01" <= d <= "2023-12-31" for d in hit_dates(page))
    assert page.locator("li.hit").count() == 8

    page.get_by_label("Sắp xếp", exact=True).select_option(label="Mới nhất")
    page.get_by_role("button", name="Áp dụng").click()
    page.wait_for_url(re.compile("sort=newest"))
    dates = hit_dates(page)
    assert dates == sorted(dates, reverse=True)

    page.get_by_role("link", name="Bỏ bộ lọc").click()
    page.wait_for_url(lambda url: "category" not in url)
    page.get_by_role("link", name="Trang sau ›").click()
    page.wait_for_url(re.compile("page=2"))
    assert url_args(page)["sort"] == "newest"
    assert page.locator("ol.hits").get_attribute("start") == "11"
    assert page.locator(".pager [aria-current=page]").inner_text() == "2"
    assert hit_dates(page) == sorted(hit_dates(page), reverse=True)


def test_click_the_date_facet_bars(page):
    page.goto("/?q=khoa+hoc")
    page.locator("svg a[aria-label^='Năm 2023']").click()
    page.wait_for_url(re.compile("from=2023-01-01"))
    assert url_args(page)["to"] == "2023-12-31"
    assert page.get_by_label("Từ ngày", exact=True).input_value() == "2023-01-01"
    sync_api.expect(page.get_by_text("Số bài theo tháng năm 2023")).to_be_visible()
    page.locator("svg a[aria-label^='Tháng 11/2023']").click()
    page.wait_for_url(re.compile("from=2023-11-01"))
    assert url_args(page)["to"] == "2023-11-30"
    assert hit_dates(page) and all(d.startswith("2023-11") for d in hit_dates(page))


def test_follow_the_suggestion(page, app):
    client = app.test_client()
    query, suggestion = next(
        (
            (q, s)
            for q in SUGGESTION_CANDIDATES
            if (s := client.get("/api/search", query_string={"q": q}).get_json()["suggestion"])
        ),
        (None, None),
    )
    assert query, f"the core suggested nothing for any of {SUGGESTION_CANDIDATES}"
    page.goto(f"/?q={quote_plus(query)}")
    sync_api.expect(page.locator(".suggestion")).to_contain_text("Có phải bạn muốn tìm")
    page.locator(".suggestion a").click()
    page.wait_for_url(lambda url: url_args_of(url).get("q") == suggestion)
    assert page.get_by_label("Từ khóa", exact=True).input_value() == suggestion


def url_args_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_xss_payloads_do_not_run(browser, base_url):
    """With JavaScript on, so that anything injected would really run."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    payload = '"><script>alert("q")</script><img src=x onerror=alert("img")>'
    for url in (
        f"/?q={quote_plus(payload)}",
        f"/?q={quote_plus(payload)}&from={quote_plus(payload)}",
        "/?q=lua+dao",
        f"/articles/{XSS_ID}/related",
    ):
        page.goto(url)
        page.wait_for_load_state("load")
        assert page.locator("script:not([src='/static/suggest.js'])").count() == 0  # only the app's own
        assert page.locator("img").count() == 0
        assert page.evaluate("() => window.__xss === undefined")
    page.goto("/?q=lua+dao")
    title = page.locator("li.hit", has=page.locator(f"a[href^='/articles/{XSS_ID}/related']")).locator("h3")
    assert '<script>alert("xss-title")</script>' in title.inner_text()
    # the javascript: URL is not a link: the title leads to the article's page here
    assert title.locator("a").get_attribute("href") == f"/articles/{XSS_ID}?q=lua+dao"
    assert dialogs == []
    context.close()


def test_phone_layout(browser, base_url):
    context = browser.new_context(
        base_url=base_url, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    page.goto("/?q=khoa+hoc&from=2023-01-01&to=2023-12-31")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = page.get_by_label("Từ khóa", exact=True).bounding_box()
    assert box["width"] > 200
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "search-results-phone.png", full_page=True)
    context.close()
