"""The follow process's counters as a Prometheus text file beside the index (``follow.prom``).

``vnsearch serve`` adds this file to its ``/metrics`` (web/metrics.py), so one scrape shows
ingest beside serving; node_exporter's textfile collector can read it too. The counts live in
the state database, so they survive a restart of ``follow``; the file is replaced atomically
(prometheus_client's ``write_to_textfile``), so a scrape never reads half of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from indexer.follow.state import State

FILE_NAME = "follow.prom"
PREFIX = "vnsearch_follow_"
HELP = {
    "polls": ("counter", "Polls of feeds and sitemaps, by result (ok, not_modified, error)."),
    "pages_fetched": ("counter", "Article pages fetched (a 304 included)."),
    "pages_not_modified": ("counter", "Article pages that answered 304 Not Modified."),
    "pages_rejected": ("counter", "Fetched pages in which the readers found no article."),
    "articles_indexed": ("counter", "Articles committed to the index."),
    "commits": ("counter", "Batches committed to the index."),
    "errors": ("counter", "Sources and pages skipped, by kind of error."),
    "last_commit": ("gauge", "When the last batch was committed (seconds since the epoch)."),
}
SUFFIX = {"last_commit": "_timestamp_seconds"}


class _StateCollector:
    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for name, labels, value in self.state.counters():
            kind, help_text = HELP.get(name, ("counter", name))
            family = families.get(name)
            if family is None:
                make = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                family = make(PREFIX + name + SUFFIX.get(name, ""), help_text, labels=sorted(labels))
                families[name] = family
            family.add_metric([labels[k] for k in sorted(labels)], value)
        yield from families.values()
        pages = GaugeMetricFamily(PREFIX + "pages", "Article URLs known, by status.", labels=["status"])
        for status, count in sorted(self.state.page_counts().items()):
            pages.add_metric([status], count)
        yield pages


def write(path: Path, state: State) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StateCollector(state))
    write_to_textfile(str(path), registry)
