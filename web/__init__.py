"""vnsearch web: the Vietnamese search page and the JSON API over a search.Index.

Uses only the public ``search`` API. Run it with ``vnsearch serve --index DIR`` or
``gunicorn -c web/gunicorn.conf.py "web:create_app()"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_compress import Compress

from web import analytics, api, caching, cors, errors, feed, formatting, metrics, pages, security
from web.index import IndexHolder

DEFAULTS: dict[str, Any] = {
    "INDEX": ".vnsearch/index",  # VNSEARCH_INDEX
    "CACHE_SIZE": 512,  # VNSEARCH_CACHE_SIZE: results kept per worker (0 = none)
    "CORS_ORIGINS": "",  # VNSEARCH_CORS_ORIGINS: origins allowed to read the API ("*": any), comma-separated
    "CACHE_MAX_AGE": 60,  # VNSEARCH_CACHE_MAX_AGE: seconds a client may reuse an answer unasked
    "COMPRESS_ALGORITHM": "gzip",
    "COMPRESS_MIN_SIZE": 1024,  # smaller answers are sent as they are
    "COMPRESS_STREAMS": False,  # static files stream from disk as they are (a few kB)
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Config comes from DEFAULTS, then VNSEARCH_* environment variables, then ``config``."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("VNSEARCH")
    if config is not None:
        app.config.from_mapping(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese stays readable
    app.json.sort_keys = False  # type: ignore[attr-defined]  # fields in the documented order
    app.extensions["vnsearch"] = IndexHolder(str(app.config["INDEX"]), int(app.config["CACHE_SIZE"]))
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feed.bp)
    errors.register(app)
    security.register(app)
    formatting.register(app)
    Compress(app)
    caching.register(app)  # after Compress: its after_request runs first
    cors.register(app)
    analytics.init_app(app)  # VNSEARCH_ANALYTICS=0 turns the search log off
    metrics.init_app(app)
    return app
