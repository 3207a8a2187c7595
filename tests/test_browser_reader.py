"""The reader's experience in real Chromium (playwright): a titleless hit, the article page,
search-as-you-type by keyboard, and the layout on a phone and a desktop (screenshots in
tests/artifacts/)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from web_fixtures import CHROMIUM, TITLELESS_ID, live_server, reader_index

from web import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
ARTIFACTS = Path(__file__).parent / "artifacts"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
# A 1×1 PNG served for the fixture's thumbnail URL (the machine has no network).
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app({"INDEX": str(reader_index(tmp_path_factory))})
    with live_server(app) as url:
        yield url


@pytest.fixture
def open_page(browser, base_url):
    """A page factory: viewport, JavaScript on or off; console errors are collected and must be
    none (a missing favicon was one on every page)."""
    contexts, errors = [], []

    def make(viewport: dict[str, int] = DESKTOP, javascript: bool = True, **options):
        context = browser.new_context(
            base_url=base_url, locale="vi-VN", viewport=viewport, java_script_enabled=javascript, **options
        )
        context.route(
            "https://img.example.vn/**", lambda route: route.fulfill(body=PIXEL, content_type="image/png")
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == []


def url_args(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_pick_a_completion_with_the_keyboard(open_page):
    page = open_page()
    page.goto("/")
    box = page.get_by_role("combobox", name="Từ khóa")
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("thanh ph", delay=30)
    listbox = page.get_by_role("listbox")
    sync_api.expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    texts = options.all_inner_texts()
    assert any(t.lower() == "thành phố hồ chí minh" for t in texts), texts
    assert all(t.lower().startswith("thành ph") for t in texts), texts
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")

    wanted = next(i for i, t in enumerate(texts) if t.lower() == "thành phố hồ chí minh")
    for i in range(wanted + 1):
        box.press("ArrowDown")
        active = box.get_attribute("aria-activedescendant")
        assert active == options.nth(i).get_attribute("id")
        assert options.nth(i).get_attribute("aria-selected") == "true"
    box.press("ArrowUp")
    box.press("ArrowDown")
    chosen = texts[wanted]
    box.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    assert url_args(page.url) == {"q": chosen}
    sync_api.expect(page.locator("#results-heading")).to_contain_text("Tìm thấy")
    assert [m.lower() for m in page.locator("li.hit mark").all_inner_texts()][:1] == ["thành phố hồ chí minh"]


def test_escape_closes_the_list_and_enter_then_searches_what_was_typed(open_page):
    page = open_page()
    page.goto("/")
    box = page.get_by_role("combobox", name="Từ khóa")
    box.press_sequentially("thanh ph", delay=30)
    sync_api.expect(page.get_by_role("listbox")).to_be_visible()
    box.press("ArrowDown")
    box.press("Escape")
    sync_api.expect(page.get_by_role("listbox")).to_be_hidden()
    assert (
        box.get_attribute("aria-expanded") == "false" and box.get_attribute("aria-activedescendant") is None
    )
    box.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    assert url_args(page.url) == {"q": "thanh ph"}


def test_without_javascript_the_box_is_a_plain_search_box(open_page):
    page = open_page(javascript=False)
    page.goto("/")
    assert page.locator("#q").get_attribute("role") is None
    assert page.get_by_role("searchbox", name="Từ khóa").count() == 1
    assert page.locator("[role=listbox]").count() == 0


def test_a_titleless_hit_has_a_heading_to_click(open_page):
    page = open_page(javascript=False)
    page.goto("/?q=gia+vang+hom+nay")
    hit = page.locator("li.hit", has=page.locator(f"a[href^='/articles/{TITLELESS_ID}/related']"))
    link = hit.locator("h3 a")
    assert link.inner_text().startswith("Giá vàng hôm nay")
    assert page.get_by_role("link", name=re.compile("^Giá vàng hôm nay")).count() >= 1
    assert "không có tiêu đề" in hit.locator("h3").inner_text()
    hit.get_by_role("link", name="Đọc tại đây").click()
    page.wait_for_url(re.compile(f"/articles/{TITLELESS_ID}"))
    sync_api.expect(page.get_by_role("heading", level=1)).to_contain_text("Giá vàng hôm nay")


def test_article_page_marks_the_query_and_leads_back(open_page):
    page = open_page()
    page.goto("/?q=gia+vang&sort=newest")
    page.locator("li.hit", has=page.locator(f"a[href^='/articles/{TITLELESS_ID}/related']")).get_by_role(
        "link", name="Đọc tại đây"
    ).click()
    page.wait_for_url(re.compile(f"/articles/{TITLELESS_ID}\\?"))
    marks = page.locator("article mark").all_inner_texts()
    assert marks and {m.lower() for m in marks} == {"giá vàng"}
    assert page.locator(".article-body p").count() == 2
    sync_api.expect(page.get_by_role("link", name="Xem bài gốc")).to_have_attribute(
        "href", re.compile("^https://")
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "article-1280.png", full_page=True)
    page.locator(".back a").click()
    page.wait_for_url(re.compile(r"/\?"))
    assert url_args(page.url) == {"q": "gia vang", "sort": "newest"}


@pytest.mark.parametrize(("name", "viewport"), [("390", PHONE), ("1280", DESKTOP)])
def test_layout_puts_the_first_result_in_view(open_page, name, viewport):
    page = open_page(
        viewport=viewport, is_mobile=viewport is PHONE, device_scale_factor=2 if viewport is PHONE else 1
    )
    page.goto("/?q=thanh+pho+hue")
    first = page.locator("li.hit h3 a").first
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"], box
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    thumb = page.locator("li.hit img.thumb").first
    sync_api.expect(thumb).to_have_attribute("alt", re.compile("Huế"))
    if viewport is PHONE:
        filters = page.locator("details.filter-box")
        assert filters.get_attribute("open") is None
        assert not page.get_by_label("Từ ngày", exact=True).is_visible()
        page.get_by_text("Bộ lọc", exact=True).click()
        assert page.get_by_label("Từ ngày", exact=True).is_visible()
        to_facets = page.get_by_role("link", name=re.compile("Lọc theo năm"))
        assert to_facets.bounding_box()["y"] < viewport["height"]
    else:
        assert page.get_by_label("Từ ngày", exact=True).is_visible()  # no disclosure on a wide screen
        assert page.locator("#facets").bounding_box()["y"] < viewport["height"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto("/?q=thanh+pho+hue")
    page.screenshot(path=ARTIFACTS / f"search-{name}.png", full_page=False)


def test_a_set_filter_keeps_the_disclosure_open_on_a_phone(open_page):
    page = open_page(viewport=PHONE, is_mobile=True)
    page.goto("/?q=khoa+hoc&category=Khoa+h%E1%BB%8Dc")
    assert page.locator("details.filter-box").get_attribute("open") is not None
    assert page.get_by_label("Chuyên mục", exact=True).is_visible()
    first = page.locator("li.hit h3 a").first.bounding_box()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "search-390-filtered.png", full_page=False)
    assert first is not None  # with filters open the list may start lower: the reader chose them
