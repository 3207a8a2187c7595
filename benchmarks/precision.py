"""The reader's view (issue 11, item 5): do the results hold every word typed, and are the counts honest?

A dated collection (``--size`` articles: all of Dân Trí up to a tenth of them, all of VMDS up to a
fiftieth, the rest a fixed-seed sample of rss-headlines) and the reader queries of
``benchmarks/data/reader_queries.txt``, each as written and folded. An independent judge
(``judge.py``, not vnsearch's tokenizer) says which articles satisfy a query, in two readings:
every query syllable as a whole token (issue 11's definition), and besides every word of the
query (syllables the team joined with ``_``) as adjacent syllables. Per reading, system and variant:

- NP@10: share of the top 10 under sort=newest that satisfy (queries with no result left out);
- RP@10: the same under relevance;
- inflation: the total the system reports ÷ the articles that satisfy (median over queries);
- newest in top 10: share of queries whose newest satisfying date is reached in the newest top 10;
- vnsearch's relaxed share (``Results.relaxed`` once the core has it; 0 before).

    .venv/bin/python benchmarks/precision.py --index /work/idx-precision   # builds it there once
    .venv/bin/python benchmarks/precision.py --quick                        # 600 articles, temp dirs

Peers (``peers.py``): SQLite FTS5 with its default AND, Tantivy with its default OR and with
every word required (``+word``), over the same articles, with dates for sort=newest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from corpus import CORPUS, REPO, git_head, open_or_build, read_jsonl, require, save_table, strip_diacritics
from judge import Judge
from peers import DatedFts5, DatedTantivy

import search

K = 10
SEED = 20261202
DEFAULT_SIZE, QUICK_SIZE = 40_000, 600
RSS = Path("rss-headlines/docs.jsonl.gz")
DANTRI = Path("unc-dantri/docs.jsonl.gz")
VMDS = Path("vmds-ktlab/docs.jsonl")
QUERIES = REPO / "benchmarks/data/reader_queries.txt"
OUT = REPO / "benchmarks/results/precision.md"
WRITTEN, FOLDED = "as written", "folded"
SYLLABLES, WORDS = "every syllable", "every word"
READINGS = {SYLLABLES: Judge.satisfying, WORDS: Judge.holding_words}
TARGETS = {"NP@10": 0.98, "inflation": 1.05, "newest in top 10": 0.97}
WORST = 6


# --- data ------------------------------------------------------------------------------------------


def collection(corpus: Path, size: int, seed: int = SEED) -> list[dict]:
    """Dân Trí (≤ size/10), VMDS (≤ size/50) and an rss-headlines sample for the rest, fixed seed."""
    rng = random.Random(seed)
    parts = []
    for path, cap in ((DANTRI, size // 10), (VMDS, size // 50)):
        docs = list(read_jsonl(corpus / path))
        parts += docs if cap >= len(docs) else rng.sample(docs, cap)
    rss = [d for d in read_jsonl(corpus / RSS) if d.get("date")]
    return parts + rng.sample(rss, min(len(rss), size - len(parts)))


def reader_queries(path: Path = QUERIES) -> list[str]:
    """One query per line as a reader types it with diacritics (``_`` joins a word's syllables)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


# --- systems ---------------------------------------------------------------------------------------


@dataclass
class Answer:
    ids: list[str]
    total: int
    relaxed: bool = False
    required: list[str] | None = None  # the words vnsearch required, once its core reports them


class Vnsearch:
    name = "vnsearch"

    def __init__(self, index: search.Index):
        self.index = index

    def run(self, q: str, k: int, sort: str) -> Answer:
        res = self.index.search(q, sort=sort, per_page=k)
        ids = [h.id for h in res.hits]
        return Answer(ids, res.total, getattr(res, "relaxed", False), getattr(res, "required", None))


class Peer:
    """A dated peer engine behind the same interface as vnsearch."""

    def __init__(self, engine: DatedFts5 | DatedTantivy):
        self.engine, self.name = engine, engine.name

    def run(self, q: str, k: int, sort: str) -> Answer:
        ids, total = self.engine.run(q, k, sort)
        return Answer(ids, total)


def peers(workdir: Path, docs: list[dict]) -> list[Peer]:
    """The peers over the docs, built once per workdir (a ``ready`` file marks a finished build)."""
    built = {}
    for cls in (DatedFts5, DatedTantivy):
        path = workdir / cls.__name__.lower()
        if not (path / "ready").exists():
            cls.build(path, docs)
            (path / "ready").touch()
        built[cls] = path
    return [
        Peer(DatedFts5(built[DatedFts5])),
        Peer(DatedTantivy(built[DatedTantivy])),
        Peer(DatedTantivy(built[DatedTantivy], required=True)),
    ]


# --- measures --------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One query on one system: None where a measure is undefined (no result, nothing satisfies)."""

    query: str
    satisfying: int
    total: int
    np: float | None
    rp: float | None
    inflation: float | None
    newest_in_top: bool | None
    latest: str | None  # the newest satisfying article's date
    relaxed: bool
    required: list[str] | None
    misses: list[str]  # ids in the newest top 10 that do not satisfy


def share(ids: list[str], good: set[str]) -> float | None:
    return sum(i in good for i in ids) / len(ids) if ids else None


def measure(system, annotated: str, good: set[str], dates: dict[str, str | None]) -> Figures:
    """One query on one system, judged against the articles that satisfy it (``good``)."""
    q = annotated.replace("_", " ")
    newest, ranked = system.run(q, K, "newest"), system.run(q, K, "relevance")
    latest = max((dates[i] for i in good), default=None)
    return Figures(
        query=q,
        satisfying=len(good),
        total=ranked.total,
        np=share(newest.ids, good),
        rp=share(ranked.ids, good),
        inflation=ranked.total / len(good) if good else None,
        newest_in_top=any(i in good and dates[i] == latest for i in newest.ids) if good else None,
        latest=latest,
        relaxed=ranked.relaxed,
        required=ranked.required,
        misses=[i for i in newest.ids if i not in good],
    )


def summary(rows: list[Figures]) -> dict[str, float | None]:
    def mean(values):
        values = [v for v in values if v is not None]
        return statistics.fmean(values) if values else None

    inflations = [r.inflation for r in rows if r.inflation is not None]
    return {
        "NP@10": mean(r.np for r in rows),
        "RP@10": mean(r.rp for r in rows),
        "inflation": statistics.median(inflations) if inflations else None,
        "newest in top 10": mean(r.newest_in_top for r in rows),
        "relaxed": mean(r.relaxed for r in rows),
        "no result": sum(r.np is None for r in rows),
    }


Run = dict[tuple[str, str, str], list[Figures]]  # (reading, system name, variant) -> one row per query


def run_all(systems: list, queries: list[str], judge: Judge) -> Run:
    variants = {WRITTEN: queries, FOLDED: [strip_diacritics(q) for q in queries]}
    results: Run = {}
    for (reading, satisfying), system, (variant, qs) in itertools.product(
        READINGS.items(), systems, variants.items()
    ):
        rows = [measure(system, q, satisfying(judge, q), judge.dates) for q in qs]
        results[reading, system.name, variant] = rows
        print(f"{reading} | {system.name} | {variant}: {summary(rows)}", file=sys.stderr)
    return results


# --- report ----------------------------------------------------------------------------------------


def cell(value: float | None, fmt: str = ".3f") -> str:
    return "–" if value is None else format(value, fmt)


def table(results: Run, reading: str) -> list[str]:
    lines = [
        f"### Judged by {reading}",
        "",
        "| system | queries | NP@10 | RP@10 | median inflation | newest in top 10 | relaxed share "
        "| no result |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (judged, name, variant), rows in results.items():
        if judged != reading:
            continue
        s = summary(rows)
        relaxed = cell(s["relaxed"]) if name == Vnsearch.name else ""
        lines.append(
            f"| {name} | {variant} | {cell(s['NP@10'])} | {cell(s['RP@10'])} | {cell(s['inflation'], '.2f')} "
            f"| {cell(s['newest in top 10'])} | {relaxed} | {s['no result']} |"
        )
    return lines


def targets(results: Run) -> list[str]:
    lines = []
    for reading, variant in itertools.product(READINGS, (WRITTEN, FOLDED)):
        s = summary(results[reading, Vnsearch.name, variant])
        checks = [
            ("NP@10", s["NP@10"], s["NP@10"] is not None and s["NP@10"] >= TARGETS["NP@10"], "≥"),
            (
                "inflation",
                s["inflation"],
                s["inflation"] is not None and s["inflation"] <= TARGETS["inflation"],
                "≤",
            ),
            (
                "newest in top 10",
                s["newest in top 10"],
                s["newest in top 10"] is not None and s["newest in top 10"] >= TARGETS["newest in top 10"],
                "≥",
            ),
        ]
        lines += [
            f"- {'met' if ok else 'NOT MET'}: by {reading}, vnsearch {variant} {name} {cell(value)} "
            f"{op} {TARGETS[name]}"
            for name, value, ok, op in checks
        ]
    return lines


def flawed(r: Figures) -> bool:
    """A query that misses any target: an imprecise top 10, an inflated count, the newest left out."""
    imprecise = any(v is not None and v < 1 for v in (r.np, r.rp))
    inflated = r.inflation is not None and r.inflation > TARGETS["inflation"]
    return imprecise or inflated or r.newest_in_top is False


def worst(rows: list[Figures], n: int = WORST) -> list[Figures]:
    """vnsearch's flawed queries: least precise newest top 10 first, then the most inflated counts."""
    bad = [r for r in rows if flawed(r)]
    return sorted(bad, key=lambda r: (r.np if r.np is not None else 2, -(r.inflation or 0)))[:n]


def worst_lines(results: Run) -> list[str]:
    lines = []
    for reading, variant in itertools.product(READINGS, (WRITTEN, FOLDED)):
        rows = results[reading, Vnsearch.name, variant]
        flaws = f"{sum(map(flawed, rows))} of {len(rows)} queries miss a target"
        lines += [f"Judged by {reading}, vnsearch {variant} ({flaws}):", ""]
        lines += [
            f"- `{r.query}`: NP@10 {cell(r.np, '.1f')}, RP@10 {cell(r.rp, '.1f')}, "
            f"total {r.total:,} for {r.satisfying:,} satisfying"
            + ("" if r.newest_in_top is not False else f", newest satisfying ({r.latest}) not in the top 10")
            + ("" if r.required is None else f"; required {r.required}{', relaxed' if r.relaxed else ''}")
            for r in worst(rows)
        ]
        lines.append("")
    return lines


def print_misses(results: Run, docs: list[dict]) -> None:
    """Where vnsearch's misses come from: a non-satisfying newest hit of each worst query (stdout only)."""
    titles = {d["id"]: (d.get("title") or d.get("body") or "")[:90] for d in docs}
    for reading, variant in itertools.product(READINGS, (WRITTEN, FOLDED)):
        print(f"\n## By {reading}, vnsearch's worst queries {variant}: a newest top-10 hit that fails")
        for r in worst(results[reading, Vnsearch.name, variant]):
            example = f"{r.misses[0]}: {titles[r.misses[0]]}" if r.misses else "(none)"
            print(f"{r.query!r}: {len(r.misses)} of the top 10 miss, e.g. {example}")


def report(
    results: Run, docs: list[dict], n_queries: int, command: str, head: str, build_s: float | None
) -> str:
    sources = {p: sum(d["id"].startswith(p) for d in docs) for p in ("rss-", "unc-", "vmds-")}
    days = sorted(d["date"] for d in docs if d.get("date"))
    built = "reused" if build_s is None else f"built in {build_s:.0f} s"
    return "\n".join(
        [
            "# Precision: the reader's view (issue 11, item 5)",
            "",
            f"Command: `{command}` — {dt.date.today().isoformat()}, git {head}.",
            "",
            f"{len(docs):,} dated articles ({sources['rss-']:,} rss-headlines sampled with seed {SEED}, "
            f"{sources['unc-']:,} Dân Trí, {sources['vmds-']:,} VMDS; {days[0]} … {days[-1]}); "
            f"vnsearch index {built}. {n_queries} reader queries (`benchmarks/data/reader_queries.txt`), "
            "each as written and folded (marks dropped, đ→d). Judge (`benchmarks/judge.py`, regex tokens,"
            " not vnsearch's tokenizer): an article satisfies a query *by every syllable* when it holds "
            "every query syllable as a whole token in its title, summary or body (issue 11's definition),"
            " *by every word* when besides each word of the query (syllables the team joined with `_` in "
            "the file: `Hải_Phòng`, `điểm_chuẩn`) occurs as adjacent syllables; marks compared (any tone "
            "placement) for a query typed with them, folded otherwise. NP@10 / RP@10: share of the top 10"
            " under sort=newest / relevance that satisfy, averaged over the queries with a result ('no "
            "result' counts the others). Inflation: total reported ÷ satisfying articles. Newest in top "
            "10: the newest satisfying date is among the newest top 10. FTS5 (remove_diacritics 2) "
            "compares folded text even for accented queries and does not fold đ; Tantivy's default "
            "tokenizer keeps marks, so folded queries match only text written without them (an inflation "
            "below 1: the system finds fewer articles than the judge).",
            "",
            *table(results, SYLLABLES),
            "",
            *table(results, WORDS),
            "",
            "## Targets (issue 11)",
            "",
            *targets(results),
            "",
            "## vnsearch's worst queries (missing a target; least precise newest top 10 first)",
            "",
            *worst_lines(results),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--index", type=Path, help="vnsearch index of the collection: reused if built, else built there"
    )
    ap.add_argument("--size", type=int, help=f"articles in the collection (default {DEFAULT_SIZE:,})")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE} articles, temporary indexes")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/vnsearch-precision"), help="peers' indexes")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, help=f"default {OUT.relative_to(REPO)} (none with --quick)")
    args = ap.parse_args()
    require(args.corpus, RSS, DANTRI, VMDS)
    size = args.size or (QUICK_SIZE if args.quick else DEFAULT_SIZE)
    head = git_head()
    docs = collection(args.corpus, size)
    queries = reader_queries()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) if args.quick else args.workdir / f"size-{size}"
        index, build_s = open_or_build(args.index or workdir / "vnsearch", docs)
        if index.doc_count() != len(docs):
            raise SystemExit(
                f"{index.path} holds {index.doc_count():,} articles, not this collection's {len(docs):,}"
            )
        results = run_all([Vnsearch(index), *peers(workdir, docs)], queries, Judge(docs))
    command = " ".join(
        ["python benchmarks/precision.py"]
        + (["--quick"] if args.quick else [])
        + ([f"--size {args.size}"] if args.size else [])
        + ([f"--index {args.index}"] if args.index else [])
    )
    text = report(results, docs, len(queries), command, head, build_s)
    print(text)
    print_misses(results, docs)
    save_table(text, args.out or (None if args.quick else OUT))


if __name__ == "__main__":
    main()
