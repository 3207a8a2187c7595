"""Telex and VNI residue in queries (issue 15, item 1): is the decoded query as good as the accented one?

300 fragments of 3–6 syllables cut from VietNews test headlines (fixed seed, as
``benchmarks/suggestions.py`` cuts them) are typed with the input method off by the encoder below:
Telex (â ê ô "aa ee oo", ă ơ ư "aw ow uw", ươ "uow", đ "dd", tone key s f r x j after the syllable)
and VNI (6 â ê ô, 8 ă, 7 ơ ư, 9 đ, tone digit 1–5 after the syllable). The top hit of each typed
query is compared with the top hit of the accented one over the whole of VietNews test.

The don't-touch set: the ASCII tokens of VietNews test that are not Vietnamese syllables typed
without marks (English words, brands, names, abbreviations, numbers, codes), the 300 most frequent
and 200 drawn at random from the rest (fixed seed), plus the issue's examples. Each is searched
alone; it must be searched as typed. The rule's steps are measured one by one (``search.typing``).

``--real-words`` writes ``search/data/real_words.txt``: tokens of the RSS, Dân Trí and VMDS corpora
(never VietNews, which the benchmark judges) that occur at least 3 times as typed and decode as
Telex/VNI: real words, left alone.

    .venv/bin/python benchmarks/typing_residue.py --index /work/idx-vietnews-test  # built if absent
    .venv/bin/python benchmarks/typing_residue.py --quick          # 300 articles, 30 fragments
    .venv/bin/python benchmarks/typing_residue.py --real-words

(Not ``typing.py``: a script's folder comes first on sys.path, and every benchmark beside it would
import it instead of the standard library's ``typing``.)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools
import random
import re
import tempfile
import unicodedata
from pathlib import Path

from corpus import CORPUS, REPO, VIETNEWS_TEST, git_head, open_or_build, read_jsonl, require, save_table
from judge import tokens
from suggestions import fragments

from search import query
from search import typing as vn_typing
from search.searching import _doc_freq

SEED = 20261204
FRAGMENTS, QUICK_FRAGMENTS, QUICK_ARTICLES = 300, 30, 300
FREQUENT, RANDOM = 300, 200
ISSUE_EXAMPLES = ["team", "Messi", "iPhone", "COVID-19", "2023", "as"]
TARGET_TOP, TARGET_TOUCHED = 0.95, 0
OUT = REPO / "benchmarks/results/typing_residue.md"
REAL_WORDS = REPO / "search/data/real_words.txt"
REAL_WORD_SOURCES = ["rss-headlines/docs.jsonl.gz", "unc-dantri/docs.jsonl.gz", "vmds-ktlab/docs.jsonl"]
REAL_WORD_MIN = 3
# ... and at least this share of the decoded syllable's count. The 300 fragments of a full run,
# share 0 / 0.001 / 0.01 / 0.03 / 0.1 / any count: Telex decoded exactly 0.890 / 0.907 / 0.970 /
# 0.977 / 0.987 / 0.987, VNI 0.953 / 0.980 / 0.983 / 0.983 / 0.983 / 0.983, with 1 / 1 / 1 / 2 / 3 / 5
# of the 505 don't-touch tokens changed without index counts ("Taji"; then "Moon", "Lee", "Air", "gas"),
# measured before rule 5 took capitalised words with a tone key only (which then left 0 changed).
REAL_WORD_SHARE = 0.01
FAILURES = 20
_EDGE = ".,;:!?()\"“”‘’'[]…-/"

_TELEX_MARKS = {"â": "aa", "ê": "ee", "ô": "oo", "ă": "aw", "ơ": "ow", "ư": "uw", "đ": "dd"}
_VNI_MARKS = {"â": "a6", "ê": "e6", "ô": "o6", "ă": "a8", "ơ": "o7", "ư": "u7", "đ": "d9"}
_TELEX_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_VNI_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}


def encode(text: str, method: str) -> str:
    """Text as typed in Telex or VNI with the input method off: marks spelled out, tone at the end."""
    return re.sub(r"[^\W\d_]+", lambda m: _encode_word(m.group(), method), text)


def _encode_word(word: str, method: str) -> str:
    marks, tones = (_TELEX_MARKS, _TELEX_TONES) if method == "telex" else (_VNI_MARKS, _VNI_TONES)
    tone = ""
    out = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in tones:
            tone = tones[ch]
        elif unicodedata.combining(ch):
            out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
        else:
            out.append(ch)
    typed = ""
    for ch in out:
        key = marks.get(ch.lower())
        typed += ch if key is None else (key[0].upper() + key[1:] if ch.isupper() else key)
    if method == "telex":  # ươ: both marks come from one "w" after "uo"
        typed = typed.replace("uwow", "uow").replace("Uwow", "Uow")
    return typed + tone


# --- the don't-touch set --------------------------------------------------------------------------


def ascii_tokens(docs: list[dict]) -> collections.Counter:
    """ASCII tokens (letters, digits and the joiners of a compound) of the articles, as written."""
    found = collections.Counter()
    for d in docs:
        for raw in " ".join(str(d.get(k) or "") for k in ("title", "summary", "body")).split():
            word = raw.strip(_EDGE)
            if word and word.isascii() and re.fullmatch(r"[A-Za-z0-9]+(?:[-./][A-Za-z0-9]+)*", word):
                found[word] += 1
    return found


def dont_touch(docs: list[dict], seed: int = SEED) -> list[str]:
    """Tokens that are not Vietnamese typed without marks: the most frequent, a random draw of the
    rest, the issue's examples."""
    counts = ascii_tokens(docs)
    foreign = [
        w for w, _ in counts.most_common() if not all(vn_typing.could_be_syllable(p) for p in _parts(w))
    ]
    rest = foreign[FREQUENT:]
    drawn = random.Random(seed).sample(rest, min(RANDOM, len(rest)))
    return list(dict.fromkeys(ISSUE_EXAMPLES + foreign[:FREQUENT] + drawn))


