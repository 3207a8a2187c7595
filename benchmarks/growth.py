"""Where one node stops: query latency, worker memory and index size at 25k, 50k, 100k and 201k articles.

Each size is an even sample of the whole shared corpus (``scale.FILES``: every source in the same
proportion, so only the size changes), indexed by the real ``vnsearch reindex``; then a fresh
process opens the index as a web worker does (``search.Index``, result cache off: every query
computed) and runs the same query mix (``querymix.py``) once to warm up and once timed, one query
at a time. The growth of each figure is fitted as ``a × N^b`` (least squares on logs) and the
article count where p95 would reach 100 ms is extrapolated from the fit.

    python benchmarks/growth.py [--sizes 25000,50000,100000,201787] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import querymix  # noqa: E402
from scale import CORPUS, FILES, QUICK_FILES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "growth.md"
VNSEARCH = Path(sys.executable).with_name("vnsearch")
SIZES = (25_000, 50_000, 100_000, 201_787)
P95_LIMIT_MS = 100.0


def lines(files: list[Path]):
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            yield from fh


def sample(files: list[Path], n: int, total: int, out: Path) -> int:
    """Every (total/n)-th line of the corpus, evenly spread over all of it, into ``out``."""
    kept = 0
    with out.open("w", encoding="utf-8") as fh:
        for i, line in enumerate(lines(files)):
            if (i * n) // total != ((i + 1) * n) // total:
                fh.write(line)
                kept += 1
    return kept


def build(source: Path, index: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) of the largest process of the reindex, and its summary line."""
    started = time.perf_counter()
    with open(index.with_suffix(".log"), "w") as log:
        proc = subprocess.Popen(
            [str(VNSEARCH), "reindex", "--index", str(index), str(source)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    text = index.with_suffix(".log").read_text()
    if os.waitstatus_to_exitcode(status) not in (0, 3):  # 3: some records rejected, rest indexed
        raise SystemExit(f"reindex failed:\n{text[-2000:]}")
    summary = next((ln for ln in text.splitlines() if ln.startswith("read ")), "")
    return seconds, usage.ru_maxrss / 1024, summary


def measure(index: Path, n_mix: int) -> dict:
    """Run in a fresh process (``--measure``): the mix's latencies and this worker's memory."""
    import search

    ix = search.Index(index, cache_size=0)
    mix = querymix.build(n=n_mix)
    for m in mix:
        ix.search(**m.params())  # warm: searcher, page cache, lazily read columns
    ms = []
    for m in mix:
        started = time.perf_counter()
        ix.search(**m.params())
        ms.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    memory = _memory()
    return {"queries": len(ms), "p50": cuts[49], "p95": cuts[94], "mean": statistics.fmean(ms), **memory}


def _memory() -> dict:
    """This process's RSS split (kB → MB) into its heap (anonymous memory: each worker's own) and
    mapped index pages (file-backed: in the page cache, shared by every worker of a node). A lone
    process counts its mapped pages as private too, so "private" would not tell them apart."""
    fields = {}
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            parts = line.split()
            if parts and parts[0].rstrip(":") in ("Rss", "Anonymous"):
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    rss, heap = fields["Rss"], fields["Anonymous"]
    return {"rss_mb": rss, "heap_mb": heap, "mapped_mb": rss - heap}


def fit(ns: list[int], ys: list[float]) -> tuple[float, float]:
    """(a, b) of y = a × N^b, least squares on logs."""
    xs, ls = [math.log(n) for n in ns], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = statistics.fmean(xs), statistics.fmean(ls)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ls, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - b * mx), b


def _reach(a: float, b: float) -> float:
    """Articles at which a × N^b reaches the p95 limit (infinite if it does not grow)."""
    return (P95_LIMIT_MS / a) ** (1 / b) if b > 0 else math.inf


def render(rows: list[dict], command: str, n_mix: int) -> str:
    ns = [r["articles"] for r in rows]
    out = [
        f"# Growth: one node from {ns[0]:,} to {ns[-1]:,} articles, {os.cpu_count()} cores",
        "",
        f"Command: `{command}`",
        "",
        "Each size is an even sample of the whole shared corpus; the same "
        f"{rows[0]['queries']} queries (querymix.py, n={n_mix}) one at a time through `search.Index` "
        "(result cache off), after one warm-up pass. Worker memory: the searching process after the "
        "run: its RSS, split into heap (anonymous memory, each worker's own) and mapped index pages "
        "(file-backed, in the page cache: paid once per node, shared by its workers).",
        "",
        "| articles | build s | build peak RSS MB (largest process) | index MB | segments | p50 ms | p95 ms "
        "| mean ms | worker RSS MB | heap MB | mapped index MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['articles']:,} | {r['build_s']:.0f} | {r['build_rss_mb']:.0f} | {r['index_mb']:.0f} "
            f"| {r['segments']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['mean']:.1f} | {r['rss_mb']:.0f} "
            f"| {r['heap_mb']:.0f} | {r['mapped_mb']:.0f} |"
        )
    if len(rows) >= 2:
        out += [
            "",
            "Fitted growth, y = a × N^b:",
            "",
            "| figure | b | at 1M articles (extrapolated) |",
            "|---|---|---|",
        ]
        for key, label in (
            ("p50", "p50 ms"),
            ("p95", "p95 ms"),
            ("index_mb", "index MB"),
            ("heap_mb", "worker heap MB"),
            ("build_s", "build s"),
        ):
            a, b = fit(ns, [r[key] for r in rows])
            out.append(f"| {label} | {b:.2f} | {a * 1e6**b:,.0f} |")
        a, b = fit(ns, [r["p95"] for r in rows])
        last, before = rows[-1], rows[-2]
        slope = math.log(last["p95"] / before["p95"]) / math.log(last["articles"] / before["articles"])
        out += [
            "",
            f"p95 reaches {P95_LIMIT_MS:.0f} ms at about {_reach(a, b):,.0f} articles by this fit, and at "
            f"about {_reach(last['p95'] / last['articles'] ** slope, slope):,.0f} by the growth between the "
            f"two largest sizes (N^{slope:.2f}): one query at a time; concurrent load adds queueing "
            "(http_load.md).",
        ]
    for r in rows:
        out.append(f"\n{r['articles']:,}: `vnsearch reindex` said: {r['summary']}")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="article counts, comma-separated")
    ap.add_argument("--quick", action="store_true", help="Dân Trí only at 150 and 300 articles, for CI")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: the fresh measuring process
    ap.add_argument("--mix", type=int, default=400, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.mix)))
        return
    files = [CORPUS / f for f in (QUICK_FILES if args.quick else FILES)]
    missing = [f for f in files if not f.exists()]
    if missing:
        raise SystemExit(f"shared corpus not found: {missing[0]} (it is expected in ../shared/corpus)")
    sizes = [150, 300] if args.quick else [int(s) for s in args.sizes.split(",")]
    n_mix = 20 if args.quick else 400
    total = sum(1 for _ in lines(files))
    command = "python benchmarks/growth.py" + (" --quick" if args.quick else "")
    if not args.quick and sizes != list(SIZES):
        command += f" --sizes {args.sizes}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            source, index = Path(tmp) / f"sample-{n}.jsonl", Path(tmp) / f"ix-{n}"
            kept = sample(files, min(n, total), total, source)
            seconds, peak, summary = build(source, index)
            source.unlink()
            done = subprocess.run(
                [sys.executable, __file__, "--measure", str(index), "--mix", str(n_mix)],
                capture_output=True,
                text=True,
                check=True,
            )
            import search

            reader = search.Index(index).searcher().reader()
            segments = len(reader.leaf_readers()) if not reader.is_atomic() else 1
            size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
            rows.append(
                {
                    "articles": kept,
                    "build_s": seconds,
                    "build_rss_mb": peak,
                    "index_mb": size / 1e6,
                    "segments": segments,
                    "summary": summary,
                    **json.loads(done.stdout),
                }
            )
            print(f"{kept:,} articles: {rows[-1]}", file=sys.stderr, flush=True)
            _remove(index)
            table = render(rows, command, n_mix)
            if not args.quick:  # after each size: a run stopped early keeps what it measured
                OUT.write_text(table, encoding="utf-8")
    print(table)


def _remove(index: Path) -> None:
    import shutil

    shutil.rmtree(index, ignore_errors=True)


if __name__ == "__main__":
    main()
