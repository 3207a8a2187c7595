"""The team's shared corpus for the benchmarks: where it is, how to read it, how to index it.

Shared by ``relevance.py``, ``precision.py``, ``suggestions.py`` and ``questions.py`` so that every
benchmark reads the same files the same way and builds vnsearch through its public writer.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import time
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import search

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
VIETNEWS_TEST = Path("vietnews/docs-test.jsonl.gz")
ARTICLE_FIELDS = ("id", "title", "summary", "body", "category", "source", "url")


def require(corpus: Path, *files: Path) -> None:
    """Exit with the reason when the corpus (never committed to the repo) is not beside the checkout."""
    missing = [corpus / f for f in files if not (corpus / f).exists()]
    if not corpus.is_dir() or missing:
        where = missing[0] if missing else corpus
        raise SystemExit(f"shared corpus not found: {where} (it is expected in ../shared/corpus)")


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from (json.loads(line) for line in fh)


def write_jsonl(docs: Iterable[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    return path


def strip_diacritics(text: str) -> str:
    """How people type without a Vietnamese keyboard: tone and vowel marks dropped, đ→d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def article(doc: dict) -> dict:
    """A corpus row as the article ``search.Index``'s writer takes (ISO date → ``datetime.date``)."""
    art = {f: doc.get(f) for f in ARTICLE_FIELDS}
    art["date"] = dt.date.fromisoformat(doc["date"]) if doc.get("date") else None
    return art


def build_index(path: Path, docs: Iterable[dict]) -> float:
    """A fresh vnsearch generation of the docs through the public writer; returns the seconds it took."""
    started = time.perf_counter()
    with search.Index(path).new_generation() as gen:
        gen.add_many(article(d) for d in docs)
    return time.perf_counter() - started


def open_or_build(path: Path, docs: Iterable[dict]) -> tuple[search.Index, float | None]:
    """Reuse the index at ``path`` if one was built there, else build it (seconds, or None when reused)."""
    index = search.Index(path)
    if index.doc_count():
        return index, None
    return index, build_index(path, docs)


def git_head() -> str:
    """The code a run loads, read before anyone commits during it."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    )
    return done.stdout.strip()


def save_table(text: str, out: Path | None) -> None:
    """Write a benchmark's table where asked (none for a quick run)."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
