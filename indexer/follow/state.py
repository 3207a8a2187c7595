"""What ``vnsearch follow`` remembers between runs, in SQLite beside the index (``follow.sqlite3``).

Sources (feeds and sitemaps, with the ETag/Last-Modified of their last answer and when to poll
them next) and pages (every article URL seen, the lastmod its source gave, the validators of its
last fetch, its status and last error). A page is marked ``indexed`` only after the index commit
that holds it: a process killed in between fetches it again on restart, and loses nothing.

Page statuses: ``pending`` (to fetch), ``fetched`` (in a batch not yet committed: back to pending
on restart), ``indexed``, ``rejected`` (fetched, but the reader found no article), ``failed``
(given up until its source lists a newer lastmod). Counters (pages fetched, errors by kind, …)
live here too, so the ingest metrics survive a restart.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from indexer.follow.listing import Link

FILE_NAME = "follow.sqlite3"
BUSY_TIMEOUT_MS = 10_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    url TEXT PRIMARY KEY,
    parent TEXT,                      -- the sitemap index that lists it; NULL for a configured source
    kind TEXT,                        -- feed, sitemap, news-sitemap, sitemapindex (once read)
    listed_lastmod TEXT,              -- the lastmod its sitemap index gives
    etag TEXT,
    last_modified TEXT,
    next_poll REAL NOT NULL DEFAULT 0,
    last_polled REAL,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    priority INTEGER NOT NULL,        -- 0: from a feed or news sitemap, 1: from a plain sitemap
    lastmod TEXT,                     -- as its source last listed it (UTC ISO text)
    fetched_lastmod TEXT,             -- lastmod when it was last fetched
    hints TEXT,                       -- JSON: title, date, summary, category from the source
    status TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    article_id TEXT,
    discovered_at REAL NOT NULL,
    indexed_at REAL
);
CREATE INDEX IF NOT EXISTS pages_todo ON pages (status, priority, next_try);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL NOT NULL);
"""


