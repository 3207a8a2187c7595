"""Escaping, link schemes, security headers and what a client can never trigger:
a 500, a stack trace, or script from a query or an article."""

from __future__ import annotations

import lxml.html
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from web_fixtures import XSS_ID, shared_index

import search
from web import create_app
from web.security import CONTENT_SECURITY_POLICY

XSS_QUERY = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    app = create_app({"INDEX": str(shared_index(tmp_path_factory)), "TESTING": True})
    return app.test_client()


def injected(html: str) -> list[str]:
    """Elements or attributes a browser would run, found by parsing like a browser."""
    doc = lxml.html.fromstring(html)
    found = [el.tag for el in doc.iter("script", "img", "iframe") if not is_own_script(el)]
    found += [f"{el.tag}@{name}" for el in doc.iter() for name in el.attrib if name.lower().startswith("on")]
    found += [href for href in doc.xpath("//@href") if href.strip().lower().startswith("javascript")]
    return found


def is_own_script(el) -> bool:
    """The app's one script: a static file of its own, nothing inline."""
    return el.tag == "script" and el.get("src") == "/static/suggest.js" and not (el.text or "").strip()


def test_query_is_escaped_in_page(client):
    params = {"q": XSS_QUERY, "category": XSS_QUERY, "size": XSS_QUERY[:3]}
    html = client.get("/", query_string=params).get_data(as_text=True)
    assert injected(html) == []
    html = client.get("/", query_string={**params, "size": "5"}).get_data(as_text=True)
    assert injected(html) == []
    doc = lxml.html.fromstring(html)
    assert doc.xpath("//input[@name='q']/@value") == [XSS_QUERY]
    assert XSS_QUERY in doc.xpath("string(//p[@class='active-filters'])")
    assert doc.xpath("//select[@name='category']/option[@selected]/@value") == [XSS_QUERY]


def test_query_is_escaped_in_the_error_page(client):
    response = client.get("/", query_string={"q": XSS_QUERY, "from": "<script>alert(3)</script>"})
    assert response.status_code == 400
    assert injected(response.get_data(as_text=True)) == []


def test_article_markup_renders_as_text(client):
    html = client.get("/", query_string={"q": "lua dao"}).get_data(as_text=True)
    assert injected(html) == []
    doc = lxml.html.fromstring(html)
    hit = doc.xpath(f"//li[@class='hit'][.//a[starts-with(@href, '/articles/{XSS_ID}/related')]]")[0]
    assert '<script>alert("xss-title")</script>' in hit.xpath("string(.//h3)")
    assert "<img src=x onerror=" in hit.xpath("string(.//p[@class='snippet'])")


def test_javascript_url_is_not_a_link(client):
    doc = lxml.html.fromstring(client.get("/?q=lua+dao").get_data(as_text=True))
    title = doc.xpath(f"//li[@class='hit'][.//a[starts-with(@href, '/articles/{XSS_ID}/related')]]//h3")[0]
    assert [a.get("href") for a in title.xpath(".//a")] == [f"/articles/{XSS_ID}?q=lua+dao"]


def test_related_page_escapes_too(client):
    response = client.get(f"/articles/{XSS_ID}/related")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert injected(html) == []
    assert '<script>alert("xss-title")</script>' in lxml.html.fromstring(html).xpath("string(//h1)")


def test_api_keeps_article_text_as_data(client):
    data = client.get(f"/api/articles/{XSS_ID}").get_json()
    assert data["title"].startswith("<script>")
    hit = next(h for h in client.get("/api/search?q=lua+dao").get_json()["hits"] if h["id"] == XSS_ID)
    assert "<script>" not in hit["title_html"] and "&lt;script&gt;" in hit["title_html"]


