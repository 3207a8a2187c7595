"""``/metrics``: Prometheus text format, counted across gunicorn's workers, with follow's counters."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from portal_fixture import Portal, article_html, rss
from prometheus_client.parser import text_string_to_metric_families
from test_serve import fetch, free_port, running
from web_fixtures import build_index

import search
from indexer.follow.runner import Follower
from indexer.follow.settings import Settings
from web import create_app

VNSEARCH = Path(sys.executable).with_name("vnsearch")
QUERIES = ["khoa hoc", "bóng đá", "giá vàng", "zzzqqq xyzzy", "khoa học vũ trụ Olympic", "Hà Nội", "lũ"]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_page_counts_requests_searches_and_describes_the_index(tmp_path):
    app = create_app({"INDEX": str(build_index(tmp_path / "ix")), "ANALYTICS": False})
    client = app.test_client()
    before = samples(client.get("/metrics").get_data(as_text=True))
    client.get("/api/search?q=khoa+hoc")
    client.get("/api/search?q=zzzqqq")
    client.get("/nowhere")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=")
    after = samples(response.get_data(as_text=True))

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("vnsearch_http_requests_total", endpoint="/api/search", status="200") == 2
    assert grew("vnsearch_http_requests_total", endpoint="unmatched", status="404") == 1
    assert grew("vnsearch_http_request_duration_seconds_count", endpoint="/api/search") == 2
    assert grew("vnsearch_searches_total", channel="api") == 2
    assert grew("vnsearch_searches_zero_results_total", channel="api") == 1
    assert after[("vnsearch_index_articles", ())] == search.Index(tmp_path / "ix").doc_count()
    assert after[("vnsearch_index_generation", ())] == 1
    newest = dt.date.today() - dt.timedelta(days=1)  # the fixtures' newest article is from yesterday
    age = after[("vnsearch_index_newest_article_age_seconds", ())]
    assert abs(age - (dt.datetime.now() - dt.datetime.combine(newest, dt.time())).total_seconds()) < 60


def test_two_gunicorn_workers_are_counted_together_and_both_write_the_search_log(tmp_path):
    index_dir = build_index(tmp_path / "ix")
    with Portal() as portal:
        now = dt.datetime.now().replace(microsecond=0)
        portal.put(
            "/a.html", article_html("Khai mạc lễ hội hoa ban", "Lễ hội hoa ban Điện Biên khai mạc.", now)
        )
        portal.put("/rss", rss([(portal.url("/a.html"), "Hoa ban", now)]), "application/rss+xml")
        Follower(index_dir, Settings(sources=(portal.url("/rss"),), host_interval=0)).run(once=True)
    metrics_dir = tmp_path / "metrics"  # given by the operator: the test can see each worker's files
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [str(VNSEARCH), "serve", "--index", str(index_dir), "--port", str(port), "--workers", "2"]
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier server")  # cleared at start
    sent: Counter[tuple[str, str]] = Counter()
    expected = Counter()
    with running(argv, tmp_path / "serve.log", env, base):
        urls = [f"/api/search?q={urllib.parse.quote(q)}" for q in QUERIES] + [
            "/?q=khoa+hoc",
            "/missing",
            "/api/search?page=0",
        ]
        pids: set[str] = set()
        with ThreadPoolExecutor(8) as pool:
            for _round in range(30):
                answers = list(pool.map(lambda url: (url, fetch(base + url)), urls * 4))
                for url, (status, _, body) in answers:
                    endpoint = url.split("?")[0] if url != "/missing" else "unmatched"
                    sent[endpoint, str(status)] += 1
                    if url.startswith("/api/search?q="):
                        result = json.loads(body)
                        expected["zero"] += result["total"] == 0
                        expected["relaxed"] += result["relaxed"]
                pids = {
                    name.split("_")[-1] for name in os.listdir(metrics_dir) if name.startswith("counter_")
                }
                if _round >= 2 and len(pids) >= 2:
                    break
        assert len(pids) == 2, f"traffic reached one worker only: {pids}"
        text = fetch(base + "/metrics")[2].decode()
    values = samples(text)
    for (endpoint, status), count in sent.items():
        assert values[("vnsearch_http_requests_total", (("endpoint", endpoint), ("status", status)))] == count
    searches = sent["/api/search", "200"]
    assert (
        values[("vnsearch_http_request_duration_seconds_count", (("endpoint", "/api/search"),))]
        == searches + sent["/api/search", "400"]
    )
    assert values[("vnsearch_searches_total", (("channel", "api"),))] == searches
    assert values[("vnsearch_searches_total", (("channel", "page"),))] == sent["/", "200"]
    assert values[("vnsearch_searches_zero_results_total", (("channel", "api"),))] == expected["zero"] > 0
    assert values[("vnsearch_searches_relaxed_total", (("channel", "api"),))] == expected["relaxed"]
    assert values[("vnsearch_index_articles", ())] == search.Index(index_dir).doc_count() == 30
    assert values[("vnsearch_index_newest_article_age_seconds", ())] < 86_400  # today's (a date, no time)
    assert values[("vnsearch_follow_articles_indexed_total", ())] == 1
    assert values[("vnsearch_follow_pages", (("status", "indexed"),))] == 1
    assert not (metrics_dir / "counter_999999.db").exists()
    # Both workers wrote the search log beside the index, and wrote what they held when stopped.
    logged = search.analytics.report(index_dir / search.analytics.FILE_NAME)
    assert logged["requests"] == searches + sent["/", "200"]


def test_serve_makes_its_own_metrics_directory_and_removes_it_on_exit(tmp_path):
    index_dir = build_index(tmp_path / "ix")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [str(VNSEARCH), "serve", "--index", str(index_dir), "--port", str(port), "--workers", "2"]
    before = set(Path(tempfile.gettempdir()).glob("vnsearch-metrics-*"))
    with running(argv, tmp_path / "serve.log", {"PROMETHEUS_MULTIPROC_DIR": ""}, base):  # set, but empty
        fetch(base + "/api/search?q=khoa+hoc")
        made = set(Path(tempfile.gettempdir()).glob("vnsearch-metrics-*")) - before
        assert len(made) == 1 and any(next(iter(made)).glob("counter_*.db"))
        assert "vnsearch_searches_total" in fetch(base + "/metrics")[2].decode()
    assert not next(iter(made)).exists()
    assert not list(Path.cwd().glob("counter_*.db"))  # nothing written where the server was started
