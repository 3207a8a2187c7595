"""Peer engines for ``relevance.py``: the same articles and queries through other search engines.

Each peer indexes title, summary and body with the weights vnsearch gives them (2, 1.5, 1) so the
comparison is about tokenization and ranking, not about which fields are searched. Every query is
reduced to its word tokens and OR-ed: no peer gets the benefit of a query language.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import tantivy
from whoosh import index as whoosh_index
from whoosh import query as whoosh_query
from whoosh import scoring
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.fields import ID, TEXT, Schema

from search import matching

FIELD_WEIGHTS = {"title": 2.0, "summary": 1.5, "body": 1.0}
WORD = re.compile(r"\w+")


class Engine(Protocol):
    name: str

    def search(self, q: str, k: int) -> list[str]:
        """Ids of the k best articles for q, best first."""
        ...


def words(q: str) -> list[str]:
    """The query's word tokens, so that no peer sees operators or quotes it would parse."""
    return WORD.findall(q)


def _fresh(path: Path) -> Path:
    """An empty directory to build into: a half-built peer index is never reused."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


class Fts5:
    """SQLite FTS5, unicode61 with diacritics removed (đ stays, it has no decomposition), bm25."""

    name = "SQLite FTS5 (unicode61 remove_diacritics 2)"

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path / "fts5.db")
        weights = ", ".join(str(w) for w in FIELD_WEIGHTS.values())
        self.sql = f"SELECT id FROM t WHERE t MATCH ? ORDER BY bm25(t, 0, {weights}) LIMIT ?"

    @staticmethod
    def build(path: Path, docs: Iterable[dict]) -> None:
        db = sqlite3.connect(_fresh(path) / "fts5.db")
        db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, summary, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        rows = ((d["id"], d.get("title") or "", d.get("summary") or "", d["body"]) for d in docs)
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
        db.commit()
        db.close()

    def search(self, q: str, k: int) -> list[str]:
        match = " OR ".join('"{}"'.format(w.replace('"', '""')) for w in words(q))
        if not match:
            return []
        return [row[0] for row in self.db.execute(self.sql, (match, k))]


class Tantivy:
    """Tantivy's default tokenizer (split on non-alphanumerics, lowercase: accents stay), BM25."""

    name = "Tantivy (default tokenizer)"

    def __init__(self, path: Path):
        self.index = tantivy.Index.open(str(path))
        self.searcher = self.index.searcher()

    @staticmethod
    def build(path: Path, docs: Iterable[dict]) -> None:
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        for field in FIELD_WEIGHTS:
            sb.add_text_field(field)
        index = tantivy.Index(sb.build(), path=str(_fresh(path)))
        writer = index.writer(heap_size=256_000_000)
        for d in docs:
            writer.add_document(tantivy.Document(id=d["id"], **{f: d.get(f) or "" for f in FIELD_WEIGHTS}))
        writer.commit()
        writer.wait_merging_threads()

    def search(self, q: str, k: int) -> list[str]:
        tokens = words(q)
        if not tokens:
            return []
        query = self.index.parse_query(
            " ".join(f'"{w}"' for w in tokens), list(FIELD_WEIGHTS), field_boosts=FIELD_WEIGHTS
        )
        hits = self.searcher.search(query, k).hits
        return [self.searcher.doc(addr)["id"][0] for _, addr in hits]


class WhooshSyllables:
    """Plain Whoosh: lowercase syllables from a regex (no pyvi, no folding), BM25F, OR of the words.

    Ranked by ``search.matching``, which gives Whoosh's own BM25F scores exactly: Whoosh's top-k
    collector took 2.4 s a sentence-long query here, and can drop better-scoring documents
    (``tests/test_matching.py``), which would only have weakened this peer.
    """

    name = "Whoosh, syllables only"
    analyzer = RegexTokenizer(r"\w+") | LowercaseFilter()

    def __init__(self, path: Path):
        self.searcher = whoosh_index.open_dir(str(path)).searcher(weighting=scoring.BM25F())

    @classmethod
    def build(cls, path: Path, docs: Iterable[dict]) -> None:
        fields = {f: TEXT(analyzer=cls.analyzer, field_boost=w) for f, w in FIELD_WEIGHTS.items()}
        ix = whoosh_index.create_in(str(_fresh(path)), Schema(id=ID(stored=True), **fields))
        writer = ix.writer(limitmb=256)
        for d in docs:
            writer.add_document(id=d["id"], **{f: d.get(f) or "" for f in FIELD_WEIGHTS})
        writer.commit()

    def search(self, q: str, k: int) -> list[str]:
        tokens = [t.text for t in self.analyzer(q)]
        if not tokens:
            return []
        query = whoosh_query.Or([whoosh_query.Term(f, t) for f in FIELD_WEIGHTS for t in tokens])
        cols = matching.columns(self.searcher)
        best = matching.top(cols, matching.match(cols, query, cols.live), k, "relevance")
        return [self.searcher.stored_fields(d)["id"] for d, _ in best]