@pytest.mark.parametrize(
    "path", ["/", "/?q=khoa+hoc", "/?page=0", "/nope", "/api/search?q=a", "/api/nope", "/healthz"]
)
def test_security_headers_everywhere(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "query", "location"),
    [
        ("//api//search", "q=a", "/api/search?q=a"),
        ("/api//articles//kh-1", "", "/api/articles/kh-1"),
        ("//api//articles//kh-1//related", "size=2", "/api/articles/kh-1/related?size=2"),
    ],
)
def test_redirects_never_name_the_host_header(client, path, query, location):
    """Werkzeug merges slashes with a redirect it builds from the Host header."""
    response = client.get(
        "/", environ_overrides={"PATH_INFO": path, "QUERY_STRING": query}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 308
    assert response.headers["Location"] == location
    assert response.headers["X-Frame-Options"] == "DENY"


def test_csp_allows_only_the_apps_own_script_files():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


@pytest.fixture
def failing_client(tmp_path_factory, monkeypatch) -> FlaskClient:
    """An app whose core blows up, run as in production (exceptions not propagated)."""

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(search.Index, "search", explode)
    app = create_app({"INDEX": str(shared_index(tmp_path_factory))})
    return app.test_client()


def test_server_error_shows_no_internals(failing_client):
    for path, kind in (("/api/search?q=a", "application/json"), ("/?q=a", "text/html")):
        response = failing_client.get(path)
        assert response.status_code == 500
        assert response.mimetype == kind
        body = response.get_data(as_text=True)
        assert "secret" not in body and "Traceback" not in body
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert failing_client.get("/api/search?q=a").get_json()["error"]["code"] == "server_error"


def test_corrupt_index_is_503_without_the_path(tmp_path_factory, monkeypatch):
    def corrupt(*args, **kwargs):
        raise search.IndexCorruptError("/srv/private/index/CURRENT is corrupt")

    monkeypatch.setattr(search.Index, "search", corrupt)
    client = create_app({"INDEX": str(shared_index(tmp_path_factory))}).test_client()
    api = client.get("/api/search?q=a")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    html = client.get("/?q=a")
    assert html.status_code == 503 and "chưa sẵn sàng" in html.get_data(as_text=True)
    assert "/srv/private" not in api.get_data(as_text=True) + html.get_data(as_text=True)


PARAM_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1", "1000", "1001", "2023-02-29", "2024-02-29", "9" * 30]),
)


@settings(max_examples=150, deadline=None)
@given(
    path=st.sampled_from(["/", "/api/search"]),
    params=st.dictionaries(
        st.sampled_from(["q", "from", "to", "category", "sort", "page", "size", "x"]), PARAM_VALUES
    ),
)
def test_no_parameter_makes_a_server_error(client, path, params):
    response = client.get(path, query_string=params)
    if path == "/" and response.status_code == 302:  # to the canonical URL, without empty parameters
        assert response.headers["Location"].startswith("/?") or response.headers["Location"] == "/"
        response = client.get(response.headers["Location"])
    assert response.status_code in (200, 400), (params, response.get_data(as_text=True)[:500])
    if path == "/api/search" and response.status_code == 400:
        error = response.get_json()["error"]
        assert set(error) == {"code", "message", "param"} and error["param"] in params


@settings(max_examples=60, deadline=None)
@given(article_id=st.text(min_size=1, max_size=30).filter(lambda s: "/" not in s))
def test_no_article_id_makes_a_server_error(client, article_id):
    for path in (f"/api/articles/{article_id}", f"/api/articles/{article_id}/related"):
        assert client.get(path).status_code < 500, article_id  # 200, 404, or 308 to a cleaner URL


@pytest.mark.parametrize("query", ["co/", "mo/", "¡U/", "\x1b\xa0u"])
def test_odd_queries_are_not_a_server_error(client, query):
    assert client.get("/api/search", query_string={"q": query}).status_code in (200, 400)


def test_article_page_escapes_too(client):
    response = client.get(f"/articles/{XSS_ID}", query_string={"q": "lua dao"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert injected(html) == []
    doc = lxml.html.fromstring(html)
    assert '<script>alert("xss-title")</script>' in doc.xpath("string(//h1)")
    assert "<img src=x onerror=" in doc.xpath("string(//div[@class='article-body'])")
