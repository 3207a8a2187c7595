"""What readers searched for: a small SQLite log of searches, written off the request path.

Each search is recorded as the query as typed, its normalized form (NFC, lowercase, one tone
placement: "Hoà Bình" and "hòa bình" count as one), the filters, the total, whether it was
relaxed, whether it was typed without any diacritics, the channel (page or api), whether it was
the first page, and the day. Never an address, a cookie or any other user identifier, and no time
finer than the day. Identical searches of a day share one row with a count, so the log grows with
the variety of queries, not with traffic.

Writes go through a bounded queue to one thread per process that commits in batches: a request
only puts a tuple on the queue, and when the queue is full the search is dropped and counted,
never waited for. Several gunicorn workers write the same file: SQLite in WAL mode with a busy
timeout, and each batch is one short transaction.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from search.text import exact_key, has_diacritics, nfc

FILE_NAME = "analytics.sqlite3"
QUEUE_SIZE = 10_000  # searches waiting for the writer; beyond this they are dropped and counted
BATCH = 1_000  # searches per transaction at most
FLUSH_SECONDS = 1.0  # the writer commits what it has at least this often
BUSY_TIMEOUT_MS = 5_000  # another worker's transaction is waited for this long
DEFAULT_RETENTION_DAYS = 90
PURGE_SECONDS = 3600.0  # rows older than the retention are deleted at most this often

log = logging.getLogger("vnsearch.analytics")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    day TEXT NOT NULL,              -- YYYY-MM-DD, the server's local date
    query TEXT NOT NULL,            -- as typed (trimmed)
    normalized TEXT NOT NULL,
    filters TEXT NOT NULL,          -- JSON: from, to, category, sort, group, story (those given)
    total INTEGER NOT NULL,
    relaxed INTEGER NOT NULL,
    unaccented INTEGER NOT NULL,    -- letters typed, not one diacritic among them
    channel TEXT NOT NULL,          -- page or api
    first_page INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, query, filters, total, relaxed, channel, first_page)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS searches_by_day ON searches (day, normalized);
"""


def normalize(query: str) -> str:
    """One spelling per query: NFC, lowercase, canonical tone placement, single spaces."""
    return " ".join(exact_key(word) for word in nfc(query).split())


def typed_without_diacritics(query: str) -> bool:
    """Letters were typed and none carries a mark ("bao lu", not "bão lũ" nor "2024")."""
    return any(c.isalpha() for c in query) and not has_diacritics(query)


