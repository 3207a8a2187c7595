"""Relevance harness (issue 5): vnsearch against peer engines on real Vietnamese news queries.

Set A: the 199 VMDS topics (human-written cluster names) over the 628 VMDS articles plus the 22,497
VietNews test articles as distractors. Set B: known-item search on those VietNews test articles:
1,000 sampled with a fixed seed, the query is the first sentence of the article's ``summary``. One
index holds both (set A's collection contains all of VietNews test). Each set runs as written and
with diacritics removed. vnsearch is built by the real ``vnsearch reindex`` command and queried
through ``search.Index(path).search(q, per_page=10)``; the peers (``peers.py``) see the same
articles and queries.

    .venv/bin/python benchmarks/relevance.py                  # full run; first build takes minutes
    .venv/bin/python benchmarks/relevance.py --quick          # 2,000 distractors, 200 known items
    .venv/bin/python benchmarks/relevance.py --failures 10    # also print the worst queries of each set

Built indexes are cached under ``--workdir`` (default /tmp/vnsearch-relevance), keyed by the corpus
files' contents and the working-tree contents of the index-time code (``INDEX_TIME_CODE``: analysis,
schema, segmentation, text keys, writing, indexer/; peers.py for the peers), so a query-side tuning
iteration only re-runs the queries. Pass ``--rebuild`` if indexing changed anywhere else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
from corpus import CORPUS, REPO, VIETNEWS_TEST, read_jsonl, strip_diacritics, write_jsonl
from ir_measures import RR, R, nDCG
from peers import PEERS, Engine

import search

VMDS = Path("vmds-ktlab")
K = 10
SEED = 20251125
KNOWN_ITEMS = 1000
QUICK_DISTRACTORS, QUICK_KNOWN_ITEMS = 2000, 200
MEASURES = {"MRR@10": RR @ K, "R@10": R @ K, "nDCG@10": nDCG @ K}
TARGET_MRR_WRITTEN, TARGET_MRR_UNACCENTED, TARGET_RECALL = 0.95, 0.93, 0.90
WRITTEN, UNACCENTED = "as written", "no diacritics"
# The code that decides what a built index holds; a change elsewhere (query side) reuses the cached index.
INDEX_TIME_CODE = [
    f"search/{m}.py" for m in ("analysis", "codec", "schema", "segment", "text", "writing")
] + ["indexer/**/*.py"]


# --- data --------------------------------------------------------------------------------------


@dataclass
class Collection:
    """The articles every engine indexes, and the files that hold exactly them for ``vnsearch reindex``."""

    docs: list[dict]
    sources: list[Path]
    label: str


@dataclass
class QuerySet:
    name: str
    queries: dict[str, str]
    qrels: list[ir_measures.Qrel]


def collection(corpus: Path, workdir: Path, distractors: int | None = None) -> Collection:
    """VMDS plus VietNews test (all of it, or its first ``distractors`` articles in a slice file)."""
    vmds = list(read_jsonl(corpus / VMDS / "docs.jsonl"))
    test = list(itertools.islice(read_jsonl(corpus / VIETNEWS_TEST), distractors))
    if distractors is None:
        sources = [corpus / VMDS / "docs.jsonl", corpus / VIETNEWS_TEST]
    else:
        sources = [
            corpus / VMDS / "docs.jsonl",
            write_jsonl(test, workdir / f"vietnews-test-{distractors}.jsonl"),
        ]
    label = f"{len(vmds):,} VMDS + {len(test):,} VietNews test articles"
    return Collection(vmds + test, sources, label)


def topics(corpus: Path, qids: Iterable[str] | None = None) -> QuerySet:
    """Set A: VMDS topics and their cluster articles (optionally only the given topics)."""
    wanted = set(qids) if qids is not None else None
    queries = {
        t["qid"]: t["query"]
        for t in read_jsonl(corpus / VMDS / "topics.jsonl")
        if wanted is None or t["qid"] in wanted
    }
    rows = (corpus / VMDS / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]
    qrels = [ir_measures.Qrel(q, d, int(r)) for q, d, r in (row.split("\t") for row in rows) if q in queries]
    return QuerySet("A: VMDS topics", queries, qrels)


# A full stop ends a sentence unless it closes an abbreviation or initial: "TP. Đà Nẵng", "ông Th. nói".
_ABBREVIATION = re.compile(r"(?:\b[A-ZĐ]{1,4}|\b(?:Th|Tp|ThS|St|Ng|Tr))\.$")
_BOUNDARY = re.compile(r"[.!?…]+[”\"')]*\s+")


def first_sentence(text: str, min_chars: int = 20) -> str:
    """The lead sentence of a summary (a too-short one is joined to the next), as a reader would quote it."""
    for m in _BOUNDARY.finditer(text):
        head = text[: m.end()].strip()
        if len(head) >= min_chars and not _ABBREVIATION.search(head.rstrip("”\"')!?…")):
            return head
    return text.strip()


def known_items(docs: list[dict], n: int, seed: int = SEED) -> QuerySet:
    """Set B: n articles with a summary, the first sentence of which is the query for that article."""
    pool = [d for d in docs if d["id"].startswith("vn-test-") and (d.get("summary") or "").strip()]
    chosen = random.Random(seed).sample(pool, min(n, len(pool)))
    queries = {f"ki-{d['id']}": first_sentence(d["summary"]) for d in chosen}
    qrels = [ir_measures.Qrel(f"ki-{d['id']}", d["id"], 1) for d in chosen]
    return QuerySet("B: VietNews known items", queries, qrels)


def unaccented(qs: QuerySet) -> QuerySet:
    return QuerySet(qs.name, {q: strip_diacritics(t) for q, t in qs.queries.items()}, qs.qrels)


# --- vnsearch, through the commands users run ---------------------------------------------------


def reindex(sources: list[Path], index_dir: Path) -> None:
    """Build with the real ``vnsearch reindex``; any rejected record would make the peers' data differ."""
    command = Path(sys.executable).with_name("vnsearch")
    if not command.exists():
        raise SystemExit(f"{command} not found: install the project first (pip install -e .)")
    subprocess.run(
        [str(command), "reindex", "--index", str(index_dir), *map(str, sources)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Vnsearch:
    name = "vnsearch"

    def __init__(self, index_dir: Path):
        self.index = search.Index(index_dir)
        self.failed: list[tuple[str, str]] = []  # (query, error): refused or crashed, scored as misses

    def search(self, q: str, k: int) -> list[str]:
        try:
            return [h.id for h in self.index.search(q, per_page=k).hits]
        except Exception as exc:  # a QueryError, or a core crash that must not end the whole run
            self.failed.append((q, f"{type(exc).__name__}: {exc}"))
            return []


# --- evaluation ---------------------------------------------------------------------------------


@dataclass
class Scores:
    means: dict[str, float]
    ms: float
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)
    run: dict[str, list[str]] = field(default_factory=dict)


def evaluate(engine: Engine, qs: QuerySet, k: int = K) -> Scores:
    """Mean MRR/Recall/nDCG@k over every query (a query with no hit scores 0) and mean wall time."""
    engine.search(next(iter(qs.queries.values())), k)  # warm-up: models and caches load once
    run, elapsed = {}, 0.0
    for qid, q in qs.queries.items():
        started = time.perf_counter()
        run[qid] = engine.search(q, k)
        elapsed += time.perf_counter() - started
    scored = [
        ir_measures.ScoredDoc(qid, doc, k - rank) for qid, ids in run.items() for rank, doc in enumerate(ids)
    ]
    per_query = {qid: {name: 0.0 for name in MEASURES} for qid in qs.queries}
    names = {measure: name for name, measure in MEASURES.items()}
    for m in ir_measures.iter_calc(list(MEASURES.values()), qs.qrels, scored):
        per_query[m.query_id][names[m.measure]] = m.value
    means = {name: sum(pq[name] for pq in per_query.values()) / len(per_query) for name in MEASURES}
    return Scores(means, elapsed * 1000 / len(qs.queries), per_query, run)


# --- cached builds ------------------------------------------------------------------------------


def content_key(*parts: str | Path) -> str:
    """A short digest of strings and file contents."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        else:
            h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def cached(
    workdir: Path, name: str, key: str, build: Callable[[Path], None], rebuild: bool
) -> tuple[Path, dict]:
    """``workdir/name-key`` built once by ``build``; its ``.json`` beside it marks it complete."""
    path, meta_file = workdir / f"{name}-{key}", workdir / f"{name}-{key}.json"
    if meta_file.exists() and not rebuild:
        return path, json.loads(meta_file.read_text())
    meta_file.unlink(missing_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    meta = {"built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    started = time.perf_counter()
    build(path)
    meta["seconds"] = time.perf_counter() - started
    meta_file.write_text(json.dumps(meta))
    return path, meta


def engines(coll: Collection, workdir: Path, rebuild: bool) -> tuple[list[Engine], dict[str, float]]:
    """vnsearch and the peers over the collection, from the cache when nothing they depend on changed."""
    corpus = content_key(*coll.sources)
    indexing_code = content_key(*sorted(p for pattern in INDEX_TIME_CODE for p in REPO.glob(pattern)))
    path, meta = cached(
        workdir, "vnsearch", content_key(corpus, indexing_code), lambda p: reindex(coll.sources, p), rebuild
    )
    built, seconds = [Vnsearch(path)], {"vnsearch": meta["seconds"]}
    peers_code = content_key(Path(__file__).with_name("peers.py"))
    for peer in PEERS:
        key = content_key(corpus, peers_code)
        path, meta = cached(
            workdir, peer.__name__.lower(), key, lambda p, c=peer: c.build(p, coll.docs), rebuild
        )
        built.append(peer(path))
        seconds[peer.name] = meta["seconds"]
    return built, seconds


# --- report -------------------------------------------------------------------------------------


Results = dict[tuple[str, str, str], Scores]  # (set name, variant, engine name) -> scores


def run_all(engs: list[Engine], sets: list[QuerySet]) -> Results:
    results: Results = {}
    for qs, eng in itertools.product(sets, engs):
        for variant, queries in ((WRITTEN, qs), (UNACCENTED, unaccented(qs))):
            results[qs.name, variant, eng.name] = scores = evaluate(eng, queries)
            print(f"{qs.name} | {variant} | {eng.name}: {_cells(scores)}", file=sys.stderr, flush=True)
    return results


def _cells(s: Scores) -> str:
    return " | ".join([*(f"{s.means[m]:.3f}" for m in MEASURES), f"{s.ms:.1f}"])


def table(results: Results, sets: list[QuerySet], names: list[str]) -> list[str]:
    lines = []
    for qs in sets:
        lines += [
            f"### Set {qs.name} ({len(qs.queries):,} queries)",
            "",
            f"| engine | queries | {' | '.join(MEASURES)} | ms/query |",
            "|---|---|" + "---:|" * (len(MEASURES) + 1),
        ]
        for name, variant in itertools.product(names, (WRITTEN, UNACCENTED)):
            lines.append(f"| {name} | {variant} | {_cells(results[qs.name, variant, name])} |")
        lines.append("")
    return lines


def targets(results: Results, set_a: QuerySet, set_b: QuerySet, peer_names: list[str]) -> list[str]:
    """Issue 5's targets, each with the figure that decides it."""

    def check(ok: bool, text: str) -> str:
        return f"- {'met' if ok else 'NOT MET'}: {text}"

    a = {v: results[set_a.name, v, "vnsearch"].means for v in (WRITTEN, UNACCENTED)}
    lines = [
        check(
            a[WRITTEN]["MRR@10"] >= TARGET_MRR_WRITTEN,
            f"set A MRR@10 as written {a[WRITTEN]['MRR@10']:.3f} ≥ {TARGET_MRR_WRITTEN}",
        ),
        check(
            a[UNACCENTED]["MRR@10"] >= TARGET_MRR_UNACCENTED,
            f"set A MRR@10 without diacritics {a[UNACCENTED]['MRR@10']:.3f} ≥ {TARGET_MRR_UNACCENTED}",
        ),
    ]
    lines += [
        check(a[v]["R@10"] >= TARGET_RECALL, f"set A R@10 {v} {a[v]['R@10']:.3f} ≥ {TARGET_RECALL}")
        for v in (WRITTEN, UNACCENTED)
    ]
    for variant, metric in itertools.product((WRITTEN, UNACCENTED), MEASURES):
        ours = results[set_b.name, variant, "vnsearch"].means[metric]
        best = max(peer_names, key=lambda n: results[set_b.name, variant, n].means[metric])
        theirs = results[set_b.name, variant, best].means[metric]
        relation = "ties" if ours == theirs else "leads" if ours > theirs else "trails"
        lines.append(
            check(
                ours >= theirs,
                f"set B {metric} {variant}: vnsearch {ours:.3f} {relation} best peer {theirs:.3f} ({best})",
            )
        )
    return lines


def misses(scores: Scores) -> list[str]:
    """Queries whose first relevant article is not ranked first, worst first."""
    return sorted(
        (q for q, m in scores.per_query.items() if m["MRR@10"] < 1),
        key=lambda q: (scores.per_query[q]["MRR@10"], scores.per_query[q]["R@10"], q),
    )


def print_failures(results: Results, qs: QuerySet, coll: Collection, limit: int) -> None:
    """vnsearch's worst queries of a set and what it ranked instead (stdout only: corpus text stays out)."""
    titles = {d["id"]: d.get("title") or "" for d in coll.docs}
    relevant: dict[str, list[str]] = {}
    for qrel in qs.qrels:
        relevant.setdefault(qrel.query_id, []).append(qrel.doc_id)
    for variant, queries in ((WRITTEN, qs), (UNACCENTED, unaccented(qs))):
        scores = results[qs.name, variant, "vnsearch"]
        print(f"\n## Worst of set {qs.name}, {variant}")
        for qid in misses(scores)[:limit]:
            m = scores.per_query[qid]
            print(f"\n{qid} RR {m['MRR@10']:.2f} R@10 {m['R@10']:.2f}: {queries.queries[qid]}")
            for rank, doc in enumerate(scores.run[qid][:5], 1):
                print(f"  {rank}. {'*' if doc in relevant[qid] else ' '} {doc}: {titles[doc]}")
            for doc in relevant[qid]:
                if doc not in scores.run[qid]:
                    print(f"  missed  {doc}: {titles[doc]}")


def report(
    results: Results,
    sets: list[QuerySet],
    coll: Collection,
    names: list[str],
    build_s: dict[str, float],
    failed: list[tuple[str, str]],
    command: str,
    head: str,
) -> str:
    set_a, set_b = sets
    written_misses = misses(results[set_a.name, WRITTEN, "vnsearch"])
    lines = [
        "# Relevance: vnsearch and peers on real Vietnamese news queries",
        "",
        f"Command: `{command}` — {dt.date.today().isoformat()}, git {head}, "
        f"{os.cpu_count()} CPUs (shared: times are indicative).",
        "",
        f"One index per engine holds {len(coll.docs):,} articles ({coll.label}); it serves both sets. "
        "Every engine indexes title, summary and body (weights 2 / 1.5 / 1 for the peers) and returns "
        f"its top {K}. vnsearch is built by `vnsearch reindex` and queried with "
        "`search.Index(path).search(q, per_page=10)` (its time includes highlighting and facets); the "
        'peers get the query\'s word tokens OR-ed. "no diacritics": NFD, combining marks dropped, đ→d.',
        "Build times (s, from the cache when reused): "
        + ", ".join(f"{n} {s:.0f}" for n, s in build_s.items())
        + ".",
        f"Queries vnsearch refused or failed on (scored as misses; printed on stdout): {len(failed)}"
        + "".join(f"; {error}" for error in sorted({e for _q, e in failed}))
        + ".",
        "",
        *table(results, sets, names),
        "## Targets",
        "",
        *targets(results, set_a, set_b, names[1:]),
        "",
        f"Set A topics vnsearch does not rank first as written ({len(written_misses)}): "
        + (", ".join(written_misses) or "none")
        + ". `--failures N` prints the worst with what was ranked instead.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="first 2,000 VietNews test articles, 200 known items"
    )
    ap.add_argument(
        "--workdir", type=Path, default=Path("/tmp/vnsearch-relevance"), help="cache of built indexes"
    )
    ap.add_argument(
        "--known-items", type=int, metavar="N", help="set B size (default 1,000; 200 with --quick)"
    )
    ap.add_argument("--rebuild", action="store_true", help="rebuild every index even if cached")
    ap.add_argument(
        "--failures", type=int, default=0, metavar="N", help="print the N worst queries of each set"
    )
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus directory")
    ap.add_argument(
        "--out",
        type=Path,
        help="default benchmarks/results/relevance.md (WORKDIR/relevance-quick.md with --quick)",
    )
    args = ap.parse_args()
    out = args.out or (
        args.workdir / "relevance-quick.md" if args.quick else REPO / "benchmarks/results/relevance.md"
    )
    head = subprocess.run(  # the code the run loads, before anyone commits during it
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    coll = collection(args.corpus, args.workdir, QUICK_DISTRACTORS if args.quick else None)
    sets = [
        topics(args.corpus),
        known_items(coll.docs, args.known_items or (QUICK_KNOWN_ITEMS if args.quick else KNOWN_ITEMS)),
    ]
    engs, build_s = engines(coll, args.workdir, args.rebuild)
    results = run_all(engs, sets)
    command = " ".join(
        ["python benchmarks/relevance.py", *(["--quick"] if args.quick else [])]
        + ([f"--known-items {args.known_items}"] if args.known_items else [])
    )
    text = report(results, sets, coll, [e.name for e in engs], build_s, engs[0].failed, command, head)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    for q, error in engs[0].failed:
        print(f"vnsearch failed on {q!r}: {error}")
    for qs in sets if args.failures else []:
        print_failures(results, qs, coll, args.failures)


if __name__ == "__main__":
    main()
