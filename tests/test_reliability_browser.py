"""Hostile content in real Chromium (JavaScript on): articles and queries carrying markup, script
URLs, SVG payloads, HTML entities, zero-width and bidi controls.

What is pinned down, on every page a payload reaches (results, related, landing, filters, errors,
JSON): no dialog opens, no payload marker is set, no element or event attribute is injected, no
``javascript:``/``data:``/``vbscript:`` link exists, the console shows no error, and the page
still renders the hits with the payload shown as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
from factories import article
from web_fixtures import CHROMIUM, live_server

import search
from web import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CATEGORY = "<b onmouseover=\"window.__xss='cat'\">Thời sự</b>"
HOSTILE = [
    # (id, title, body, url)
    (
        "x-img",
        '"><img src=x onerror="window.__xss=\'title\';alert(1)"> Tin khoa học nóng',
        'Nội dung khoa học <script>window.__xss="body";alert(2)</script> kết thúc.',
        "javascript:alert(3)",
    ),
    (
        "x-svg",
        "<svg onload=alert(4)><circle r=50 /></svg> Bản đồ khoa học",
        "Báo cáo khoa học <svg><script>alert(5)</script></svg><math><mtext><img src=x onerror=alert(6)>.",
        " JaVaScRiPt:alert(7)",
    ),
    (
        "x-entities",
        "&lt;script&gt;alert(8)&lt;/script&gt; khoa học &amp; đời sống",
        "Mã &#x3C;img src=x onerror=alert(9)&#x3E; trong bài khoa học, và &quot;trích dẫn&quot;.",
        "java\tscript:alert(10)",
    ),
    (
        "x-bidi",
        "Khoa\u200bhọc \u202eọh aohk\u202c và \u2066chữ\u2069 \u200dẩn",
        "Văn bản khoa học có ký tự \u200b\u200c\u200d\u2060\ufeff ẩn và \u202eđảo chiều\u202c.",
        "data:text/html,<script>alert(11)</script>",
    ),
    (
        "x-attr",
        "Tin khoa học có đường dẫn lạ",
        "Đường dẫn có dấu nháy trong bài khoa học.",
        'https://tin.example.vn/a"onmouseover="alert(12)',
    ),
    (
        "x-vb",
        "<iframe src=javascript:alert(13)></iframe> khoa học",
        "<a href=javascript:alert(14)>bấm</a> khoa học <object data=javascript:alert(15)>",
        "vbscript:msgbox(16)",
    ),
]
QUERY_PAYLOADS = [
    '"><script>window.__xss="q"</script>',
    "<svg onload=alert(20)> khoa học",
    "<img src=x onerror=alert(21)> khoa",
    "javascript:alert(22)",
    "&lt;script&gt; khoa học",
    "khoa\u200bhọc \u202e",
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = tmp_path_factory.mktemp("hostile") / "index"
    arts = [
        article(
            aid, title, body, url=url, category=CATEGORY if aid == "x-img" else "Khoa học", source=title[:30]
        )
        for aid, title, body, url in HOSTILE
    ]
    arts.append(article("plain", "Tin khoa học bình thường", "Một bài khoa học bình thường."))
    with search.Index(index, workers=1).new_generation() as gen:
        gen.add_many(arts)
    with live_server(create_app({"INDEX": str(index)})) as url:
        yield url


class Watched:
    """A page with JavaScript on, recording dialogs, console errors and uncaught errors."""

    def __init__(self, browser, base_url: str) -> None:
        self.context = browser.new_context(base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message) -> None:
        # Not the page's doing: the browser's own /favicon.ico request (the site has none), and the
        # status of the page itself when it is a 400 error page on purpose.
        url = message.location.get("url", "")
        if message.type != "error" or url.endswith("/favicon.ico"):
            return
        if message.text.startswith("Failed to load resource") and url == self.page.url:
            return
        self.errors.append(f"{message.text} at {message.location}")

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(100)  # let any onload / onerror handler run
        assert self.page.evaluate("() => window.__xss") is None, url
        injected = self.page.evaluate(
            """() => {
                const all = Array.from(document.querySelectorAll('*'));
                const tags = ['script', 'img', 'iframe', 'object', 'embed', 'math', 'circle', 'b']
                    .flatMap(t => Array.from(document.getElementsByTagName(t))
                        .filter(e => !(e.tagName === 'SCRIPT' && !e.textContent.trim()
                                       && e.getAttribute('src') === '/static/suggest.js'))  // the app's own
                        .map(e => e.tagName));
                const svgs = Array.from(document.querySelectorAll('svg:not(.bars)')).map(() => 'svg');
                const on = all.flatMap(e => Array.from(e.attributes)
                    .filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + '@' + a.name));
                const links = Array.from(document.querySelectorAll('[href],[src],[data],[action]'))
                    .flatMap(e => ['href', 'src', 'data', 'action'].map(n => e.getAttribute(n) || ''))
                    .filter(v => /^\\s*(javascript|data|vbscript):/i.test(v.replace(/[\\t\\n\\r]/g, '')));
                return [...tags, ...svgs, ...on, ...links];
            }"""
        )
        assert injected == [], (url, injected)

    def close(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors
        self.context.close()


@pytest.fixture
def watched(browser, base_url) -> Iterator[Watched]:
    page = Watched(browser, base_url)
    yield page
    page.close()


def test_hostile_articles_render_as_text_and_run_nothing(watched):
    watched.visit("/?q=khoa+hoc&size=20")
    page = watched.page
    assert page.locator("li.hit").count() == len(HOSTILE) + 1
    titles = page.locator("li.hit h3").all_inner_texts()
    assert any('"><img src=x onerror=' in t for t in titles)
    assert any("<svg onload=alert(4)>" in t for t in titles)
    assert any("&lt;script&gt;alert(8)&lt;/script&gt;" in t for t in titles)  # entities stay literal
    assert any("<iframe src=javascript:alert(13)>" in t for t in titles)
    snippets = " ".join(page.locator("li.hit .snippet").all_inner_texts())
    assert "<script>" in snippets and "<svg>" in snippets
    links = page.locator("li.hit h3 a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    outside = sorted(link for link in links if not link.startswith("/articles/"))
    assert outside == ["https://example.vn/plain", 'https://tin.example.vn/a"onmouseover="alert(12)']


def test_script_urls_are_never_links(watched):
    watched.visit("/?q=khoa+hoc&size=20")
    hrefs = watched.page.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert all(
        not h.strip().lower().replace("\t", "").startswith(("javascript", "data", "vbscript")) for h in hrefs
    )
    for aid in ("x-img", "x-svg", "x-entities", "x-bidi", "x-vb"):
        hit = watched.page.locator("li.hit", has=watched.page.locator(f"a[href^='/articles/{aid}/related']"))
        # a script URL is no link: the title leads to the article's page here instead
        assert hit.locator("h3 a").get_attribute("href").startswith(f"/articles/{aid}?"), aid


def test_related_pages_of_hostile_articles_run_nothing(watched):
    for aid, *_ in HOSTILE:
        watched.visit(f"/articles/{aid}/related")
        assert watched.page.locator("h1").count() == 1


@pytest.mark.parametrize("payload", QUERY_PAYLOADS)
def test_hostile_queries_run_nothing_and_still_render(watched, payload):
    watched.visit(f"/?q={quote_plus(payload)}")
    page = watched.page
    assert page.get_by_label("Từ khóa", exact=True).input_value() == payload
    assert page.locator("#results-heading, .empty, .alert").count() >= 1


def test_hostile_category_and_filters_run_nothing(watched):
    watched.visit("/")  # the landing page lists the categories
    assert watched.page.get_by_text(CATEGORY, exact=True).count() >= 1
    watched.visit(f"/?category={quote_plus(CATEGORY)}")
    assert watched.page.locator("li.hit").count() == 1
    watched.visit(f"/?q=khoa&from={quote_plus('<script>alert(30)</script>')}")  # a 400 page
    assert watched.page.locator(".alert, .error, [role=alert]").count() >= 1


def test_api_json_opened_in_the_browser_runs_nothing(watched):
    watched.visit(f"/api/search?q={quote_plus(QUERY_PAYLOADS[0])}")
    watched.visit("/api/search?q=khoa+hoc&size=20")
    assert "<script>" in watched.page.locator("body").inner_text()  # shown as JSON text


def test_the_checks_would_see_an_injection(browser, base_url):
    """The same checks on a page that does carry the payloads: they fire, so their silence above counts."""
    page = Watched(browser, base_url)
    html = "<p>x</p><img src=x onerror=\"window.__xss=1;alert('injected')\"><a href='javascript:1'>y</a>"
    with pytest.raises(AssertionError):
        page.visit("data:text/html," + quote_plus(html).replace("+", "%20"))
    assert page.dialogs == ["injected"]
    page.context.close()