def _parts(word: str) -> list[str]:
    return re.findall(r"[A-Za-z]+|[0-9]+", word) or [word]


# --- the rule, step by step -----------------------------------------------------------------------


def _steps():
    """Each row adds one step of ``search.typing``'s rule (the last is the rule as shipped)."""

    def base(word: str) -> str | None:  # steps 1, 2 and 4
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", word) or len(word) < 2:
            return None
        if word.isalpha():
            return None if vn_typing.could_be_syllable(word) else vn_typing.telex(word)
        return vn_typing.vni(word)

    def capitals(word: str) -> str | None:
        return None if any(c.isupper() for c in word[1:]) else base(word)

    def real(word: str) -> str | None:
        return None if word.lower() in vn_typing.REAL_WORDS else capitals(word)

    return [
        ("not a syllable folded, decodes to a valid one (1, 2, 4)", base, False),
        ("+ no capital after the first letter (3)", capitals, False),
        ("+ real words of the other corpora (6)", real, False),
        (
            "+ short words, and capitalised ones with a tone key only, beside another decoded one (5)",
            real,
            True,
        ),
    ]


def _decoded_alone(step, short_rule: bool, word: str) -> bool:
    core = word.strip(_EDGE)
    if step(core) is None:
        return False
    return not (short_rule and vn_typing.needs_company(core))  # alone, a short word has no decoded neighbour


def _decoded_text(step, short_rule: bool, text: str) -> str:
    words = text.split()
    found = {i: step(w) for i, w in enumerate(words)}
    found = {i: d for i, d in found.items() if d}
    if short_rule and all(vn_typing.needs_company(words[i]) for i in found):
        found = {}
    return " ".join(found.get(i, w) for i, w in enumerate(words))


def same_text(a: str, b: str) -> bool:
    from judge import marked

    ta, tb = tokens(a), tokens(b)
    return len(ta) == len(tb) and all(marked(x) == marked(y) for x, y in zip(ta, tb, strict=True))


# --- the benchmark --------------------------------------------------------------------------------


def top_id(index, q: str) -> str | None:
    hits = index.search(q, per_page=1).hits
    return hits[0].id if hits else None


def run(index, frags: list[str], touch: list[str]) -> dict:
    out = {"rows": [], "failures": [], "touched": []}
    for method in ("telex", "vni"):
        typed = [encode(f, method) for f in frags]
        same_top, decoded_right = 0, 0
        for fragment, q in zip(frags, typed, strict=True):
            res = index.search(q, per_page=1)
            expected = top_id(index, fragment)
            got = res.hits[0].id if res.hits else None
            same_top += got == expected
            decoded_right += same_text(res.searched or q, fragment)
            if got != expected:
                out["failures"].append((method, fragment, q, res.searched))
        out["rows"].append((method, len(frags), same_top / len(frags), decoded_right / len(frags)))
    with index._using() as searcher:  # the index's own counts, as a search sees them
        doc_freq = _doc_freq(searcher)
        for word in touch:
            parsed = query.parse(word, doc_freq)
            if parsed.rewrites:
                out["touched"].append((word, parsed.searched))
    out["steps"] = []
    for name, step, short_rule in _steps():
        touched = sum(_decoded_alone(step, short_rule, w) for w in touch)
        right = {
            m: sum(same_text(_decoded_text(step, short_rule, encode(f, m)), f) for f in frags) / len(frags)
            for m in ("telex", "vni")
        }
        out["steps"].append((name, touched, right["telex"], right["vni"]))
    return out


