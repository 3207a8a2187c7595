"""The demo corpus in examples/demo: indexes cleanly and covers what the demo searches show."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from indexer.article import Article
from indexer.ingest import validated
from indexer.sources import find_files

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"


@pytest.fixture(scope="module")
def demo() -> list[Article]:
    files, skipped = find_files([DEMO])
    assert skipped == []
    items = list(validated(files))
    assert [item for item in items if not isinstance(item, Article)] == []
    return items


def test_demo_corpus_size_formats_and_unique_ids(demo: list[Article]) -> None:
    assert len(demo) >= 45
    assert len({a.id for a in demo}) == len(demo)
    suffixes = Counter(p.suffix for p in DEMO.rglob("*") if p.is_file())
    assert suffixes[".jsonl"] == 1 and suffixes[".csv"] == 1
    assert suffixes[".txt"] >= 3 and suffixes[".html"] >= 3


def test_demo_corpus_spans_years_and_categories(demo: list[Article]) -> None:
    years = {a.date.year for a in demo}
    assert len(years) >= 3 and 2026 in years
    categories = {a.category for a in demo if a.category}
    assert len(categories) >= 6


def test_demo_articles_are_80_to_250_words(demo: list[Article]) -> None:
    lengths = {a.id: len(a.body.split()) for a in demo}
    assert {i: n for i, n in lengths.items() if not 80 <= n <= 250} == {}


@pytest.mark.parametrize("text", [" bán ", " bạn ", "hòa", "hoà", "TP.HCM", "UBND", "COVID-19", "13/11/2023"])
def test_demo_corpus_contains_the_search_showcases(demo: list[Article], text: str) -> None:
    assert any(text in f" {a.title} {a.body} " for a in demo)
