"""Query latency through vnsearch's search API (snippets and facets included) beside Tantivy and FTS5.

Same documents, same query mix (``querymix.py``); each engine with its own tokenizer. Targets for
vnsearch at ~201k articles: p50 ≤ 15 ms, p95 ≤ 60 ms.

    python benchmarks/scale.py                       # builds /tmp/vnsearch-scale first
    python benchmarks/queries.py [--index /tmp/vnsearch-scale] [--workdir /tmp/vnsearch-peers]
    python benchmarks/queries.py --quick             # Dân Trí only, small mix (CI)

Peers get the query's words OR-ed (they have no date or category filter here, and build no
snippets or facets), so their figures are a floor for what an engine must do per query.
"""

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import querymix  # noqa: E402
from peers import Fts5, Tantivy  # noqa: E402

import search  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "queries.md"


def corpus_files(quick: bool) -> list[Path]:
    from scale import FILES, QUICK_FILES

    return [querymix.CORPUS / f for f in (QUICK_FILES if quick else FILES)]


def documents(files: list[Path]) -> Iterator[dict]:
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                art = json.loads(line)
                if art.get("body"):
                    yield art


def percentiles(ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "mean": statistics.fmean(ms)}


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def peer(cls, workdir: Path, files: list[Path]):
    path = workdir / cls.__name__.lower()
    if not (path / "ready").exists():
        cls.build(path, documents(files))
        (path / "ready").touch()
    return cls(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/vnsearch-scale"))
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/vnsearch-peers"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    files = corpus_files(args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.index, args.workdir = Path(tmp) / "ix", Path(tmp) / "peers"
            vnsearch = Path(sys.executable).with_name("vnsearch")
            subprocess.run(
                [str(vnsearch), "reindex", "--index", str(args.index), *map(str, files)], check=True
            )
        mix = querymix.build(n=60 if args.quick else 400)
        ix = search.Index(args.index, cache_size=0)  # every query computed, none answered from memory
        for m in mix[:30]:  # warm the searcher and the OS cache
            ix.search(**m.params())
        ours = [timed(lambda m=m: ix.search(**m.params())) for m in mix]
        texts = [m.q for m in mix if m.q]
        rows = [("vnsearch (search API: ranking, facets, snippets)", percentiles(ours))]
        for cls in (Tantivy, Fts5):
            engine = peer(cls, args.workdir, files)
            rows.append(
                (engine.name, percentiles([timed(lambda q=q, e=engine: e.search(q, 10)) for q in texts]))
            )
        table = render(rows, len(mix), ix.doc_count(), args.quick)
    print(table)
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(table, encoding="utf-8")


def render(rows: list[tuple[str, dict]], n_queries: int, n_docs: int, quick: bool) -> str:
    ours = rows[0][1]
    lines = [
        f"# Query latency: {n_queries} queries (querymix.py) over {n_docs:,} articles",
        "",
        f"Command: `python benchmarks/queries.py{' --quick' if quick else ''}`",
        "",
        "| engine | p50 ms | p95 ms | p99 ms | mean ms | vnsearch p50 ÷ this p50 |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in rows:
        lines.append(
            f"| {name} | {p['p50']:.1f} | {p['p95']:.1f} | {p['p99']:.1f} | {p['mean']:.1f} "
            f"| {ours['p50'] / p['p50']:.1f}× |"
        )
    lines += [
        "",
        f"Targets: p50 ≤ 15 ms: {_met(ours['p50'] <= 15)} ({ours['p50']:.1f}); "
        f"p95 ≤ 60 ms: {_met(ours['p95'] <= 60)} ({ours['p95']:.1f}).",
        "",
    ]
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
