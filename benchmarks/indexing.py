"""Indexing throughput: ``vnsearch reindex`` against a bare single-process pyvi loop, same texts.

The ratio (reindex articles/s ÷ bare ``ViTokenizer.tokenize`` articles/s) is the figure that
counts: both run in the same process tree on the same machine, the bare loop over the first half
of the articles just before the reindex and over the second half just after it, so a machine that
speeds up or slows down meanwhile weighs on both sides. Target: ratio ≥ 1.0 on 2 cores (Whoosh's
writing fully hidden behind parallel segmentation). The CPU time per article of both is reported
too: it shows what the reindex spends beside pyvi, whatever the machine's speed.

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

from pyvi import ViTokenizer

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "vietnews" / "docs-test.jsonl.gz"
OUT = ROOT / "benchmarks" / "results" / "indexing.md"


def sample(n: int | None) -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in itertools.islice(fh, n)]


def bare_pyvi(articles: list[dict]) -> tuple[float, float]:
    """Seconds and CPU seconds for one process to segment every text field with pyvi, nothing else
    (pyvi and its model are loaded before: a reindex's own start is part of its time, pyvi's is not
    part of the loop's)."""
    started, cpu = time.perf_counter(), time.process_time()
    for art in articles:
        for field in ("title", "summary", "body"):
            if art.get(field):
                ViTokenizer.tokenize(art[field])
    return time.perf_counter() - started, time.process_time() - cpu


def reindex(path: Path, index: Path) -> tuple[float, float, int]:
    """Seconds, CPU seconds (every process) and peak RSS (kB) of the real ``vnsearch reindex``."""
    vnsearch = Path(sys.executable).with_name("vnsearch")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [str(vnsearch), "reindex", "--index", str(index), str(path)], check=True, capture_output=True
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu, after.ru_maxrss


def row(what: str, seconds: float, n: int, mb: float, cpu: float) -> str:
    return f"| {what} | {seconds:.1f} | {n / seconds:.0f} | {mb / seconds:.2f} | {cpu / n * 1000:.2f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=None, help="the first N (default: all)")
    ap.add_argument("--quick", action="store_true", help="200 articles, for CI (no target check)")
    args = ap.parse_args()
    articles = sample(200 if args.quick else args.articles)
    n = len(articles)
    mb = sum(len(json.dumps(a, ensure_ascii=False).encode()) for a in articles) / 1e6
    half = n // 2
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "articles.jsonl"
        src.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
        first_s, first_cpu = bare_pyvi(articles[:half])
        index_s, index_cpu, rss_kb = reindex(src, Path(tmp) / "ix")
        second_s, second_cpu = bare_pyvi(articles[half:])
        size = sum(p.stat().st_size for p in (Path(tmp) / "ix").rglob("*") if p.is_file())
    bare_s, bare_cpu = first_s + second_s, first_cpu + second_cpu
    ratio = bare_s / index_s
    rows = [
        f"# Indexing: {n} VietNews test articles ({mb:.1f} MB of JSON), {os.cpu_count()} cores",
        "",
        f"Command: `python benchmarks/indexing.py{' --quick' if args.quick else ''}"
        f"{f' --articles {args.articles}' if args.articles else ''}`",
        "",
        "| what | seconds | articles/s | MB/s | CPU ms/article |",
        "|---|---|---|---|---|",
        row("bare `ViTokenizer.tokenize` loop, 1 process (both halves)", bare_s, n, mb, bare_cpu),
        row(f"… first {half} articles, before the reindex", first_s, half, mb * half / n, first_cpu),
        row(
            f"… last {n - half} articles, after the reindex",
            second_s,
            n - half,
            mb * (n - half) / n,
            second_cpu,
        ),
        row("`vnsearch reindex` (end to end, incl. commit)", index_s, n, mb, index_cpu),
        "",
        f"Ratio reindex / bare pyvi: **{ratio:.2f}** (target ≥ 1.0). "
        f"CPU per article, reindex / bare pyvi: {index_cpu / bare_cpu:.2f} (every process of the "
        f"reindex: on {os.cpu_count()} cores the ratio cannot exceed {os.cpu_count()} ÷ this). "
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
