"""Recording each search (page and API) for ``vnsearch report`` and the search metrics.

The web layer only calls ``record``; the log itself (SQLite, batched off the request path,
retention) is ``search.analytics``. Settings, as environment variables or ``create_app`` config:
``VNSEARCH_ANALYTICS`` (1; 0 turns recording off), ``VNSEARCH_ANALYTICS_DB`` (default
``analytics.sqlite3`` in the index directory) and ``VNSEARCH_ANALYTICS_DAYS`` (90: older days
are deleted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app

import search
from search import analytics
from web import metrics
from web.params import SearchParams

DEFAULTS: dict[str, Any] = {
    "ANALYTICS": True,
    "ANALYTICS_DB": "",  # empty: analytics.sqlite3 in the index directory
    "ANALYTICS_DAYS": analytics.DEFAULT_RETENTION_DAYS,
}
EXTENSION = "vnsearch.analytics"


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    if not app.config["ANALYTICS"] or str(app.config["ANALYTICS"]).lower() in ("0", "false", "off", "no"):
        app.extensions[EXTENSION] = None
        return
    path = app.config["ANALYTICS_DB"] or Path(app.config["INDEX"]) / analytics.FILE_NAME
    app.extensions[EXTENSION] = analytics.SearchLog(path, retention_days=int(app.config["ANALYTICS_DAYS"]))


def record(channel: str, params: SearchParams, results: search.Results) -> None:
    """Count the search in the metrics and queue it for the log; never slows or fails the request."""
    metrics.searched(channel, results)
    log: analytics.SearchLog | None = current_app.extensions.get(EXTENSION)
    if log is None:
        return
    filters = {
        "from": params.date_from, "to": params.date_to, "category": params.category or None,
        "sort": None if params.sort == "relevance" else params.sort,
        "group": None if params.group else 0, "story": params.story or None,
    }  # fmt: skip
    kept = {name: value for name, value in filters.items() if value not in (None, "")}
    if not log.record(params.q, results.total, results.relaxed, kept, channel, params.page == 1):
        metrics.ANALYTICS_DROPPED.inc()
