"""Story grouping (issue 16, item 2): are articles grouped as one story really one story, and are
republished copies grouped?

One index holds the 628 VMDS articles (199 events, each reported by 2–5 outlets), the VietNews test
articles as distractors, and synthetic copies of VietNews articles with a share of their words
replaced, deleted or inserted (fixed seed). Measured:

* pair precision on VMDS: of the pairs of VMDS articles put in one story, the share that belong to
  one VMDS cluster (target ≥ 0.95), and how many pairs that is;
* copies grouped: the share of copies in the story of their original, per share of words changed
  (target 100 % up to 10 %), and copies put in the story of another article;
* the cost: the signature's share of analysis time per article, the index build, and building the
  story labels of a generation (done once per generation, on its first search).

    .venv/bin/python benchmarks/stories.py           # VMDS + 22,497 VietNews test + 1,000 copies per rate
    .venv/bin/python benchmarks/stories.py --quick   # 300 distractors, 50 copies per rate
"""

from __future__ import annotations

import argparse
import itertools
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from corpus import (
    CORPUS,
    REPO,
    VIETNEWS_TEST,
    article,
    build_index,
    git_head,
    read_jsonl,
    require,
    save_table,
)

import search
from search import matching, stories
from search.analysis import is_syllable, segment_article

VMDS = Path("vmds-ktlab/docs.jsonl")
SEED = 20261203
RATES = (0.05, 0.10, 0.20, 0.30)  # share of a copy's words changed; the target covers up to 0.10
COPIES, QUICK_COPIES, QUICK_DISTRACTORS = 1000, 50, 300
MIN_WORDS = 50  # originals long enough to be worth republishing
TIMED = 300  # articles whose analysis and signature are timed


def mutated(text: str, rate: float, vocabulary: list[str], rnd: random.Random) -> str:
    """``text`` with ``rate`` of its words changed: each change replaces, deletes or inserts a word."""
    words = text.split()
    for _ in range(round(len(words) * rate)):
        i, op = rnd.randrange(len(words)), rnd.randrange(3)
        if op == 0:
            words[i] = rnd.choice(vocabulary)
        elif op == 1 and len(words) > 1:
            del words[i]
        else:
            words.insert(i, rnd.choice(vocabulary))
    return " ".join(words)


def copies(originals: list[dict], count: int, rnd: random.Random) -> list[tuple[dict, str, float]]:
    """(copy, original id, rate) for ``count`` originals at each rate."""
    vocabulary = [w for doc in originals[:2000] for w in doc["body"].split()]
    long_ones = [d for d in originals if len(d["body"].split()) >= MIN_WORDS]
    out = []
    for doc in rnd.sample(long_ones, count):
        for rate in RATES:
            copy = dict(doc, id=f"{doc['id']}~{rate:.2f}")
            copy["body"] = mutated(doc["body"], rate, vocabulary, rnd)
            copy["summary"] = mutated(doc.get("summary") or "", rate, vocabulary, rnd)
            out.append((copy, doc["id"], rate))
    return out


def analysis_cost(docs: list[dict]) -> tuple[float, float]:
    """Milliseconds per article: pyvi analysis, and the signature on top of it."""
    seg_s = sig_s = 0.0
    for doc in docs:
        started = time.perf_counter()
        seg = segment_article(article(doc))
        middle = time.perf_counter()
        stories.signature([k for k, *_ in seg["text"] if is_syllable(k)])
        seg_s, sig_s = seg_s + middle - started, sig_s + time.perf_counter() - middle
    return seg_s * 1000 / len(docs), sig_s * 1000 / len(docs)


def story_of(index: search.Index) -> tuple[dict[str, int], float]:
    """Each article id's story label, and the seconds a fresh generation takes to label them."""
    searcher = index.searcher()
    cols = matching.Columns(searcher)  # not the cached one the opening probe built
    started = time.perf_counter()
    labels = cols.stories
    seconds = time.perf_counter() - started
    ids = [searcher.stored_fields(d)["id"] for d in range(cols.n)]
    return dict(zip(ids, (int(x) for x in labels), strict=True)), seconds


