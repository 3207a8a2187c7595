"""Small relevance check that chose the token scheme and query weights in ``search.query.Tuning``.

VMDS topics (199 human-written cluster names, 628 articles) over those articles plus the first
N VietNews *test* articles as distractors; each tuning variant queried as written and with
diacritics removed. MRR@10 and Recall@10 via ir-measures.

    python benchmarks/token_scheme.py [--distractors 5000] [--out benchmarks/results/token_scheme.md]

The full harness (peers, more sets) is ``benchmarks/relevance.py``; this one stays small so a
scheme can be tried in a minute.
"""

import argparse
import dataclasses
import gzip
import itertools
import json
import tempfile
import time
from pathlib import Path

import ir_measures
from ir_measures import RR, R

import search
from search.query import DEFAULT_TUNING
from search.text import fold

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
VARIANTS = {
    "syllables only": dict(word=0.0, title_phrase=0.0),
    "syllables + pyvi query words": dict(ngrams=False, title_phrase=0.0),
    "syllables + pyvi words + 2-3 syllable candidates": dict(title_phrase=0.0),
    "chosen, title bonus 0.25": dict(title_phrase=0.25),
    "chosen, title bonus 0.5": dict(title_phrase=0.5),
    "chosen, word tokens x0.5": dict(word=0.5),
    "chosen, syllables of found words not down-weighted": dict(covered=1.0),
    "chosen, every term decides matching": dict(common=1.0),
    "chosen, common above 5%": dict(common=0.05),
    "chosen, no folded fallback": dict(fallback=0.0),
    "chosen: syllables + word candidates + title bonus 1.0 (DEFAULT_TUNING)": {},
}


def read_jsonl(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def articles(n_distractors: int):
    yield from read_jsonl(SHARED / "vmds-ktlab" / "docs.jsonl")
    yield from itertools.islice(read_jsonl(SHARED / "vietnews" / "docs-test.jsonl.gz"), n_distractors)


def topics() -> tuple[list[tuple[str, str]], list]:
    queries = [(t["qid"], t["query"]) for t in read_jsonl(SHARED / "vmds-ktlab" / "topics.jsonl")]
    rows = (SHARED / "vmds-ktlab" / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]
    qrels = [ir_measures.Qrel(q, d, int(r)) for q, d, r in (row.split("\t") for row in rows)]
    return queries, qrels


def evaluate(ix: search.Index, queries, qrels, accentless: bool) -> dict:
    run, elapsed = [], 0.0
    for qid, text in queries:
        q = fold(text) if accentless else text
        res = ix.search(q, per_page=10)
        elapsed += res.took_ms
        run.extend(ir_measures.ScoredDoc(qid, h.id, 10 - i) for i, h in enumerate(res.hits))
    scores = ir_measures.calc_aggregate([RR @ 10, R @ 10], qrels, run)
    return {"mrr": scores[RR @ 10], "recall": scores[R @ 10], "ms": elapsed / len(queries)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distractors", type=int, default=5000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/token_scheme.md"))
    ap.add_argument("--index", type=Path, help="keep the index here and reuse it on the next run")
    ap.add_argument("--only", help="run only the variants whose name contains this")
    ap.add_argument(
        "--title-boost", type=float, help="index-time title weight to build with (default: the core's)"
    )
    args = ap.parse_args()
    queries, qrels = topics()
    if args.title_boost:
        search.analysis.TITLE_BOOST = args.title_boost  # workers fork after this: they build with it
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index or Path(tmp)
        started = time.perf_counter()
        built = "reused from --index"
        if search.Index(path).generation is None:
            with search.Index(path).new_generation() as gen:
                gen.add_many(articles(args.distractors))
            built = f"built in {time.perf_counter() - started:.0f} s"
        n = search.Index(path).doc_count()
        rows = []
        for name, change in VARIANTS.items():
            if args.only and args.only not in name:
                continue
            ix = search.Index(path, tuning=dataclasses.replace(DEFAULT_TUNING, **change))
            acc, bare = evaluate(ix, queries, qrels, False), evaluate(ix, queries, qrels, True)
            rows.append(
                f"| {name} | {acc['mrr']:.3f} | {bare['mrr']:.3f} | {acc['recall']:.3f} "
                f"| {bare['recall']:.3f} | {acc['ms']:.1f} |"
            )
            print(rows[-1], flush=True)
    table = "\n".join(
        [
            f"# Token scheme check: {len(queries)} VMDS topics over {n} articles "
            f"(628 VMDS + {n - 628} VietNews test distractors), index-time title weight "
            f"{search.analysis.TITLE_BOOST:g}",
            "",
            f"Command: `python benchmarks/token_scheme.py --distractors {args.distractors}` (index {built})",
            "",
            "| variant | MRR@10 accented | MRR@10 accentless | R@10 accented | R@10 accentless | ms/query |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