PEERS: Sequence[type] = (Fts5, Tantivy, WhooshSyllables)


# --- dated peers for ``precision.py``: what a reader sees under sort=newest -------------------------


class DatedFts5:
    """FTS5 as above plus a date column: its default AND of the words, ranked by bm25 or newest first.

    remove_diacritics 2 compares folded text even when the query has marks ("giá" matches "gia"), and
    keeps đ: an accentless "dang" does not match "đảng". Both are how FTS5 behaves, left as they are.
    """

    name = "SQLite FTS5 (AND)"
    ORDER = {
        "relevance": "bm25(t, 0, 0, {})".format(", ".join(map(str, FIELD_WEIGHTS.values()))),
        "newest": "date DESC",
    }

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path / "fts5.db")

    @staticmethod
    def build(path: Path, docs: Iterable[dict]) -> None:
        db = sqlite3.connect(_fresh(path) / "fts5.db")
        db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, date UNINDEXED, title, summary, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        fields = ("id", "date", "title", "summary", "body")
        db.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)", ([d.get(f) or "" for f in fields] for d in docs)
        )
        db.commit()
        db.close()

    def run(self, q: str, k: int, sort: str) -> tuple[list[str], int]:
        """The top k ids under the sort, and how many articles match."""
        match = " ".join('"{}"'.format(w.replace('"', '""')) for w in words(q))
        if not match:
            return [], 0
        sql = f"SELECT id FROM t WHERE t MATCH ? ORDER BY {self.ORDER[sort]} LIMIT ?"
        ids = [row[0] for row in self.db.execute(sql, (match, k))]
        (total,) = self.db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()
        return ids, total


class DatedTantivy:
    """Tantivy as above plus a date fast field; its default OR of the words, or every word required."""

    def __init__(self, path: Path, required: bool = False):
        self.index = tantivy.Index.open(str(path))
        self.searcher = self.index.searcher()
        self.required = required
        self.name = f"Tantivy ({'+every +word' if required else 'default OR'})"

    @staticmethod
    def build(path: Path, docs: Iterable[dict]) -> None:
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        for field in FIELD_WEIGHTS:
            sb.add_text_field(field)
        sb.add_date_field("date", fast=True)
        index = tantivy.Index(sb.build(), path=str(_fresh(path)))
        writer = index.writer(heap_size=256_000_000)
        for d in docs:
            day = dt.datetime.fromisoformat(d["date"]) if d.get("date") else dt.datetime(1970, 1, 1)
            text = {f: d.get(f) or "" for f in FIELD_WEIGHTS}
            writer.add_document(tantivy.Document(id=d["id"], date=day, **text))
        writer.commit()
        writer.wait_merging_threads()

    def run(self, q: str, k: int, sort: str) -> tuple[list[str], int]:
        """The top k ids under the sort, and how many articles match."""
        tokens = words(q)
        if not tokens:
            return [], 0
        prefix = "+" if self.required else ""
        text = " ".join(f'{prefix}"{w}"' for w in tokens)
        query = self.index.parse_query(text, list(FIELD_WEIGHTS), field_boosts=FIELD_WEIGHTS)
        by_date = {"order_by_field": "date"} if sort == "newest" else {}
        found = self.searcher.search(query, k, count=True, **by_date)
        return [self.searcher.doc(addr)["id"][0] for _, addr in found.hits], found.count
