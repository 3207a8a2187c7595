"""Search-as-you-type latency: ``Index.complete`` and ``GET /api/suggest`` on what readers type.

Target at ~201k articles: p95 under 10 ms per request. The prefixes are what a reader types on
the way to a real headline (RSS headlines; never the reserved VietNews val set): its first one to
three words, cut after 2 to 6 characters of the last, as written and without marks — 2,000 of them,
in a fixed shuffled order. Each is asked once of the core and once of the Flask app (routing,
validation, JSON, ETag; no network). The completions file is built once per generation when the
index is; a missing one (an index built before it existed) is built here and timed.

    python benchmarks/scale.py --index DIR                  # the whole corpus (~201k articles)
    python benchmarks/suggest_latency.py --index DIR
    python benchmarks/suggest_latency.py --quick            # 600 Dân Trí articles, 300 prefixes (CI)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import CORPUS, git_head, save_table, strip_diacritics  # noqa: E402

import search  # noqa: E402
from search import complete, generations  # noqa: E402
from web import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "suggest_latency.md"
HEADLINES = CORPUS / "rss-headlines" / "docs.jsonl.gz"
QUICK_SOURCE = CORPUS / "unc-dantri" / "docs.jsonl.gz"
SHOWN = ["thanh ph", "ha n", "gia v", "bão", "bao l", "bong d", "tin moi thanh ph", "covid"]
TARGET_P95_MS = 10.0
QUICK_ARTICLES = 600


def headlines(path: Path, limit: int) -> list[str]:
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            title = json.loads(line).get("title")
            if title:
                out.append(title)
            if len(out) >= limit:
                break
    return out


def prefixes(titles: list[str], count: int, seed: int = 14) -> list[str]:
    """What a reader has typed on the way to each headline: 1–3 words, the last cut short."""
    rng = random.Random(seed)
    out = []
    for title in rng.sample(titles, min(count, len(titles))):
        words = title.split()
        n = rng.randint(1, min(3, len(words)))
        typed = words[:n]
        typed[-1] = typed[-1][: rng.randint(2, 6)]
        text = " ".join(typed)
        out.append(strip_diacritics(text).lower() if rng.random() < 0.6 else text)
    return out


def percentiles(ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(ms)}


def timed_each(ask, typed: list[str]) -> tuple[list[float], int]:
    """Milliseconds of each call, and how many calls returned at least one completion."""
    ms, answered = [], 0
    for text in typed:
        started = time.perf_counter()
        found = ask(text)
        ms.append((time.perf_counter() - started) * 1000)
        answered += bool(found)
    return ms, answered


def build_quick_index(path: Path, count: int = QUICK_ARTICLES) -> None:
    """The first ``count`` Dân Trí articles, through the indexer's validation (titles derived)."""
    from indexer.article import to_article

    with gzip.open(QUICK_SOURCE, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(count), fh, strict=False)]
    with search.Index(path).new_generation() as gen:
        gen.add_many(to_article(record).to_dict() for record in records)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/vnsearch-scale"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    for path in (HEADLINES, QUICK_SOURCE):
        if not path.exists():
            sys.exit(f"missing {path}: the team's corpus belongs in ../shared/corpus")
    commit = git_head()
    workdir = tempfile.TemporaryDirectory() if args.quick else None
    index_dir = Path(workdir.name) / "ix" if workdir else args.index
    if workdir:
        build_quick_index(index_dir)
    ix = search.Index(index_dir)
    if not ix.doc_count():
        sys.exit(f"no index at {index_dir}: build it with benchmarks/scale.py --index {index_dir}")
    gen_dir = generations.generations_dir(index_dir) / ix.generation
    file = gen_dir / complete.FILE
    built_here = not file.exists()
    started = time.perf_counter()
    complete.write(gen_dir)  # as GenerationBuilder.finish does; timed again when the build made it
    build_s = time.perf_counter() - started

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    loaded = complete.for_generation(gen_dir)
    load_ms = (time.perf_counter() - started) * 1000
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert loaded is not None
    words = int((loaded.kinds == complete.WORD).sum())

    typed = prefixes(headlines(HEADLINES, 20_000), 300 if args.quick else 2_000)
    for text in typed[:50]:
        ix.complete(text)  # warm: the first touch of the arrays, lru caches of the keys
    core_ms, core_answered = timed_each(ix.complete, typed)
    client = create_app({"INDEX": str(index_dir), "TESTING": True}).test_client()
    client.get("/api/suggest?q=th")
    http_ms, _ = timed_each(
        lambda t: client.get("/api/suggest", query_string={"q": t}).get_json()["completions"], typed
    )

    core, http = percentiles(core_ms), percentiles(http_ms)
    command = "--quick" if args.quick else f"--index {args.index}"
    lines = [
        "# Search-as-you-type latency",
        "",
        f"Command: `python benchmarks/suggest_latency.py {command}` at `{commit}`.",
        "",
        f"Index: {ix.doc_count():,} articles, generation {ix.generation}. Completions: {len(loaded.keys):,} "
        f"candidates ({words:,} lexicon words, {len(loaded.keys) - words:,} title phrases), "
        f"file {file.stat().st_size / 1e6:.1f} MB; gathered in {build_s:.1f} s"
        f"{' (here: the index predates the file)' if built_here else ' (again, as at index time)'}; "
        f"loaded in {load_ms:.0f} ms once per generation and process, "
        f"peak RSS +{(rss_after - rss_before) / 1024:.0f} MB.",
        "",
        f"{len(typed):,} prefixes typed on the way to RSS headlines (1–3 words, the last cut after "
        f"2–6 characters; 60% without marks); {core_answered:,} got at least one completion.",
        "",
        "| path | p50 ms | p95 ms | p99 ms | max ms | target p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in (("`Index.complete`", core), ("`GET /api/suggest` (Flask app, no network)", http)):
        mark = "met" if row["p95"] < TARGET_P95_MS else "NOT met"
        lines.append(
            f"| {name} | {row['p50']:.2f} | {row['p95']:.2f} | {row['p99']:.2f} | {row['max']:.2f} "
            f"| < {TARGET_P95_MS:.0f} ({mark}) |"
        )
    lines += ["", "What a reader sees:", "", "| typed | completions |", "| --- | --- |"]
    for text in SHOWN:
        lines.append(f"| `{text}` | {' · '.join(ix.complete(text)) or '—'} |")
    lines += [
        "",
        "Notes: one process, one thread, on the shared 2-core machine; a request bisects the sorted "
        "folded keys and ranks at most 256 candidates of each kind with numpy, whatever the index size.",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    save_table(table, None if args.quick else OUT)
    if workdir:
        workdir.cleanup()


if __name__ == "__main__":
    main()
