"""``vnsearch follow`` against a fixture portal on 127.0.0.1: real HTTP, real SQLite, real index."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from portal_fixture import DEMO, Portal, article_html, atom, rss, sitemap, sitemap_index
from prometheus_client.parser import text_string_to_metric_families

import search
from indexer.follow.listing import ListingError, read_listing
from indexer.follow.runner import Follower
from indexer.follow.settings import ConfigError, Settings, load
from indexer.follow.state import FILE_NAME, State

FAST = Settings(host_interval=0.0, batch_seconds=0.0, fetch_seconds=2.0, read_timeout=2.0, retries=0)
VNSEARCH = Path(sys.executable).with_name("vnsearch")
NOW = dt.datetime(2025, 10, 1, 8, 30)


def follow_once(index_dir: Path, *sources: str, settings: Settings = FAST) -> Follower:
    follower = Follower(index_dir, settings.merged(sources=sources))
    follower.run(once=True)
    return follower


def statuses(index_dir: Path) -> dict[str, tuple[str, str | None]]:
    state = State(index_dir / FILE_NAME)
    try:
        rows = state.db.execute("SELECT url, status, last_error FROM pages").fetchall()
        return {row["url"]: (row["status"], row["last_error"]) for row in rows}
    finally:
        state.close()


def ids_for(ix: search.Index, query: str) -> list[str]:
    return [hit.id for hit in ix.search(query, per_page=50).hits]


@pytest.fixture
def portal():
    with Portal() as p:
        p.put("/articles/thong-xe-cau.html", (DEMO / "html" / "cau-vuot-song-lam-2025.html").read_bytes())
        p.put(
            "/articles/mua-lu.html",
            article_html(
                "Mưa lũ chia cắt nhiều xã miền núi Quảng Nam",
                "Mưa lớn kéo dài khiến nước sông Vu Gia dâng cao, nhiều xã miền núi bị chia cắt.\n"
                "Chính quyền huyện đã sơ tán hơn 200 hộ dân đến nơi an toàn.",
                NOW,
            ),
        )
        p.put(
            "/articles/ca-phe.html",
            article_html(
                "Giá cà phê xuất khẩu lập đỉnh mới",
                "Giá cà phê Robusta xuất khẩu tăng mạnh trong tuần, nông dân Tây Nguyên phấn khởi.",
                NOW,
                "Kinh tế",
            ),
        )
        p.put(
            "/pages/hoi-nghi.txt",
            (DEMO / "pages" / "hoi-nghi-xuc-tien-dau-tu-2024.txt").read_bytes(),
            "text/plain; charset=utf-8",
        )
        p.put(
            "/rss/tin-moi.rss",
            rss(
                [
                    (p.url("/articles/mua-lu.html"), "Mưa lũ chia cắt nhiều xã", NOW),
                    ("/articles/thong-xe-cau.html", "Thông xe cầu Hòa Xuân", NOW),  # relative link
                ]
            ),
            "application/rss+xml",
        )
        p.put(
            "/atom.xml", atom([(p.url("/articles/ca-phe.html"), "Giá cà phê", NOW)]), "application/atom+xml"
        )
        p.put(
            "/sitemap-news.xml",
            sitemap([(p.url("/articles/ca-phe.html"), "2025-10-01T08:30:00+07:00")], news=True),
            "application/xml",
        )
        p.put(
            "/sitemap-2024.xml.gz",
            gzip.compress(sitemap([(p.url("/pages/hoi-nghi.txt"), "2024-03-15")]).encode()),
            "application/x-gzip",
        )
        p.put(
            "/sitemap_index.xml",
            sitemap_index(
                [(p.url("/sitemap-news.xml"), None), (p.url("/sitemap-2024.xml.gz"), "2024-03-16")]
            ),
            "application/xml",
        )
        yield p


def test_follow_indexes_what_feeds_and_sitemaps_list_with_the_file_readers(tmp_path, portal):
    index_dir = tmp_path / "ix"
    follow_once(
        index_dir, portal.url("/rss/tin-moi.rss"), portal.url("/atom.xml"), portal.url("/sitemap_index.xml")
    )
    ix = search.Index(index_dir)
    assert ix.doc_count() == 4
    flood = ix.search("mua lu Quang Nam")
    assert flood.total == 1 and flood.hits[0].url == portal.url("/articles/mua-lu.html")
    assert flood.hits[0].date == NOW.date()
    bridge = ix.search("cầu Hòa Xuân").hits[0]  # HTML read by trafilatura: its canonical URL and date
    assert bridge.url.startswith("https://tintuc.lamgiang.example/") and bridge.date == dt.date(2025, 9, 30)
    coffee = ix.search("cà phê Robusta")
    assert coffee.total == 1 and coffee.hits[0].category == "Kinh tế"  # listed twice, indexed once
    portal_page = ix.search("xúc tiến đầu tư").hits[0]  # plain text: the portal-page reader
    assert portal_page.title.startswith("Hội nghị xúc tiến đầu tư") and portal_page.date == dt.date(
        2024, 3, 15
    )
    assert {status for status, _ in statuses(index_dir).values()} == {"indexed"}
    assert all(a.user_agent.startswith("vnsearch-follow/") for a in portal.requests)
    assert portal.asked("/robots.txt") and len(portal.asked("/robots.txt")) == 1  # once per host


def test_bad_sources_and_pages_are_logged_with_their_url_and_skipped(tmp_path, portal, caplog):
    links = ["/missing", "/slow", "/loop-a", "/private/bi-mat.html", "/articles/mua-lu.html"]
    portal.put("/rss/loi.rss", rss([(portal.url(p), p, NOW) for p in links]), "application/rss+xml")
    index_dir = tmp_path / "ix"
    settings = FAST.merged(fetch_seconds=1.0)
    with caplog.at_level(logging.WARNING, logger="vnsearch.follow"):
        started = time.monotonic()
        follow_once(
            index_dir,
            portal.url("/rss/loi.rss"),
            portal.url("/broken.rss"),
            portal.url("/no-feed"),
            settings=settings,
        )
    assert time.monotonic() - started < 10  # the slow page cost its deadline, not its whole drip
    assert ids_for(search.Index(index_dir), "Vu Gia") and search.Index(index_dir).doc_count() == 1
    pages = statuses(index_dir)
    assert pages[portal.url("/missing")] == ("failed", f"{portal.url('/missing')}: HTTP 404 (Not Found)")
    assert pages[portal.url("/slow")][0] == "pending" and "too slow" in pages[portal.url("/slow")][1]
    assert pages[portal.url("/loop-a")][0] == "failed" and "redirect loop" in pages[portal.url("/loop-a")][1]
    private = portal.url("/private/bi-mat.html")
    assert pages[private] == ("failed", f"{private}: disallowed by robots.txt")
    assert not portal.asked("/private/bi-mat.html")
    logged = caplog.text
    for path in [*links[:4], "/broken.rss", "/no-feed"]:
        assert portal.url(path) in logged, path
    assert "malformed feed" in logged and "HTTP 404" in logged
    state = State(index_dir / FILE_NAME)
    errors = {row["url"]: row["last_error"] for row in state.db.execute("SELECT * FROM sources")}
    state.close()
    assert "malformed feed" in errors[portal.url("/broken.rss")]
    assert errors[portal.url("/rss/loi.rss")] is None


def test_a_restart_resumes_with_conditional_gets_and_fetches_only_what_changed(tmp_path, portal):
    index_dir = tmp_path / "ix"
    feed = portal.url("/rss/tin-moi.rss")
    follow_once(index_dir, feed)
    fetched_before = len(portal.asked("/articles/mua-lu.html"))
    follow_once(index_dir, feed)  # a new process, the same state: nothing has changed
    assert (
        portal.asked("/rss/tin-moi.rss")[-1].conditional
        and portal.asked("/rss/tin-moi.rss")[-1].status == 304
    )
    assert len(portal.asked("/articles/mua-lu.html")) == fetched_before

    later = NOW + dt.timedelta(hours=2)
    portal.put(
        "/articles/mua-lu.html",
        article_html(
            "Mưa lũ chia cắt nhiều xã miền núi Quảng Nam", "Nước sông Thu Bồn vượt báo động ba.", later
        ),
    )
    portal.put(  # both entries updated; only the flood page's text changed
        "/rss/tin-moi.rss",
        rss(
            [
                (portal.url("/articles/mua-lu.html"), "Mưa lũ", later),
                ("/articles/thong-xe-cau.html", "Cầu", later),
            ]
        ),
        "application/rss+xml",
    )
    follow_once(index_dir, feed)
    flood, bridge = portal.asked("/articles/mua-lu.html")[-1], portal.asked("/articles/thong-xe-cau.html")[-1]
    assert flood.conditional and flood.status == 200 and bridge.conditional and bridge.status == 304
    ix = search.Index(index_dir)
    assert ix.doc_count() == 2 and ids_for(ix, "Thu Bồn") and not ids_for(ix, "Vu Gia")  # replaced, not added

    portal.docs.pop("/articles/thong-xe-cau.html")  # gone from the portal: still in the index
    portal.put(
        "/rss/tin-moi.rss",
        rss([("/articles/thong-xe-cau.html", "Cầu", later + dt.timedelta(hours=1))]),
        "application/rss+xml",
    )
    follow_once(index_dir, feed)
    assert search.Index(index_dir).doc_count() == 2 and ids_for(search.Index(index_dir), "cầu Hòa Xuân")


def test_a_batch_the_index_cannot_take_now_is_kept_and_fetched_again_later(tmp_path, portal):
    index_dir = tmp_path / "ix"
    ix = search.Index(index_dir)
    with ix.updating():  # another writer (a reindex) holds the index
        follow_once(index_dir, portal.url("/rss/tin-moi.rss"))
    assert ix.doc_count() == 0
    assert {status for status, _ in statuses(index_dir).values()} == {"pending"}  # as a restart reads it
    follow_once(index_dir, portal.url("/rss/tin-moi.rss"))  # restart: the pages are fetched again
    assert ix.doc_count() == 2 and {s for s, _ in statuses(index_dir).values()} == {"indexed"}


def test_follow_counts_for_prometheus_in_a_text_file_beside_the_index(tmp_path, portal):
    index_dir = tmp_path / "ix"
    portal.put("/rss/hai.rss", rss([(portal.url("/missing"), "x", NOW)]), "application/rss+xml")
    follow_once(index_dir, portal.url("/rss/tin-moi.rss"), portal.url("/rss/hai.rss"))
    follow_once(index_dir, portal.url("/rss/tin-moi.rss"))
    families = {f.name: f for f in text_string_to_metric_families((index_dir / "follow.prom").read_text())}
    value = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert value[("vnsearch_follow_articles_indexed_total", ())] == 2
    assert value[("vnsearch_follow_polls_total", (("result", "ok"),))] == 2
    assert value[("vnsearch_follow_polls_total", (("result", "not_modified"),))] == 1
    assert value[("vnsearch_follow_errors_total", (("kind", "HTTP 404"),))] == 1
    assert value[("vnsearch_follow_pages", (("status", "indexed"),))] == 2
    assert value[("vnsearch_follow_last_commit_timestamp_seconds", ())] > time.time() - 60


def test_sigterm_commits_the_batch_in_hand_and_a_restart_fetches_the_rest(tmp_path, portal):
    items = []
    for n in range(8):
        path = f"/articles/tin-{n}.html"
        portal.put(
            path, article_html(f"Tin số {n} về lễ hội đèn lồng", f"Bài số {n}: lễ hội đèn lồng Hội An.", NOW)
        )
        items.append((portal.url(path), f"Tin {n}", NOW))
    portal.put("/rss/nhieu.rss", rss(items), "application/rss+xml")
    index_dir = tmp_path / "ix"
    argv = [
        str(VNSEARCH),
        "follow",
        "--index",
        str(index_dir),
        "--host-interval",
        "0.4",
        "--batch-seconds",
        "60",
    ]
    log = tmp_path / "follow.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*argv, portal.url("/rss/nhieu.rss")], stderr=out)
    deadline = time.monotonic() + 60
    while len([a for a in portal.requests if a.path.startswith("/articles/")]) < 3:
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    indexed = search.Index(index_dir).doc_count()
    assert 3 <= indexed < 8  # the batch in hand (60 s from full) was committed at the stop
    pages = statuses(index_dir)
    assert sum(status == "indexed" for status, _ in pages.values()) == indexed
    subprocess.run([*argv, "--once", portal.url("/rss/nhieu.rss")], check=True, timeout=60)
    assert search.Index(index_dir).doc_count() == 8
    asked = [a.path for a in portal.requests if a.path.startswith("/articles/")]
    assert len(asked) == 8  # each page fetched once across both runs


def test_listings_are_read_by_kind_within_their_bounds():
    base = "http://127.0.0.1:1/"
    feed = read_listing(base + "rss", rss([("/a.html", "A", NOW)]).encode(), 2**20, 100)
    assert feed.kind == "feed" and feed.links[0].url == base + "a.html"
    assert feed.links[0].lastmod == "2025-10-01T01:30:00Z" and feed.links[0].date == NOW
    many = sitemap([(f"{base}{n}", None) for n in range(10)]).encode()
    cut = read_listing(base + "s.xml", many, 2**20, 4)
    assert cut.kind == "sitemap" and len(cut.links) == 4 and cut.truncated
    with pytest.raises(ListingError, match="once unpacked"):
        read_listing(base + "s.xml.gz", gzip.compress(b"<urlset>" + b" " * 5000 + b"</urlset>"), 1000, 10)
    with pytest.raises(ListingError, match="malformed sitemap"):
        read_listing(base + "s.xml", b"<urlset><url><loc>x</loc></url>", 2**20, 10)
    with pytest.raises(ListingError):
        read_listing(base + "x", b"<html><body>not a feed</body></html>", 2**20, 10)
    entity_bomb = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa">]>'
        b"<urlset><url><loc>&a;</loc></url></urlset>"
    )
    assert read_listing(base, entity_bomb, 2**20, 10).links == []  # entities are never expanded


def test_config_file_settings_are_checked(tmp_path):
    good = tmp_path / "follow.toml"
    good.write_text('[follow]\nsources = ["http://127.0.0.1:1/rss"]\nfeed_interval = 10\n', encoding="utf-8")
    assert load(good) == Settings(sources=("http://127.0.0.1:1/rss",), feed_interval=10.0)
    bad = tmp_path / "bad.toml"
    bad.write_text("[follow]\nfeed_intervall = 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting.*feed_intervall"):
        load(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[follow]\nbatch_size = "many"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="batch_size must be a int"):
        load(wrong)
    done = subprocess.run(
        [str(VNSEARCH), "follow", "--index", str(tmp_path / "ix")], capture_output=True, text=True
    )
    assert done.returncode == 2 and "name at least one feed or sitemap URL" in done.stderr
    done = subprocess.run([str(VNSEARCH), "follow", "--config", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "feed_intervall" in done.stderr
