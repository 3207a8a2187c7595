"""Cross-origin reading of the JSON API by the origins the operator lists (none by default).

``VNSEARCH_CORS_ORIGINS``: origins separated by commas (``https://a.example,https://b.example``),
or ``*`` for any. A listed origin's preflight (OPTIONS with ``Access-Control-Request-Method: GET``)
gets a 204; its GET and HEAD answers, errors included, carry ``Access-Control-Allow-Origin``. The
API takes no credentials, so none are allowed. Anything else is answered as before: OPTIONS is a
405, as for any method but GET and HEAD.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

METHODS = "GET, HEAD"
ALLOWED_HEADERS = "Accept, Accept-Language, If-None-Match"
EXPOSED_HEADERS = "ETag"
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight answer


def origins(app: Flask) -> frozenset[str]:
    """The configured origins, from a comma-separated string or a list."""
    value = app.config.get("CORS_ORIGINS") or ""
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(str(item).strip().rstrip("/") for item in items if str(item).strip())


def allowed_origin() -> str | None:
    """The value of Access-Control-Allow-Origin for this request, None when not allowed."""
    if not (request.path.startswith("/api/") or request.path == "/healthz"):
        return None
    listed = current_app.extensions["vnsearch_cors"]
    origin = request.headers.get("Origin")
    if "*" in listed:
        return "*"
    return origin if origin and origin in listed else None


def preflight() -> Response | None:
    """204 to the preflight of a listed origin asking for GET or HEAD."""
    if request.method != "OPTIONS":
        return None
    origin = allowed_origin()
    asked = request.headers.get("Access-Control-Request-Method", "")
    if origin is None or asked not in ("GET", "HEAD"):
        return None
    response = Response(status=204)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response.vary.add("Origin")
    return response


def allow(response: Response) -> Response:
    if request.method != "OPTIONS" and (origin := allowed_origin()) is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.path.startswith("/api/") or request.path == "/healthz":
        response.vary.add("Origin")
    return response


def register(app: Flask) -> None:
    app.extensions["vnsearch_cors"] = origins(app)
    app.before_request(preflight)
    app.after_request(allow)
