"""``/metrics``: Prometheus text format, counted across every gunicorn worker.

prometheus-client's multiprocess mode: each worker writes its counters and histograms to files in
``PROMETHEUS_MULTIPROC_DIR`` (web/gunicorn.conf.py chooses one, removes it on exit and marks dead
workers; this module makes it);
a scrape, answered by any worker, adds them all up. Without that variable (the Flask test client,
``flask run``) the process's own registry is served. Gauges that describe the index (generation,
articles, newest article) are read at scrape time, and the counters of ``vnsearch follow`` come
from the text file it keeps beside the index (``follow.prom``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

# prometheus_client chooses multiprocess mode when the variable is present, even empty, and then
# writes its files into the current directory: an empty one is taken as unset, before it is imported.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == "":
    del os.environ["PROMETHEUS_MULTIPROC_DIR"]

from flask import Flask, Response, g, request  # noqa: E402
from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

import search  # noqa: E402
from web.index import current_index  # noqa: E402

FOLLOW_FILE = "follow.prom"  # written by `vnsearch follow` beside the index
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Decided once, as prometheus_client decides it when first imported: per-process files or not.
MULTIPROCESS = MULTIPROC_ENV in os.environ
if MULTIPROCESS:
    os.makedirs(os.environ[MULTIPROC_ENV], mode=0o700, exist_ok=True)

REQUESTS = Counter(
    "vnsearch_http_requests", "HTTP requests answered, by endpoint and status.", ["endpoint", "status"]
)
LATENCY = Histogram(
    "vnsearch_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by endpoint.",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
SEARCHES = Counter("vnsearch_searches", "Searches run, by channel (page, api).", ["channel"])
ZERO_RESULTS = Counter("vnsearch_searches_zero_results", "Searches that found nothing.", ["channel"])
RELAXED = Counter("vnsearch_searches_relaxed", "Searches answered with words left out.", ["channel"])
ANALYTICS_DROPPED = Counter(
    "vnsearch_analytics_dropped", "Searches not recorded for the report (queue full or write failed)."
)
log = logging.getLogger("vnsearch.metrics")
_GENERATION = re.compile(r"g(\d+)")


def init_app(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_answered)
    app.add_url_rule("/metrics", "metrics", scrape, methods=["GET"], provide_automatic_options=False)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _answered(response: Response) -> Response:
    """Count every answer; the endpoint is the route's rule, so a URL never becomes a label."""
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    started = g.get("metrics_started")
    REQUESTS.labels(rule, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(rule).observe(time.perf_counter() - started)
    return response


def searched(channel: str, results: search.Results) -> None:
    SEARCHES.labels(channel).inc()
    if results.total == 0:
        ZERO_RESULTS.labels(channel).inc()
    if results.relaxed:
        RELAXED.labels(channel).inc()


def scrape() -> Response:
    index = current_index()
    current = CollectorRegistry(auto_describe=False)
    current.register(_IndexCollector(index))
    current.register(_FollowCollector(index.path / FOLLOW_FILE))
    if MULTIPROCESS:
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    body = generate_latest(counted) + generate_latest(current)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


class _IndexCollector:
    def __init__(self, index: search.Index) -> None:
        self.index = index

    def collect(self) -> Iterator[Metric]:
        generation = self.index.generation
        number = _GENERATION.fullmatch(generation or "")
        yield GaugeMetricFamily(
            "vnsearch_index_generation",
            "Number of the index generation served.",
            int(number[1]) if number else 0,
        )
        yield GaugeMetricFamily("vnsearch_index_articles", "Articles in the index.", self.index.doc_count())
        newest = self.index.search("", sort="newest", per_page=1)
        date = newest.hits[0].date if newest.hits else None
        if date is not None:
            moment = date if isinstance(date, dt.datetime) else dt.datetime.combine(date, dt.time())
            stamp = moment.timestamp()
            yield GaugeMetricFamily(
                "vnsearch_index_newest_article_timestamp_seconds",
                "Publication time of the newest article (local midnight of its day when no time is known).",
                stamp,
            )
            yield GaugeMetricFamily(
                "vnsearch_index_newest_article_age_seconds",
                "Seconds since the newest article's publication time.",
                max(0.0, time.time() - stamp),
            )


class _FollowCollector:
    """The families of ``follow.prom``, re-read at each scrape; a file being replaced or unreadable
    only leaves them out of this scrape."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Iterator[Metric]:
        try:
            text = self.path.read_text(encoding="utf-8")
            families = list(text_string_to_metric_families(text))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return
        yield from families
