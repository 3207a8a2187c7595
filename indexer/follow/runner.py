"""The follow loop: poll sources when due, fetch what they list, commit articles in batches.

One thread does everything, in this order of priority: poll the sources whose time has come (a
feed's new article must not wait behind a sitemap's backlog), fetch pending pages (feed pages
first) while each host's turn allows, and commit the batch once it is full or ``batch_seconds``
old. ``stop()`` (SIGTERM, SIGINT) ends the loop at the next page: the batch in hand is committed
and the state saved, so a restart resumes where this one stopped.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import search
from indexer.follow import metrics
from indexer.follow.fetch import Fetcher, FetchError, Response, Stopped
from indexer.follow.listing import FEED, NEWS_SITEMAP, ListingError, read_listing
from indexer.follow.pages import article_from
from indexer.follow.settings import Settings
from indexer.follow.state import FILE_NAME, State
from indexer.records import Rejection

log = logging.getLogger("vnsearch.follow")
TODO_CHUNK = 64  # pending pages read from the state at a time
IDLE_MAX = 5.0  # seconds the loop sleeps at most before looking again
METRICS_SECONDS = 1.0  # follow.prom is rewritten at most this often (and at the end)


class Follower:
    """``vnsearch follow`` for one index; ``run()`` returns after ``stop()`` (or one pass, ``once``)."""

    def __init__(
        self,
        index_dir: Path,
        settings: Settings,
        state_path: Path | None = None,
        metrics_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.index = search.Index(index_dir, workers=settings.workers)
        self.state = State(state_path or index_dir / FILE_NAME)
        self.state.configured(settings.sources)
        self.metrics_path = metrics_path or index_dir / metrics.FILE_NAME
        self._stop = threading.Event()
        self.fetcher = Fetcher(settings, wait=self._stop.wait)
        self.batch: list[tuple[str, dict, Response]] = []
        self.batch_started: float | None = None
        self._metrics_written = 0.0

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, once: bool = False) -> None:
        """Follow until stopped; with ``once``, until every source was polled (due or not) and
        every page that can be fetched now was (a page waiting for a retry is left for the next run)."""
        first = True
        try:
            while not self.stopping:
                polled = self._poll_due(everything=once and first)
                first = False
                fetched = self._fetch_ready()
                waiting = bool(self.state.todo(time.time(), 1))  # due pages, maybe not their hosts' turn
                if self._batch_due() or not waiting:  # no page to add: commit at once, for freshness
                    self.flush()
                self._write_metrics()
                if once and not polled and not waiting:
                    break
                if not polled and not fetched:
                    self._stop.wait(self._idle_seconds())
        except Stopped:
            pass
        finally:
            self.flush()
            self._write_metrics(force=True)
            self.fetcher.close()
            self.state.close()

    # --- sources -----------------------------------------------------------------------------

    def _poll_due(self, everything: bool = False) -> int:
        """Poll the sources whose time has come (all of them, for the first pass of ``once``)."""
        due = self.state.due_sources(self.settings.sources, float("inf") if everything else time.time())
        for source in due:
            if self.stopping:
                break
            self._poll(source)
        return len(due)

    def _poll(self, source) -> None:
        url = source["url"]
        interval = self._interval(source["kind"])
        try:
            response = self.fetcher.get(
                url, self.settings.max_feed_bytes, source["etag"], source["last_modified"]
            )
        except FetchError as exc:
            self._source_failed(source, interval, str(exc), exc.kind)
            return
        if response.not_modified:
            self.state.polled(url, time.time() + interval)
            self.state.count("polls", result="not_modified")
            return
        try:
            listing = read_listing(
                url,
                response.body,
                self.settings.max_feed_bytes,
                self.settings.max_sitemap_urls,
                response.content_type,
            )
        except ListingError as exc:
            self._source_failed(source, interval, f"{url}: {exc}", "malformed")
            return
        if listing.warning:
            log.warning("%s: %s", url, listing.warning)
        if listing.truncated:
            log.warning("%s: only the first %s entries read", url, f"{self.settings.max_sitemap_urls:,}")
        if listing.children:
            self.state.listed_sitemaps(url, listing.children)
        priority = 0 if listing.kind in (FEED, NEWS_SITEMAP) else 1
        due = self.state.listed_pages(url, listing.links, priority)
        interval = self._interval(listing.kind)
        self.state.polled(url, time.time() + interval, listing.kind, response.etag, response.last_modified)
        self.state.count("polls", result="ok")
        log.info("%s: %s, %d link(s), %d new or changed", url, listing.kind, len(listing.links), due)

    def _source_failed(self, source, interval: float, message: str, kind: str) -> None:
        """Logged and skipped; polled again later, less often while it keeps failing (at most hourly)."""
        log.warning("skip source %s", message)
        backoff = min(interval * 2 ** min(source["failures"], 10), max(interval, 3600.0))
        self.state.polled(source["url"], time.time() + backoff, error=message)
        self.state.count("polls", result="error")
        self.state.count("errors", kind=kind)

    def _interval(self, kind: str | None) -> float:
        if kind in (FEED, NEWS_SITEMAP, None):
            return self.settings.feed_interval
        return self.settings.sitemap_interval

    # --- pages ---------------------------------------------------------------------------------

    def _fetch_ready(self) -> int:
        """Fetch pending pages whose host may be asked now; returns how many were tried."""
        tried = 0
        while not self.stopping and not self._source_due():
            ready = [
                row
                for row in self.state.todo(time.time(), TODO_CHUNK)
                if not self.fetcher.ready_in(row["url"])
            ]
            if not ready:
                break
            for row in ready[:1]:  # one at a time: a source may come due, a host's turn pass
                self._fetch(row)
                tried += 1
            if self._batch_due():
                self.flush()
        return tried

    def _fetch(self, row) -> None:
        url = row["url"]
        try:  # with the validators of the last fetch, if any: an unchanged page is a 304
            response = self.fetcher.get(url, self.settings.max_page_bytes, row["etag"], row["last_modified"])
        except FetchError as exc:
            self._page_failed(row, exc)
            return
        self.state.count("pages_fetched")
        if response.not_modified:
            self.state.count("pages_not_modified")
            self.state.indexed(
                [{"url": url, "etag": row["etag"], "last_modified": row["last_modified"], "article_id": None}]
            )
            return
        article = article_from(response, json.loads(row["hints"] or "{}"))
        if isinstance(article, Rejection):
            log.warning("skip page %s", article)
            self.state.failed(url, str(article), None, final_status="rejected")
            self.state.count("pages_rejected")
            return
        self.state.fetched(url)
        if not self.batch:
            self.batch_started = time.monotonic()
        self.batch.append((url, article, response))

    def _page_failed(self, row, exc: FetchError) -> None:
        failures = row["failures"] + 1
        retry = exc.transient and failures < self.settings.max_failures
        retry_in = self.settings.retry_after * 2 ** (failures - 1) if retry else None
        later = f"; trying again in {retry_in:.0f} s" if retry_in else ""
        log.warning("skip page %s%s", exc, later)
        self.state.failed(row["url"], str(exc), retry_in)
        self.state.count("errors", kind=exc.kind)

    # --- committing ----------------------------------------------------------------------------

    def _batch_due(self) -> bool:
        if not self.batch:
            return False
        full = len(self.batch) >= self.settings.batch_size
        return full or time.monotonic() - (self.batch_started or 0) >= self.settings.batch_seconds

    def flush(self) -> None:
        """Commit the batch; its pages are marked indexed only once the commit is done. When the
        index cannot be written now (a reindex holds its lock, the disk is full), the batch is kept
        and tried again after ``batch_seconds``; if the process stops first, the pages are still
        pending in the state and are fetched again on restart."""
        if not self.batch:
            return
        failed: dict[str, str] = {}

        def on_error(article, reason: str) -> None:
            failed[str(article.get("origin"))] = reason

        try:
            with self.index.updating() as writer:
                writer.upsert_many([article for _, article, _ in self.batch], on_error=on_error)
        except (search.SearchError, OSError) as exc:
            log.error("cannot commit %d article(s) now: %s", len(self.batch), exc)
            self.state.count("errors", kind="commit")
            self.batch_started = time.monotonic()
            return
        done = []
        for url, article, response in self.batch:
            if url in failed:
                log.warning("skip page %s: cannot be indexed (%s)", url, failed[url])
                self.state.failed(url, failed[url], None, final_status="rejected")
                self.state.count("pages_rejected")
                continue
            done.append(
                {"url": url, "etag": response.etag, "last_modified": response.last_modified,
                 "article_id": article["id"]}
            )  # fmt: skip
        self.state.indexed(done)
        self.state.count("articles_indexed", len(done))
        self.state.count("commits")
        self.state.set_time("last_commit")
        log.info("committed %d article(s)", len(done))
        self.batch, self.batch_started = [], None

    # --- waiting -------------------------------------------------------------------------------

    def _source_due(self) -> bool:
        next_poll = self.state.next_poll(self.settings.sources)
        return next_poll is not None and next_poll <= time.time()

    def _idle_seconds(self) -> float:
        """Until the next source poll, page retry or batch deadline, the soonest; at most IDLE_MAX."""
        now = time.time()
        waits = [IDLE_MAX]
        next_poll, next_try = self.state.next_poll(self.settings.sources), self.state.next_try()
        if next_poll is not None:
            waits.append(next_poll - now)
        if next_try is not None and next_try > now:
            waits.append(next_try - now)
        elif next_try is not None:  # pages are due, their hosts' turns are not
            waits += [self.fetcher.ready_in(row["url"]) for row in self.state.todo(now, TODO_CHUNK)]
        if self.batch and self.batch_started is not None:
            waits.append(self.settings.batch_seconds - (time.monotonic() - self.batch_started))
        return max(0.05, min(waits))

    def _write_metrics(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._metrics_written < METRICS_SECONDS:
            return
        self._metrics_written = time.monotonic()
        try:
            metrics.write(self.metrics_path, self.state)
        except OSError as exc:
            log.warning("cannot write %s: %s", self.metrics_path, exc)