class State:
    """One connection, used by the one thread of a follow process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self.db.executescript(_SCHEMA)
        # A batch that was fetched but never committed (the process was killed): fetch it again.
        self.db.execute("UPDATE pages SET status = 'pending' WHERE status = 'fetched'")

    def close(self) -> None:
        self.db.close()

    # --- sources -----------------------------------------------------------------------------

    def configured(self, roots: Iterable[str]) -> None:
        """The sources this run follows (sources of earlier runs stay, but are not polled)."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO sources (url) VALUES (?)", [(u,) for u in roots])

    def due_sources(self, roots: Iterable[str], now: float) -> list[sqlite3.Row]:
        """Configured sources and the sitemaps they list (at any depth) whose poll is due."""
        roots = list(roots)
        marks = ",".join("?" * len(roots)) or "NULL"
        return self.db.execute(
            f"""WITH RECURSIVE live(url) AS (
                    SELECT url FROM sources WHERE url IN ({marks})
                    UNION SELECT s.url FROM sources s JOIN live ON s.parent = live.url)
                SELECT * FROM sources WHERE url IN (SELECT url FROM live) AND next_poll <= ?
                ORDER BY next_poll, url""",
            [*roots, now],
        ).fetchall()

    def next_poll(self, roots: Iterable[str]) -> float | None:
        rows = self.due_sources(roots, float("inf"))
        return min((row["next_poll"] for row in rows), default=None)

    def polled(
        self,
        url: str,
        next_poll: float,
        kind: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record a poll: validators and kind when it answered, the error when it did not."""
        if error is None:
            self.db.execute(
                """UPDATE sources SET kind = COALESCE(?, kind), etag = COALESCE(?, etag),
                   last_modified = COALESCE(?, last_modified), next_poll = ?, last_polled = ?,
                   last_error = NULL, failures = 0 WHERE url = ?""",
                (kind, etag, last_modified, next_poll, time.time(), url),
            )
        else:
            self.db.execute(
                """UPDATE sources SET next_poll = ?, last_polled = ?, last_error = ?,
                   failures = failures + 1 WHERE url = ?""",
                (next_poll, time.time(), error, url),
            )

    def listed_sitemaps(self, parent: str, children: Iterable[Link]) -> None:
        """Sitemaps a sitemap index lists: new ones, and those with a newer lastmod, are due now."""
        with self.db:
            for child in children:
                self.db.execute(
                    """INSERT INTO sources (url, parent, listed_lastmod) VALUES (?, ?, ?)
                       ON CONFLICT (url) DO UPDATE SET parent = excluded.parent,
                         listed_lastmod = excluded.listed_lastmod,
                         next_poll = CASE WHEN excluded.listed_lastmod > COALESCE(listed_lastmod, '')
                                          THEN 0 ELSE next_poll END""",
                    (child.url, parent, child.lastmod),
                )

    # --- pages ---------------------------------------------------------------------------------

    def listed_pages(self, source: str, links: Iterable[Link], priority: int) -> int:
        """Record what a source lists; returns how many pages are new or have a newer lastmod."""
        now = time.time()
        due = 0
        with self.db:
            for link in links:
                hints = json.dumps(_hints(link), ensure_ascii=False)
                row = self.db.execute(
                    "SELECT status, lastmod, fetched_lastmod FROM pages WHERE url = ?", (link.url,)
                ).fetchone()
                if row is None:
                    self.db.execute(
                        """INSERT INTO pages (url, source, priority, lastmod, hints, status, discovered_at)
                           VALUES (?, ?, ?, ?, ?, 'pending', ?)""",
                        (link.url, source, priority, link.lastmod, hints, now),
                    )
                    due += 1
                elif _newer(link.lastmod, row["fetched_lastmod"] or row["lastmod"]) and row["status"] not in (
                    "pending",
                    "fetched",
                ):
                    self.db.execute(
                        """UPDATE pages SET status = 'pending', lastmod = ?, hints = ?, failures = 0,
                           next_try = 0, priority = MIN(priority, ?) WHERE url = ?""",
                        (link.lastmod, hints, priority, link.url),
                    )
                    due += 1
                else:
                    self.db.execute(
                        """UPDATE pages SET lastmod = COALESCE(?, lastmod), hints = ?,
                           priority = MIN(priority, ?) WHERE url = ?""",
                        (link.lastmod, hints, priority, link.url),
                    )
        return due

    def todo(self, now: float, limit: int) -> list[sqlite3.Row]:
        """Pages to fetch now: from feeds first, then the most recently modified."""
        return self.db.execute(
            """SELECT * FROM pages WHERE status = 'pending' AND next_try <= ?
               ORDER BY priority, lastmod IS NULL, lastmod DESC, discovered_at LIMIT ?""",
            (now, limit),
        ).fetchall()

    def next_try(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_try) FROM pages WHERE status = 'pending'").fetchone()
        return row[0]

    def fetched(self, url: str) -> None:
        self.db.execute("UPDATE pages SET status = 'fetched' WHERE url = ?", (url,))

    def indexed(self, pages: Iterable[dict]) -> None:
        """Pages whose articles the index has just committed (or that had not changed: a 304)."""
        now = time.time()
        with self.db:
            self.db.executemany(
                """UPDATE pages SET status = 'indexed', etag = :etag, last_modified = :last_modified,
                   fetched_lastmod = lastmod, article_id = COALESCE(:article_id, article_id),
                   indexed_at = :now, failures = 0, last_error = NULL WHERE url = :url""",
                [{**page, "now": now} for page in pages],
            )

    def unfetched(self, urls: Iterable[str]) -> None:
        """A batch that could not be committed (the index is locked by a reindex): fetch again later."""
        self.db.executemany("UPDATE pages SET status = 'pending' WHERE url = ?", [(u,) for u in urls])

    def failed(self, url: str, error: str, retry_in: float | None, final_status: str = "failed") -> None:
        """A page that could not be fetched or read: tried again in ``retry_in`` seconds, or, when
        that is None, left alone until its source lists a newer lastmod."""
        with self.db:
            if retry_in is None:
                self.db.execute(
                    """UPDATE pages SET status = ?, last_error = ?, failures = failures + 1,
                       fetched_lastmod = lastmod WHERE url = ?""",
                    (final_status, error, url),
                )
            else:
                self.db.execute(
                    """UPDATE pages SET status = 'pending', last_error = ?, failures = failures + 1,
                       next_try = ? WHERE url = ?""",
                    (error, time.time() + retry_in, url),
                )

    def page(self, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()

    def page_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, COUNT(*) FROM pages GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    # --- counters ------------------------------------------------------------------------------

    def count(self, name: str, n: float = 1, **labels: str) -> None:
        """Add ``n`` to a counter (one per name and labels)."""
        key = json.dumps([name, labels], sort_keys=True, ensure_ascii=False)
        self.db.execute(
            """INSERT INTO counters VALUES (?, ?)
               ON CONFLICT (name) DO UPDATE SET value = value + excluded.value""",
            (key, n),
        )

    def set_time(self, name: str) -> None:
        """Remember when something last happened (a gauge: seconds since the epoch)."""
        key = json.dumps([name, {}], sort_keys=True)
        self.db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (key, time.time()))

    def counters(self) -> list[tuple[str, dict[str, str], float]]:
        """Every counter and time as (name, labels, value)."""
        rows = self.db.execute("SELECT name, value FROM counters ORDER BY name").fetchall()
        return [(*json.loads(key), value) for key, value in rows]


def _hints(link: Link) -> dict[str, object]:
    date = link.date.isoformat() if link.date else None
    hints = {"title": link.title, "date": date, "summary": link.summary, "category": link.category}
    return {name: value for name, value in hints.items() if value}


def _newer(listed: str | None, known: str | None) -> bool:
    return bool(listed) and (known is None or listed > known)
