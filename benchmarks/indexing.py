"""Indexing throughput: ``vnsearch reindex`` against a bare single-process pyvi loop, same texts.

The ratio (reindex articles/s ÷ bare ``ViTokenizer.tokenize`` articles/s) is the figure that
counts: both run in the same process tree on the same machine minutes apart, so machine noise
mostly cancels. Target: ratio ≥ 1.0 on 2 cores (Whoosh's writing fully hidden behind parallel
segmentation).

    python benchmarks/indexing.py [--articles N] [--quick]

Reads all 22,497 articles of ``../shared/corpus/vietnews/docs-test.jsonl.gz`` (or the first N): a
whole archive, so the command's start (imports, pyvi's model, worker processes) weighs what it
does in a real rebuild rather than dominating a small sample.
"""

import argparse
import gzip
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "vietnews" / "docs-test.jsonl.gz"
OUT = ROOT / "benchmarks" / "results" / "indexing.md"


def sample(n: int | None) -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in itertools.islice(fh, n)]


def bare_pyvi(articles: list[dict]) -> float:
    """Seconds for one process to segment every text field with pyvi, nothing else."""
    from pyvi import ViTokenizer

    started = time.perf_counter()
    for art in articles:
        for field in ("title", "summary", "body"):
            if art.get(field):
                ViTokenizer.tokenize(art[field])
    return time.perf_counter() - started


def reindex(path: Path, index: Path) -> tuple[float, int]:
    """Seconds and peak RSS (kB) of the real ``vnsearch reindex`` command."""
    vnsearch = Path(sys.executable).with_name("vnsearch")
    started = time.perf_counter()
    subprocess.run(
        [str(vnsearch), "reindex", "--index", str(index), str(path)], check=True, capture_output=True
    )
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def row(what: str, seconds: float, n: int, mb: float) -> str:
    return f"| {what} | {seconds:.1f} | {n / seconds:.0f} | {mb / seconds:.2f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=None, help="the first N (default: all)")
    ap.add_argument("--quick", action="store_true", help="200 articles, for CI (no target check)")
    args = ap.parse_args()
    articles = sample(200 if args.quick else args.articles)
    n = len(articles)
    mb = sum(len(json.dumps(a, ensure_ascii=False).encode()) for a in articles) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "articles.jsonl"
        src.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
        bare_s = bare_pyvi(articles)
        index_s, rss_kb = reindex(src, Path(tmp) / "ix")
        size = sum(p.stat().st_size for p in (Path(tmp) / "ix").rglob("*") if p.is_file())
    bare_rate, index_rate = n / bare_s, n / index_s
    rows = [
        f"# Indexing: {n} VietNews test articles ({mb:.1f} MB of JSON), {os.cpu_count()} cores",
        "",
        f"Command: `python benchmarks/indexing.py{' --quick' if args.quick else ''}"
        f"{f' --articles {args.articles}' if args.articles else ''}`",
        "",
        "| what | seconds | articles/s | MB/s |",
        "|---|---|---|---|",
        row("bare `ViTokenizer.tokenize` loop, 1 process", bare_s, n, mb),
        row("`vnsearch reindex` (end to end, incl. commit)", index_s, n, mb),
        "",
        f"Ratio reindex / bare pyvi: **{index_rate / bare_rate:.2f}** (target ≥ 1.0). "
        f"Peak RSS of the reindex process tree's largest process: {rss_kb / 1024:.0f} MB. "
        f"Index size {size / 1e6:.1f} MB = {size / 1e6 / mb:.2f}× the JSON.",
        "",
    ]
    table = "\n".join(rows)
    print(table)
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
