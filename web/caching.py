"""ETag and Cache-Control on pages and API answers, tied to the index: a client or proxy may keep
an answer, and revalidates it with one cheap request (304 without searching) until the index
changes.

The ETag is weak (gzip does not change what the answer says) and names the app's own files, the
index version (generation and commit, ``search.Index.version``) and the URL, so a rebuild, an
incremental update or a new template each give every URL a new one.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from flask import Flask, Response, current_app, g, request

from web.index import current_index

# Answers that depend only on the URL, the index and the app (not /healthz: it reports live state).
CACHED_ENDPOINTS = frozenset(
    {
        "pages.search_page",
        "pages.article",
        "pages.related",
        "api.search",
        "api.article",
        "api.related",
        "api.suggest",
        "api.openapi",
        "api.docs",
    }
)
WEB_DIR = Path(__file__).parent


def app_fingerprint() -> str:
    """The installed version and the web package's own files: what else shapes an answer."""
    digest = hashlib.sha256(metadata.version("vnsearch").encode())
    for path in sorted(WEB_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".html", ".css", ".js", ".svg"}:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def etag() -> str | None:
    """This request's ETag, None when its answer is not cached (worked out once per request)."""
    if "etag" not in g:
        g.etag = _etag()
    return g.etag


def _etag() -> str | None:
    if request.method not in ("GET", "HEAD") or request.endpoint not in CACHED_ENDPOINTS:
        return None
    version = current_index().version or "empty"
    url = request.full_path.encode("utf-8", "surrogateescape")
    key = hashlib.sha256(url).hexdigest()[:16]
    return f"{current_app.config['APP_FINGERPRINT']}-{version}-{key}"


def cache_control() -> str:
    return f"public, max-age={int(current_app.config['CACHE_MAX_AGE'])}"


def not_modified() -> Response | None:
    """A 304 before any work when the client holds the current answer."""
    tag = etag()
    if tag is None or not request.if_none_match.contains_weak(tag):
        return None
    response = Response(status=304)
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = cache_control()
    return response


def tag(response: Response) -> Response:
    """ETag and Cache-Control on a successful cacheable answer."""
    if response.status_code == 200 and (value := etag()) is not None:
        response.set_etag(value, weak=True)
        response.headers["Cache-Control"] = cache_control()
    return response


def register(app: Flask) -> None:
    """After Flask-Compress, so that the ETag is there when it compresses."""
    app.config.setdefault("APP_FINGERPRINT", app_fingerprint())
    app.before_request(not_modified)
    app.after_request(tag)
