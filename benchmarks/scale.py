"""The whole shared corpus (~201k articles) through the real ``vnsearch reindex``.

Reports wall time, articles/s, peak memory and the index size against the raw text size (target
≤ 3×). The index is kept at ``--index`` for ``benchmarks/queries.py`` and ``benchmarks/http_load.py``.

    python benchmarks/scale.py [--index /tmp/vnsearch-scale] [--quick]

``--quick`` indexes only Dân Trí (2,653 articles), for CI.
"""

import argparse
import gzip
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = [
    "vietnews/docs-test.jsonl.gz",
    "vietnews/docs-val.jsonl.gz",
    "rss-headlines/docs.jsonl.gz",
    "unc-dantri/docs.jsonl.gz",
    "vmds-ktlab/docs.jsonl",
]
QUICK_FILES = ["unc-dantri/docs.jsonl.gz"]
OUT = ROOT / "benchmarks" / "results" / "scale.md"


def raw_text_bytes(path: Path) -> tuple[int, int]:
    """(articles, UTF-8 bytes of their title, summary and body)."""
    opener = gzip.open if path.suffix == ".gz" else open
    n = size = 0
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            art = json.loads(line)
            n += 1
            size += sum(len((art.get(f) or "").encode()) for f in ("title", "summary", "body"))
    return n, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/vnsearch-scale"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    files = [CORPUS / f for f in (QUICK_FILES if args.quick else FILES)]
    counts = [raw_text_bytes(f) for f in files]
    articles, raw = sum(n for n, _ in counts), sum(b for _, b in counts)
    vnsearch = Path(sys.executable).with_name("vnsearch")
    started = time.perf_counter()
    done = subprocess.run(
        [str(vnsearch), "reindex", "--index", str(args.index), *map(str, files)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in args.index.rglob("*") if p.is_file())
    summary = [
        line for line in done.stderr.splitlines() + done.stdout.splitlines() if line.startswith("read ")
    ]
    table = "\n".join(
        [
            f"# Scale: {articles:,} articles ({raw / 1e6:.0f} MB of title+summary+body text)",
            "",
            f"Command: `python benchmarks/scale.py{' --quick' if args.quick else ''}` "
            f"(files: {', '.join(f.relative_to(CORPUS).as_posix() for f in files)})",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| wall time | {wall / 60:.1f} min | |",
            f"| articles/s | {articles / wall:.0f} | |",
            f"| peak RSS (largest process) | {peak_mb:.0f} MB | |",
            f"| index size | {size / 1e6:.0f} MB | |",
            f"| index size / raw text | {size / raw:.2f}× | ≤ 3× |",
            "",
            f"`vnsearch reindex` said: {summary[-1] if summary else done.stderr[-500:]}",
            "",
        ]
    )
    print(table)
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(table, encoding="utf-8")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