def report(result: dict, n_articles: int, n_touch: int, command: str, head: str, build_s) -> str:
    built = "reused" if build_s is None else f"built in {build_s:.0f} s"
    lines = [
        "# Typing: Telex and VNI residue in queries (issue 15, item 1)",
        "",
        f"Command: `{command}` — {dt.date.today().isoformat()}, git {head}.",
        "",
        f"Index: {n_articles:,} VietNews test articles ({built}). Headline fragments of 3–6 syllables "
        f"(seed {SEED}), typed by this file's encoder; top hit of `Index.search(typed)` against the "
        "top hit of `Index.search(accented)`; decoded = the query as searched (`searched`) spells the "
        "fragment (up to case and tone placement).",
        "",
        "| typed in | fragments | same top hit | decoded exactly |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {m} | {n} | {top:.3f} | {dec:.3f} |" for m, n, top, dec in result["rows"]]
    worst = min(top for _m, _n, top, _d in result["rows"])
    touched = len(result["touched"])
    lines += [
        "",
        f"Don't-touch: {n_touch} tokens of VietNews test that are not Vietnamese typed without marks "
        f"({FREQUENT} most frequent, {RANDOM} at random, the issue's examples), each searched alone "
        f"through `query.parse` with this index's counts: **{touched} changed**"
        + (": " + ", ".join(f"`{w}` → `{s}`" for w, s in result["touched"][:20]) if touched else "")
        + ".",
        "",
        f"- {'met' if worst >= TARGET_TOP else 'NOT MET'}: same top hit {worst:.3f} ≥ {TARGET_TOP} "
        "(the worse of the two methods)",
        f"- {'met' if touched <= TARGET_TOUCHED else 'NOT MET'}: {touched} don't-touch tokens changed "
        f"(target {TARGET_TOUCHED})",
        "",
        "## How the rule was chosen",
        "",
        "Each row adds one step to the one above; the don't-touch tokens are judged alone (without the "
        "index counts, which the shipped rule adds last), the fragments by their decoded text.",
        "",
        "| rule | don't-touch changed | Telex decoded exactly | VNI decoded exactly |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {t} | {tx:.3f} | {vn:.3f} |" for name, t, tx, vn in result["steps"]]
    lines += [
        "",
        f"Failures (different top hit): {len(result['failures'])}; the first {FAILURES} are printed on "
        "stdout (headline text stays out of the repo).",
        "",
    ]
    return "\n".join(lines)


def write_real_words(corpus: Path) -> None:
    counts = collections.Counter()
    for name in REAL_WORD_SOURCES:
        for d in read_jsonl(corpus / name):
            text = unicodedata.normalize(
                "NFC", " ".join(str(d.get(k) or "") for k in ("title", "summary", "body"))
            )
            counts.update(raw.strip(_EDGE).lower() for raw in text.split())
    real = []
    for word, count in counts.items():
        if count < REAL_WORD_MIN or len(word) < 2 or not (word.isascii() and word.isalnum()):
            continue
        decoded = vn_typing.decode(word, real=False)
        if decoded and count >= REAL_WORD_SHARE * counts[decoded]:
            real.append(word)
    real.sort()
    header = [
        "# Words real as typed that would decode as Telex/VNI: left alone (search/typing.py, rule 6).",
        "# Written by `python benchmarks/typing_residue.py --real-words` from "
        f"{', '.join(REAL_WORD_SOURCES)}:",
        f"# ASCII tokens seen at least {REAL_WORD_MIN} times and {REAL_WORD_SHARE:.0%} as often as the",
        "# syllable they decode to. VietNews (which the benchmark judges) is not read.",
    ]
    REAL_WORDS.write_text("\n".join(header + real) + "\n", encoding="utf-8")
    print(f"{len(real)} words → {REAL_WORDS.relative_to(REPO)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--index", type=Path, help="vnsearch index of VietNews test: reused if built, else built there"
    )
    ap.add_argument(
        "--quick", action="store_true", help=f"first {QUICK_ARTICLES} articles, {QUICK_FRAGMENTS} fragments"
    )
    ap.add_argument(
        "--real-words", action="store_true", help=f"write {REAL_WORDS.relative_to(REPO)} and stop"
    )
    ap.add_argument("--articles", type=int, help="only the first N VietNews test articles (default all)")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, help=f"default {OUT.relative_to(REPO)} (none with --quick)")
    args = ap.parse_args()
    if args.real_words:
        require(args.corpus, *map(Path, REAL_WORD_SOURCES))
        write_real_words(args.corpus)
        return
    require(args.corpus, VIETNEWS_TEST)
    head = git_head()
    docs = list(
        itertools.islice(
            read_jsonl(args.corpus / VIETNEWS_TEST), QUICK_ARTICLES if args.quick else args.articles
        )
    )
    touch = dont_touch(docs)
    with tempfile.TemporaryDirectory() as tmp:
        index, build_s = open_or_build(args.index or Path(tmp) / "ix", docs)
        if index.doc_count() != len(docs):
            raise SystemExit(
                f"{index.path} holds {index.doc_count():,} articles, not VietNews test's {len(docs):,}"
            )
        titles = [d["title"] for d in docs if d.get("title")]
        frags = fragments(titles, QUICK_FRAGMENTS if args.quick else FRAGMENTS, SEED)
        result = run(index, frags, touch)
    command = " ".join(
        ["python benchmarks/typing_residue.py"]
        + (["--quick"] if args.quick else [])
        + ([f"--articles {args.articles}"] if args.articles else [])
        + ([f"--index {args.index}"] if args.index else [])
    )
    text = report(result, len(docs), len(touch), command, head, build_s)
    print(text)
    print(f"\n## First {FAILURES} failures: method, fragment, typed, searched")
    for row in result["failures"][:FAILURES]:
        print(row)
    save_table(text, args.out or (None if args.quick else OUT))


if __name__ == "__main__":
    main()
