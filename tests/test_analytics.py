"""What readers searched for: the search log (real SQLite), the web hooks and ``vnsearch report``."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import sqlite3
import time

import pytest
from click.testing import CliRunner
from web_fixtures import shared_index

from indexer.cli import main
from search import analytics
from web import create_app


def logged(path, *searches) -> None:
    log = analytics.SearchLog(path)
    for search in searches:
        assert log.record(*search)
    log.close()


def test_the_log_keeps_what_was_typed_and_its_normal_form_but_no_one_who_typed_it(tmp_path):
    path = tmp_path / "a.sqlite3"
    logged(
        path,
        ("Hoà Bình", 3, False, {"category": "Thời sự"}, "page"),
        ("hòa  bình", 3, False, {"category": "Thời sự"}, "api"),
        ("bao lu quang nam", 0, True, {}, "api"),
        ("bao lu quang nam", 0, True, {}, "api"),
        ("khoa học", 12, False, {"from": dt.date(2024, 1, 1)}, "page", False),  # page 2: not a new query
    )
    db = sqlite3.connect(path)
    columns = [row[1] for row in db.execute("PRAGMA table_info(searches)")]
    assert columns == [
        "day", "query", "normalized", "filters", "total", "relaxed", "unaccented",
        "channel", "first_page", "count",
    ]  # fmt: skip
    rows = db.execute(
        "SELECT query, normalized, filters, unaccented, count FROM searches ORDER BY query"
    ).fetchall()
    assert ("Hoà Bình", "hòa bình", '{"category": "Thời sự"}', 0, 1) in rows
    assert ("bao lu quang nam", "bao lu quang nam", "{}", 1, 2) in rows  # one row, counted twice
    assert ("khoa học", "khoa học", '{"from": "2024-01-01"}', 0, 1) in rows
    assert db.execute("SELECT DISTINCT day FROM searches").fetchall() == [(dt.date.today().isoformat(),)]
    report = analytics.report(path, days=7)
    assert report["searches"] == 4 and report["requests"] == 5
    assert (
        report["share_unaccented"] == 0.5 and report["share_relaxed"] == 0.5 and report["share_zero"] == 0.5
    )
    assert [(r["query"], r["count"]) for r in report["top"]] == [("bao lu quang nam", 2), ("Hoà Bình", 2)]
    assert [(r["query"], r["count"]) for r in report["zero_results"]] == [("bao lu quang nam", 2)]


def test_old_days_are_deleted_after_the_retention(tmp_path):
    path = tmp_path / "a.sqlite3"
    logged(path, ("tin mới", 1, False, {}, "api"))
    db = analytics.connect(path)
    old = (dt.date.today() - dt.timedelta(days=31)).isoformat()
    copy = "?, query, normalized, filters, total, relaxed, unaccented, channel, first_page, count"
    db.execute(f"INSERT INTO searches SELECT {copy} FROM searches", (old,))
    assert analytics.purge(db, retention_days=30) == 1
    assert db.execute("SELECT day FROM searches").fetchall() == [(dt.date.today().isoformat(),)]


def test_a_full_queue_drops_and_counts_instead_of_waiting(tmp_path):
    path = tmp_path / "a.sqlite3"
    analytics.connect(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer thread waits for this lock (busy timeout)
    log = analytics.SearchLog(path, queue_size=3, flush_seconds=0.05)
    assert log.record("một", 1, False, {}, "api")
    time.sleep(0.3)  # the writer took it and waits for the lock
    slowest = 0.0
    outcomes = []
    for n in range(10):
        started = time.perf_counter()
        outcomes.append(log.record(f"tìm {n}", 1, False, {}, "api"))
        slowest = max(slowest, time.perf_counter() - started)
    assert outcomes == [True] * 3 + [False] * 7 and log.dropped == 7
    assert slowest < 0.05  # a request never waits for the database
    blocker.execute("COMMIT")
    log.close()
    assert analytics.report(path)["requests"] == 4


def _record_many(path, n: int) -> None:
    log = analytics.SearchLog(path, flush_seconds=0.01)
    for i in range(n):
        log.record(f"truy vấn {i % 7}", i % 3, False, {}, "api")
    log.close()


def test_several_processes_write_one_log(tmp_path):
    path = tmp_path / "a.sqlite3"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_record_many, args=(path, 3000)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert analytics.report(path)["searches"] == 9000


def _record_together(path, barrier) -> None:
    barrier.wait(10)
    logged(path, ("lũ quét", 2, False, {}, "api"))


def test_workers_writing_their_first_searches_together_into_a_new_log_lose_none(tmp_path):
    """Two gunicorn workers stopped at once both create the log: SQLite refuses the switch to
    WAL at once (not after the busy timeout) while the other creates the file."""
    ctx = multiprocessing.get_context("fork")
    for round_ in range(40):
        path = tmp_path / f"{round_}.sqlite3"
        barrier = ctx.Barrier(3)
        procs = [ctx.Process(target=_record_together, args=(path, barrier)) for _ in range(3)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        assert [proc.exitcode for proc in procs] == [0, 0, 0]
        assert analytics.report(path)["requests"] == 3, f"round {round_}"


@pytest.fixture
def app(tmp_path_factory, tmp_path):
    app = create_app({"INDEX": str(shared_index(tmp_path_factory)), "ANALYTICS_DB": str(tmp_path / "l.db")})
    yield app
    log = app.extensions["vnsearch.analytics"]
    if log is not None:
        log.close()


def test_the_page_and_the_api_record_each_search_and_the_report_reads_them(app, tmp_path):
    client = app.test_client()
    for url in (
        "/?q=khoa+hoc",
        "/?q=khoa+hoc&page=2",
        "/api/search?q=Khoa%20học&category=Khoa%20học",
        "/api/search?q=zzzqqq",
        "/",
        "/api/search?page=0",
    ):
        client.get(url)
    app.extensions["vnsearch.analytics"].close()
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "l.db"), "--days", "7"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "searches   3 in the last 7 day(s)" in out and "requests   4" in out
    assert "no diacritics  66.7%" in out and "no results     33.3%" in out
    top = out.split("Top queries:")[1].split("Queries that found nothing:")
    assert "      1  khoa hoc\n" in top[0] and "      1  Khoa học\n" in top[0]  # page 2 is not one more
    assert "      1  zzzqqq" in top[1]
    as_json = json.loads(
        CliRunner().invoke(main, ["report", "--db", str(tmp_path / "l.db"), "--json"]).output
    )
    assert as_json["zero_results"] == [
        {"query": "zzzqqq", "normalized": "zzzqqq", "count": 1, "zero": 1, "relaxed": 0}
    ]


def test_one_setting_turns_the_log_off(tmp_path_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("VNSEARCH_ANALYTICS", "0")
    app = create_app({"INDEX": str(shared_index(tmp_path_factory)), "ANALYTICS_DB": str(tmp_path / "l.db")})
    assert app.test_client().get("/api/search?q=khoa+hoc").status_code == 200
    assert app.extensions["vnsearch.analytics"] is None and not (tmp_path / "l.db").exists()
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "l.db")])
    assert result.exit_code == 1 and "no search log" in result.output
