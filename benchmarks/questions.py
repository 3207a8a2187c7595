"""Natural-language questions (issue 11): does a long question still find the article that answers it?

``benchmarks/data/questions.jsonl`` holds questions the team wrote over VietNews test articles
("Ai …?", "… là gì?", "… bao nhiêu …?", "Khi nào …?", "Vì sao …?"), each answered by a passage of
one article (``article``; ``also`` lists other articles checked to hold the answer). Question
words ("là", "gì", "nào", "bao nhiêu", …) are in no answering passage, so a core that requires
every word would miss; this measures it. MRR@10 and R@10 of the answering article, as written and
folded (marks dropped, đ→d), on an index of VietNews test (22,497 articles).

    .venv/bin/python benchmarks/questions.py --index /work/idx-vietnews-test   # built there if absent
    .venv/bin/python benchmarks/questions.py --quick      # the answering articles + 300 others, temp dir
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import tempfile
from pathlib import Path

import ir_measures
import relevance
from corpus import CORPUS, REPO, VIETNEWS_TEST, git_head, open_or_build, read_jsonl, require, save_table

QUESTIONS = REPO / "benchmarks/data/questions.jsonl"
OUT = REPO / "benchmarks/results/questions.md"
QUICK_DISTRACTORS = 300


def question_set(path: Path = QUESTIONS) -> tuple[relevance.QuerySet, dict[str, list[str]]]:
    """The questions as a query set, and the articles that answer each."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    answers = {r["qid"]: [r["article"], *r.get("also", [])] for r in rows}
    qrels = [ir_measures.Qrel(qid, article, 1) for qid, ids in answers.items() for article in ids]
    return relevance.QuerySet("questions", {r["qid"]: r["question"] for r in rows}, qrels), answers


def articles(corpus: Path, answers: dict[str, list[str]], quick: bool) -> list[dict]:
    """VietNews test; with ``quick``, only the answering articles and the first few hundred others."""
    docs = read_jsonl(corpus / VIETNEWS_TEST)
    if not quick:
        return list(docs)
    wanted = {a for ids in answers.values() for a in ids}
    kept = [d for d in docs if d["id"] in wanted]
    others = (d for d in read_jsonl(corpus / VIETNEWS_TEST) if d["id"] not in wanted)
    return kept + list(itertools.islice(others, QUICK_DISTRACTORS))


def rank_of(scores: relevance.Scores, qid: str, answering: list[str]) -> str:
    """Rank of the first answering article in the top 10."""
    ranks = [rank for rank, doc in enumerate(scores.run[qid], 1) if doc in answering]
    return str(ranks[0]) if ranks else "not in top 10"


def report(
    results: dict[str, relevance.Scores],
    qs: relevance.QuerySet,
    answers: dict[str, list[str]],
    n_docs: int,
    command: str,
    head: str,
    build_s: float | None,
) -> str:
    built = "reused" if build_s is None else f"built in {build_s:.0f} s"
    lines = [
        "# Questions: natural-language questions over VietNews test articles",
        "",
        f"Command: `{command}` — {dt.date.today().isoformat()}, git {head}.",
        "",
        f"{len(qs.queries)} questions written by the team (`benchmarks/data/questions.jsonl`), each answered "
        f"by one article (a few also by other articles, listed in `also`); index: {n_docs:,} VietNews test "
        f"articles ({built}); `Index.search(q, per_page=10)`. Folded: marks dropped, đ→d. R@10: share of "
        "a question's answering articles in its top 10.",
        "",
        "| queries | MRR@10 | R@10 | ms/query |",
        "|---|---:|---:|---:|",
    ]
    for variant, s in results.items():
        lines.append(f"| {variant} | {s.means['MRR@10']:.3f} | {s.means['R@10']:.3f} | {s.ms:.0f} |")
    for variant, s in results.items():
        missed = relevance.misses(s)
        lines += ["", f"Not ranked first, {variant} ({len(missed)}):", ""]
        lines += [f"- {q} (rank {rank_of(s, q, answers[q])}): {qs.queries[q]}" for q in missed] or ["- none"]
    return "\n".join([*lines, ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--index", type=Path, help="vnsearch index of VietNews test: reused if built, else built there"
    )
    ap.add_argument("--quick", action="store_true", help=f"answering articles + {QUICK_DISTRACTORS} others")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, help=f"default {OUT.relative_to(REPO)} (none with --quick)")
    args = ap.parse_args()
    require(args.corpus, VIETNEWS_TEST)
    head = git_head()
    qs, answers = question_set()
    docs = articles(args.corpus, answers, args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        index, build_s = open_or_build(args.index or Path(tmp) / "ix", docs)
        if index.doc_count() != len(docs):
            raise SystemExit(
                f"{index.path} holds {index.doc_count():,} articles, not the expected {len(docs):,}"
            )
        engine = relevance.Vnsearch(index.path)
        results = {
            relevance.WRITTEN: relevance.evaluate(engine, qs),
            relevance.UNACCENTED: relevance.evaluate(engine, relevance.unaccented(qs)),
        }
    command = " ".join(
        ["python benchmarks/questions.py"]
        + (["--quick"] if args.quick else [])
        + ([f"--index {args.index}"] if args.index else [])
    )
    text = report(results, qs, answers, len(docs), command, head, build_s)
    print(text)
    for q, error in engine.failed:
        print(f"vnsearch failed on {q!r}: {error}")
    save_table(text, args.out or (None if args.quick else OUT))


if __name__ == "__main__":
    main()
