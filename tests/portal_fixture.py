"""A news portal on 127.0.0.1 for ``vnsearch follow``: feeds, sitemaps, pages and broken things.

Served by ``http.server`` in a thread. Every document is held in memory (``Portal.put``) and
answered with an ETag and a Last-Modified, honouring If-None-Match / If-Modified-Since with a 304,
as a real portal behind a cache does. Error cases are routes of their own: ``/missing`` (404),
``/slow`` (drips its body), ``/loop-a`` ⇄ ``/loop-b`` (redirect loop), ``/moved`` (one redirect),
``/broken.rss`` (malformed XML), ``/private/`` (disallowed by robots.txt). Every request is
logged in ``requests`` (path, status, conditional or not) so tests can check what was asked.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
ROBOTS = "User-agent: *\nDisallow: /private/\n"
SLOW_SECONDS = 6.0


@dataclass
class Doc:
    body: bytes
    content_type: str
    modified: float = field(default_factory=time.time)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Asked:
    path: str
    status: int
    conditional: bool
    user_agent: str
    at: float = field(default_factory=time.monotonic)  # when the request was answered


class Portal:
    """The portal's documents and the log of what was asked; ``url(path)`` is its address."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.requests: list[Asked] = []
        self.lock = threading.Lock()
        self.put("/robots.txt", ROBOTS, "text/plain")
        self.put(
            "/broken.rss",
            "<?xml version='1.0'?><rss version='2.0'><channel><item><link>",
            "application/rss+xml",
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Portal:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self.lock:
            old = self.docs.get(path)
            if old is None or old.body != data:
                self.docs[path] = Doc(data, content_type)

    def asked(self, path: str) -> list[Asked]:
        with self.lock:
            return [a for a in self.requests if a.path == path]


def _handler(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
            status = self._answer(path)
            with portal.lock:
                portal.requests.append(Asked(path, status, conditional, self.headers.get("User-Agent", "")))

        def _answer(self, path: str) -> int:
            if path in ("/loop-a", "/loop-b"):
                return self._redirect("/loop-b" if path == "/loop-a" else "/loop-a")
            if path == "/moved":
                return self._redirect("/articles/thong-xe-cau.html")
            if path == "/slow":
                return self._slow()
            with portal.lock:
                doc = portal.docs.get(path)
            if doc is None:
                return self._send(404, b"<h1>404</h1>", "text/html")
            if self.headers.get("If-None-Match") == doc.etag or self._not_modified_since(doc):
                self.send_response(304)
                self.send_header("ETag", doc.etag)
                self.end_headers()
                return 304
            return self._send(200, doc.body, doc.content_type, doc)

        def _not_modified_since(self, doc: Doc) -> bool:
            since = self.headers.get("If-Modified-Since")
            if not since or "If-None-Match" in self.headers:
                return False
            try:
                return int(doc.modified) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False

        def _send(self, status: int, body: bytes, content_type: str, doc: Doc | None = None) -> int:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if doc is not None:
                self.send_header("ETag", doc.etag)
                self.send_header("Last-Modified", email.utils.formatdate(doc.modified, usegmt=True))
            self.end_headers()
            self.wfile.write(body)
            return status

        def _redirect(self, to: str) -> int:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 302

        def _slow(self) -> int:
            """A page that sends a byte at a time, each within any read timeout, forever enough."""
            body = article_html("Trang chậm", "Nội dung trang chậm.", dt.datetime(2025, 1, 1)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            deadline = time.monotonic() + SLOW_SECONDS
            try:
                for i in range(len(body)):
                    if time.monotonic() > deadline:
                        break
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return 200

    return Handler


def article_html(title: str, body: str, published: dt.datetime, category: str = "Thời sự") -> str:
    """An article page as a portal renders one: menus around it, the story in <article>."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n") if p.strip())
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>{html.escape(title)} - Báo Mẫu</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="Báo Mẫu">
<meta property="article:published_time" content="{published.isoformat()}+07:00">
<meta property="article:section" content="{html.escape(category)}">
</head><body><nav><a href="/">Trang chủ</a> <a href="/thoi-su">Thời sự</a></nav>
<main><article><h1>{html.escape(title)}</h1>{paragraphs}</article></main>
<footer>Báo Mẫu — Giấy phép số 01/GP</footer></body></html>"""


def rss(items: list[tuple[str, str, dt.datetime]], title: str = "Báo Mẫu - Tin mới") -> str:
    """An RSS 2.0 feed of (link, title, published) items."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>"
        f"<pubDate>{email.utils.format_datetime(when.replace(tzinfo=dt.timezone(dt.timedelta(hours=7))))}</pubDate>"
        f"<description>&lt;p&gt;{html.escape(t)}&lt;/p&gt;</description></item>"
        for link, t, when in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>{html.escape(title)}</title><link>http://127.0.0.1/</link><description>Tin mới</description>
{entries}</channel></rss>"""


def atom(items: list[tuple[str, str, dt.datetime]]) -> str:
    entries = "".join(
        f"<entry><title>{html.escape(t)}</title><link href='{html.escape(link)}'/>"
        f"<id>{html.escape(link)}</id>"
        f"<updated>{when.isoformat()}+07:00</updated></entry>"
        for link, t, when in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Báo Mẫu</title><id>urn:bao-mau</id><updated>2025-01-01T00:00:00Z</updated>{entries}</feed>"""


def sitemap(urls: list[tuple[str, str | None]], news: bool = False) -> str:
    """A sitemap of (loc, lastmod) entries; a news sitemap gives each a publication date and title."""
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    rows = []
    for loc, lastmod in urls:
        extra = f"<lastmod>{lastmod}</lastmod>" if lastmod and not news else ""
        if news:
            extra = (
                "<news:news><news:publication><news:name>Báo Mẫu</news:name><news:language>vi</news:language>"
                f"</news:publication><news:publication_date>{lastmod}</news:publication_date>"
                "<news:title>Tin từ sitemap</news:title></news:news>"
            )
        rows.append(f"<url><loc>{html.escape(loc)}</loc>{extra}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{"".join(rows)}</urlset>'
    )


def sitemap_index(children: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<sitemap><loc>{html.escape(loc)}</loc>{f'<lastmod>{m}</lastmod>' if m else ''}</sitemap>"
        for loc, m in children
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
    )
