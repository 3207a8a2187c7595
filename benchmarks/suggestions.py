"""Suggestion quality (issue 11, item 4): does an accentless query get its accents back?

300 fragments of 3–6 syllables cut from VietNews test headlines (fixed seed), folded (marks dropped,
đ→d) and searched; the restored text is the suggestion, or the query itself when there is none.
A fragment is restored exactly when every syllable equals the original's up to case and tone
placement (``judge.same_syllable``); per-syllable accuracy counts the syllables restored so.

Fragments are runs of purely alphabetic syllables inside one stretch of a headline (no punctuation
or numbers inside), with at least one mark to restore. The index is VietNews test (22,497 articles).

    .venv/bin/python benchmarks/suggestions.py --index /work/idx-vietnews-test   # built there if absent
    .venv/bin/python benchmarks/suggestions.py --quick                            # 300 articles, 30 fragments
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from corpus import (
    CORPUS,
    REPO,
    VIETNEWS_TEST,
    git_head,
    open_or_build,
    read_jsonl,
    require,
    save_table,
    strip_diacritics,
)
from judge import has_marks, same_syllable, tokens

SEED = 20261203
FRAGMENTS, QUICK_FRAGMENTS, QUICK_ARTICLES = 300, 30, 300
MIN_SYLLABLES, MAX_SYLLABLES = 3, 6
TARGET_EXACT, TARGET_SYLLABLE = 0.95, 0.99
OUT = REPO / "benchmarks/results/suggestions.md"
STRETCH = re.compile(r"[^\W\d_]+(?:\s+[^\W\d_]+)*")  # alphabetic syllables separated by spaces only
FAILURES = 20


@dataclass
class Check:
    original: str
    query: str
    restored: str
    suggested: bool

    @property
    def right(self) -> list[bool]:
        """Per original syllable: restored to it (position by position)."""
        got = tokens(self.restored)
        return [i < len(got) and same_syllable(got[i], s) for i, s in enumerate(tokens(self.original))]

    @property
    def exact(self) -> bool:
        return len(tokens(self.restored)) == len(tokens(self.original)) and all(self.right)


def fragments(titles: list[str], n: int, seed: int = SEED) -> list[str]:
    """n headline fragments of 3–6 syllables with marks, one per sampled headline, fixed seed."""
    rng = random.Random(seed)
    out = []
    for title in rng.sample(titles, len(titles)):
        runs = [m.group().split() for m in STRETCH.finditer(title)]
        runs = [r for r in runs if len(r) >= MIN_SYLLABLES]
        if not runs:
            continue
        run = rng.choice(runs)
        size = rng.randint(MIN_SYLLABLES, min(MAX_SYLLABLES, len(run)))
        start = rng.randint(0, len(run) - size)
        fragment = " ".join(run[start : start + size])
        if has_marks(fragment):
            out.append(fragment)
        if len(out) == n:
            break
    return out


def check(index, fragment: str) -> Check:
    query = strip_diacritics(fragment)
    suggestion = index.search(query).suggestion
    return Check(fragment, query, suggestion or query, suggestion is not None)


def report(checks: list[Check], n_articles: int, command: str, head: str, build_s: float | None) -> str:
    exact = sum(c.exact for c in checks) / len(checks)
    right = list(itertools.chain.from_iterable(c.right for c in checks))
    per_syllable = sum(right) / len(right)
    suggested = sum(c.suggested for c in checks) / len(checks)
    built = "reused" if build_s is None else f"built in {build_s:.0f} s"
    return "\n".join(
        [
            "# Suggestions: accents restored to folded headline fragments (issue 11, item 4)",
            "",
            f"Command: `{command}` — {dt.date.today().isoformat()}, git {head}.",
            "",
            f"Index: {n_articles:,} VietNews test articles ({built}). {len(checks)} fragments of "
            f"{MIN_SYLLABLES}–{MAX_SYLLABLES} syllables from their headlines (seed {SEED}; alphabetic runs "
            "without punctuation, each holding a mark), folded and searched with `Index.search(q)`; "
            "restored = the suggestion, else the query. Syllables compared up to case and tone placement.",
            "",
            "| fragments | syllables | with a suggestion | exact restore | per-syllable accuracy |",
            "|---:|---:|---:|---:|---:|",
            f"| {len(checks)} | {len(right)} | {suggested:.3f} | {exact:.3f} | {per_syllable:.3f} |",
            "",
            f"- {'met' if exact >= TARGET_EXACT else 'NOT MET'}: exact {exact:.3f} ≥ {TARGET_EXACT}",
            f"- {'met' if per_syllable >= TARGET_SYLLABLE else 'NOT MET'}: "
            f"per syllable {per_syllable:.3f} ≥ {TARGET_SYLLABLE}",
            "",
            f"Failures: {sum(not c.exact for c in checks)}; the first {FAILURES} are printed on stdout "
            "(headline text stays out of the repo).",
            "",
        ]
    )


def print_failures(checks: list[Check]) -> None:
    print(f"\n## First {FAILURES} failures: original ← folded query → restored")
    for c in [c for c in checks if not c.exact][:FAILURES]:
        print(f"{c.original!r} ← {c.query!r} → {c.restored!r}{'' if c.suggested else ' (no suggestion)'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--index", type=Path, help="vnsearch index of VietNews test: reused if built, else built there"
    )
    ap.add_argument(
        "--quick", action="store_true", help=f"first {QUICK_ARTICLES} articles, {QUICK_FRAGMENTS} fragments"
    )
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, help=f"default {OUT.relative_to(REPO)} (none with --quick)")
    args = ap.parse_args()
    require(args.corpus, VIETNEWS_TEST)
    head = git_head()
    docs = list(
        itertools.islice(read_jsonl(args.corpus / VIETNEWS_TEST), QUICK_ARTICLES if args.quick else None)
    )
    with tempfile.TemporaryDirectory() as tmp:
        index, build_s = open_or_build(args.index or Path(tmp) / "ix", docs)
        if index.doc_count() != len(docs):
            raise SystemExit(
                f"{index.path} holds {index.doc_count():,} articles, not VietNews test's {len(docs):,}"
            )
        titles = [d["title"] for d in docs if d.get("title")]
        checks = [check(index, f) for f in fragments(titles, QUICK_FRAGMENTS if args.quick else FRAGMENTS)]
    command = " ".join(
        ["python benchmarks/suggestions.py"]
        + (["--quick"] if args.quick else [])
        + ([f"--index {args.index}"] if args.index else [])
    )
    text = report(checks, len(docs), command, head, build_s)
    print(text)
    print_failures(checks)
    save_table(text, args.out or (None if args.quick else OUT))


if __name__ == "__main__":
    main()