def grouped_pairs(label: dict[str, int], ids: list[str]) -> list[tuple[str, str]]:
    members = defaultdict(list)
    for i in ids:
        members[label[i]].append(i)
    return [pair for group in members.values() for pair in itertools.combinations(group, 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, to check the script works")
    args = parser.parse_args()
    require(CORPUS, VMDS, VIETNEWS_TEST)
    rnd = random.Random(SEED)
    vmds = list(read_jsonl(CORPUS / VMDS))
    news = list(read_jsonl(CORPUS / VIETNEWS_TEST))
    if args.quick:
        news = rnd.sample(news, QUICK_DISTRACTORS)
    made = copies(news, QUICK_COPIES if args.quick else COPIES, rnd)
    docs = vmds + news + [c for c, _, _ in made]
    seg_ms, sig_ms = analysis_cost(rnd.sample(news, min(TIMED, len(news))))
    with tempfile.TemporaryDirectory(prefix="vnsearch-stories-") as tmp:
        build_s = build_index(Path(tmp) / "ix", docs)
        label, label_s = story_of(search.Index(Path(tmp) / "ix"))

    cluster = {d["id"]: d["cluster"] for d in vmds}
    vmds_pairs = grouped_pairs(label, list(cluster))
    right = sum(cluster[a] == cluster[b] for a, b in vmds_pairs)
    same_event = sum(len(list(itertools.combinations(g, 2))) for g in _clusters(vmds).values())
    per_rate = {rate: [label[c["id"]] == label[orig] for c, orig, r in made if r == rate] for rate in RATES}
    strays = _strays(label, made)
    table = render(
        args, len(docs), vmds_pairs, right, same_event, per_rate, strays, seg_ms, sig_ms, build_s, label_s
    )
    print(table)
    save_table(table, None if args.quick else REPO / "benchmarks" / "results" / "stories.md")


def _clusters(vmds: list[dict]) -> dict[str, list[str]]:
    out = defaultdict(list)
    for d in vmds:
        out[d["cluster"]].append(d["id"])
    return out


def _strays(label: dict[str, int], made: list) -> tuple[int, int]:
    """Copies put in another article's story and not their original's (the grouping's error), and
    originals whose story holds other articles than their copies (follow-ups that repeat much of
    the report, in the corpus itself)."""
    members, original = defaultdict(set), {c["id"]: o for c, o, _ in made}
    for i, lab in label.items():
        members[lab].add(original.get(i, i))
    wrong = sum(1 for c, o, _ in made if label[c["id"]] != label[o] and len(members[label[c["id"]]]) > 1)
    shared = sum(1 for o in {o for _, o, _ in made} if len(members[label[o]]) > 1)
    return wrong, shared


def render(args, n, vmds_pairs, right, same_event, per_rate, strays, seg_ms, sig_ms, build_s, label_s) -> str:
    precision = right / len(vmds_pairs) if vmds_pairs else float("nan")
    lines = [
        "# Story grouping: near-duplicate articles as one story",
        "",
        f"Command: `.venv/bin/python benchmarks/stories.py{' --quick' if args.quick else ''}` "
        f"at `{git_head()}`.",
        f"One index of {n:,} articles: 628 VMDS, VietNews test distractors, synthetic copies.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| VMDS pairs in one story that share a VMDS cluster | {right} / {len(vmds_pairs)} = "
        f"{precision:.3f} | ≥ 0.95 |",
        f"| VMDS same-event pairs grouped (independent reports, mostly not copies) | "
        f"{right} / {same_event} | — |",
    ]
    for rate, hits in per_rate.items():
        target = "100 %" if rate <= 0.10 else "—"
        lines.append(
            f"| copies with {rate:.0%} of words changed grouped with their original | "
            f"{sum(hits)} / {len(hits)} = {sum(hits) / len(hits):.3f} | {target} |"
        )
    lines += [
        f"| copies put in another article's story, not their original's | {strays[0]} | 0 |",
        f"| originals whose story holds other articles of the corpus (not copies) | {strays[1]} / "
        f"{len(per_rate[RATES[0]])} | — |",
        f"| analysis per article (pyvi, tokens) | {seg_ms:.2f} ms | — |",
        f"| signature per article on top | {sig_ms:.2f} ms ({sig_ms / seg_ms:.1%}) | — |",
        f"| index build ({n:,} articles, 2 workers) | {build_s:.1f} s | — |",
        f"| story labels of a fresh generation ({n:,} articles) | {label_s * 1000:.0f} ms | — |",
        "",
        "Notes: a copy keeps its title; its body and summary get the changes (replace, delete or insert a",
        "word, each a third of the time). Shingles of 3 syllables, 128 MinHash values (16 bits kept),",
        "bands of 2, pairs agreeing on ≥ 40 % of values (`search/stories.py`).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
