"""Security headers on every response: no script but the app's own files, no sniffing, no
framing; and redirects that never name a host, since the Host header is whatever the client sent."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",  # web/static/suggest.js only: no inline script, no eval
        "connect-src 'self'",  # its requests to /api/suggest
        "style-src 'self'",
        "img-src 'self' data: https:",  # thumbnails from the portals (web.formatting.safe_image)
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def relative_location(response: Response) -> Response:
    """Make a redirect's Location a path on this site.

    Werkzeug's own redirects (``//api//search`` → ``/api/search`` when it merges slashes) are
    absolute URLs built from the Host header, so a forged Host sent a reader to another site. The
    app redirects only within itself, so the scheme and host are dropped, and leading slashes are
    merged so the path cannot read as ``//host`` either.
    """
    location = response.headers.get("Location")
    if location is None:
        return response
    parts = urlsplit(location)
    if parts.scheme or parts.netloc or location.startswith(("//", "/\\")):
        path = "/" + parts.path.lstrip("/\\")
        response.headers["Location"] = urlunsplit(("", "", path, parts.query, parts.fragment))
    return response


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.after_request(relative_location)
