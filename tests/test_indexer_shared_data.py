"""The indexer on the real data in ../shared: the seed page, the done-when check, the Dân Trí run."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import search
from indexer.article import Article
from indexer.ingest import validated
from indexer.sources import find_files

VNSEARCH = Path(sys.executable).with_name("vnsearch")
SEED_TITLE = "Đảng đoàn Liên hiệp các Hội Khoa học và kỹ thuật Việt Nam làm việc với Tỉnh ủy Thừa Thiên Huế"


@pytest.fixture(scope="module")
def shared_dir() -> Path:
    path = Path(__file__).resolve().parents[1].parent / "shared"
    if not path.is_dir():
        pytest.skip(f"no shared data directory at {path} (the real corpora and seeds live there)")
    return path


def vnsearch(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VNSEARCH), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_seed_page_yields_headline_date_source_and_clean_body(shared_dir: Path) -> None:
    files, _ = find_files([shared_dir / "seeds" / "thuathienhue-2023-11-13.txt"])
    (art,) = validated(files)
    assert isinstance(art, Article)
    assert art.title == SEED_TITLE
    assert art.date == dt.date(2023, 11, 13)
    assert art.source == "thuathienhue.gov.vn"
    assert art.body.startswith("(CTTĐT_ - Sáng ngày 13/11, Đoàn công tác của Đảng đoàn Liên hiệp")
    assert art.body.endswith(
        "Lãnh đạo tỉnh tặng quà lưu niệm cho Đảng đoàn Liên hiệp các Hội Khoa học và kỹ thuật Việt Nam"
    )
    assert "\nThành viên Đoàn công tác trao đổi tại buổi làm việc\n" in art.body  # captions stay as text
    for chrome in (
        "Tìm kiếm tin tức",
        "Liên kết website",
        "Nguồn:",
        "Các tin khác",
        "Xem tin theo ngày",
        "Thống kê truy cập",
        "Truy cập tổng",
        "Truy cập hiện tại",
        "1.932.610",
    ):
        assert chrome not in art.body


def test_done_when_the_seed_article_ranks_first(shared_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    built = vnsearch(
        "reindex", "--index", index, shared_dir / "corpus" / "vmds-ktlab" / "docs.jsonl", shared_dir / "seeds"
    )
    assert built.returncode == 0, built.stderr
    assert "read 629: indexed 629, rejected 0, duplicates 0" in built.stdout
    found = vnsearch("search", "--index", index, "lien hiep cac hoi khoa hoc")
    assert found.returncode == 0, found.stderr
    assert f"1. {SEED_TITLE}" in found.stdout.splitlines()


def test_dan_tri_corpus_indexes_completely(shared_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    built = vnsearch("reindex", "--index", index, shared_dir / "corpus" / "unc-dantri" / "docs.jsonl.gz")
    assert built.returncode == 0, built.stderr
    assert "read 2,653: indexed 2,653, rejected 0, duplicates 0" in built.stdout
    rate = re.search(r"\(([\d,]+) articles/s\)", built.stdout)
    print(f"Dân Trí: {built.stdout.splitlines()[0]}")  # the measured speed, shown with pytest -s
    assert rate is not None
    stats = json.loads(vnsearch("stats", "--index", index, "--json").stdout)
    assert (stats["articles"], stats["date_min"], stats["date_max"]) == (2653, "2019-09-02", "2021-05-02")
    assert len(stats["categories"]) == 10
    assert (
        search.Index(index).get("unc-news_business_001")["title"]
        == "Vinamilk lọt Top 1.000 thương hiệu hàng đầu châu Á"
    )
