"""Indexing on a Dask cluster: ``vnsearch reindex --scheduler`` with 1 and 2 workers, beside a local one.

A ``LocalCluster`` of worker processes (one thread each) on 127.0.0.1 stands for a cluster of
machines; the command is the real one, so the reindex process reads the sources and files the
postings the workers prepared, as it would on a writer beside a real cluster. On this machine
the workers share its cores with the reindex process: the speedup from 1 to 2 workers is what 2
cores allow, not what 2 machines would.

    python benchmarks/dask_speedup.py [--articles N] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "vietnews" / "docs-test.jsonl.gz"
OUT = ROOT / "benchmarks" / "results" / "dask_speedup.md"
VNSEARCH = Path(sys.executable).with_name("vnsearch")


def reindex(source: Path, index: Path, *extra: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(VNSEARCH), "reindex", "--index", str(index), *extra, str(source)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"reindex failed ({done.returncode}):\n{done.stderr[-2000:]}")
    summary = next(line for line in done.stdout.splitlines() if line.startswith("read "))
    return seconds, summary.split(" in ")[0]


def on_cluster(source: Path, index: Path, workers: int) -> tuple[float, str]:
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with Client(cluster.scheduler_address) as client:  # workers up and pyvi loaded before timing
            client.wait_for_workers(workers)
            client.run(lambda: __import__("search.distributed").distributed.prepare_chunk(()))
        return reindex(source, index, "--scheduler", cluster.scheduler_address)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=5000, help="the first N VietNews test articles")
    ap.add_argument("--quick", action="store_true", help="60 articles, for CI (table not written)")
    args = ap.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"shared corpus not found: {CORPUS} (it is expected in ../shared/corpus)")
    n = 60 if args.quick else args.articles
    with tempfile.TemporaryDirectory() as tmp, gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        source = Path(tmp) / "articles.jsonl"
        source.write_text("".join(itertools.islice(fh, n)), encoding="utf-8")
        rows = [("local `vnsearch reindex` (one process per core)", *reindex(source, Path(tmp) / "local"))]
        for workers in (1, 2):
            seconds, summary = on_cluster(source, Path(tmp) / f"dask{workers}", workers)
            rows.append((f"`--scheduler`, LocalCluster of {workers} worker process(es)", seconds, summary))
    if len({summary for _, _, summary in rows}) != 1:
        raise SystemExit(f"the builds disagree: {[r[2] for r in rows]}")
    command = "python benchmarks/dask_speedup.py" + (" --quick" if args.quick else f" --articles {n}")
    lines = [
        f"# Indexing on Dask: {n:,} VietNews articles, {os.cpu_count()} cores",
        "",
        f"Command: `{command}`",
        "",
        "| build | seconds | articles/s | speedup over 1 Dask worker |",
        "|---|---|---|---|",
    ]
    one_worker = rows[1][1]
    for what, seconds, _summary in rows:
        lines.append(f"| {what} | {seconds:.1f} | {n / seconds:.0f} | {one_worker / seconds:.2f}× |")
    lines += [
        "",
        f"Every build: {rows[0][2]}. Workers were started and had loaded pyvi before the timing; the "
        "reindex process (reading, filing postings, commit) shares the machine's cores with them.",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.quick:
        OUT.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