def connect(path: Path) -> sqlite3.Connection:
    """A connection that waits for other writers instead of failing, in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _switch_to_wal(db)
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable enough for counts, cheaper fsyncs
    db.executescript(_SCHEMA)
    return db


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """WAL mode, retried for up to the busy timeout: SQLite refuses the switch with "database is
    locked" at once, without waiting, while another connection creates the same file (two workers
    writing their first searches together)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SearchLog:
    """Records searches into ``path``; one per process, its writer thread started on first use (so
    a gunicorn master that preloads the app starts none, each worker its own)."""

    def __init__(
        self,
        path: str | Path,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        queue_size: int = QUEUE_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.flush_seconds = flush_seconds
        self.queue_size = queue_size
        self.dropped = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue | None = None
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._purged = 0.0

    def record(
        self,
        query: str,
        total: int,
        relaxed: bool,
        filters: Mapping[str, object],
        channel: str,
        first_page: bool = True,
    ) -> bool:
        """Queue one search; False (and one more ``dropped``) when the queue is full."""
        filters_json = json.dumps(filters, sort_keys=True, ensure_ascii=False, default=str)
        item = (dt.date.today().isoformat(), query, filters_json, total, relaxed, channel, first_page)
        try:
            self._started().put_nowait(item)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def _started(self) -> queue.Queue:
        if self._pid == os.getpid() and self._queue is not None:
            return self._queue
        with self._lock:
            if self._pid != os.getpid() or self._queue is None:
                self._queue = queue.Queue(self.queue_size)
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._write_loop, name="search-log", daemon=True)
                self._thread.start()
                atexit.register(self.close)
        return self._queue

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued and stop the writer (at process exit)."""
        if self._queue is None or self._pid != os.getpid() or self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _write_loop(self) -> None:
        assert self._queue is not None
        db = None
        stop = False
        while not stop:
            batch, stop = _take(self._queue, self.flush_seconds)
            if not batch:
                continue
            try:
                db = db or connect(self.path)
                write(db, batch)
                self._purge(db)
            except sqlite3.Error as exc:  # a locked or full disk: these searches are lost, counted
                self.dropped += len(batch)
                log.warning("search log %s: %d search(es) not recorded: %s", self.path, len(batch), exc)
        if db is not None:
            db.close()

    def _purge(self, db: sqlite3.Connection) -> None:
        if time.monotonic() - self._purged < PURGE_SECONDS and self._purged:
            return
        self._purged = time.monotonic()
        purge(db, self.retention_days)


def _take(items: queue.Queue, seconds: float) -> tuple[list[tuple], bool]:
    """Up to BATCH queued searches, waiting at most ``seconds`` for the first; True at the end."""
    batch: list[tuple] = []
    deadline = time.monotonic() + seconds
    while len(batch) < BATCH:
        try:
            item = items.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return batch, False
        if item is None:
            while True:  # searches queued before the stop are still written
                try:
                    rest = items.get_nowait()
                except queue.Empty:
                    return batch, True
                if rest is not None:
                    batch.append(rest)
        batch.append(item)
    return batch, False


def write(db: sqlite3.Connection, batch: list[tuple]) -> None:
    """One transaction: each distinct search of the batch adds its count to its row of the day."""
    counts = Counter(batch)
    rows = [
        (day, query, normalize(query), filters, total, int(relaxed), int(typed_without_diacritics(query)),
         channel, int(first), n)
        for (day, query, filters, total, relaxed, channel, first), n in counts.items()
    ]  # fmt: skip
    with db:
        db.executemany(
            """INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT DO UPDATE SET count = count + excluded.count""",
            rows,
        )


def purge(db: sqlite3.Connection, retention_days: int) -> int:
    """Delete the days older than ``retention_days``; returns how many rows went."""
    cutoff = (dt.date.today() - dt.timedelta(days=retention_days)).isoformat()
    with db:
        return db.execute("DELETE FROM searches WHERE day < ?", (cutoff,)).rowcount


def report(path: str | Path, days: int = 7, top: int = 20) -> dict[str, object]:
    """Top queries, zero-result queries and the shares typed without diacritics and relaxed, over
    the last ``days`` days (today included). Counted over first pages of searches with words (a
    reader paging on, or browsing a category with no words, does not count as another query)."""
    db = connect(Path(path))
    try:
        since = (dt.date.today() - dt.timedelta(days=days - 1)).isoformat()
        scope = "day >= ? AND first_page = 1 AND normalized != ''"
        all_requests = db.execute("SELECT COALESCE(SUM(count), 0) FROM searches WHERE day >= ?", (since,))
        totals = db.execute(
            f"""SELECT COALESCE(SUM(count), 0), COALESCE(SUM(count * unaccented), 0),
                       COALESCE(SUM(count * relaxed), 0), COALESCE(SUM(count * (total = 0)), 0)
                FROM searches WHERE {scope}""",
            (since,),
        ).fetchone()
        searches, unaccented, relaxed, zero = totals
        return {
            "days": days,
            "since": since,
            "requests": all_requests.fetchone()[0],
            "searches": searches,
            "share_unaccented": unaccented / searches if searches else 0.0,
            "share_relaxed": relaxed / searches if searches else 0.0,
            "share_zero": zero / searches if searches else 0.0,
            "top": _ranked(db, scope, since, top, ""),
            "zero_results": _ranked(db, scope, since, top, "HAVING SUM(count * (total > 0)) = 0"),
        }
    finally:
        db.close()


def _ranked(db: sqlite3.Connection, scope: str, since: str, top: int, having: str) -> list[dict[str, object]]:
    """Normalized queries by count, each with its most frequent spelling as typed."""
    rows = db.execute(
        f"""SELECT normalized, SUM(count) AS n, SUM(count * (total = 0)) AS zero,
                   SUM(count * relaxed) AS relaxed,
                   (SELECT query FROM searches s WHERE s.normalized = searches.normalized AND {scope}
                    GROUP BY query ORDER BY SUM(count) DESC, query LIMIT 1) AS typed
            FROM searches WHERE {scope} GROUP BY normalized {having}
            ORDER BY n DESC, normalized LIMIT ?""",
        (since, since, top),
    ).fetchall()
    return [{"query": typed, "normalized": norm, "count": n, "zero": zero, "relaxed": rel}
            for norm, n, zero, rel, typed in rows]  # fmt: skip
