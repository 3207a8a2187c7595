"""Legacy encodings at ingest (issue 15, item 3): are the syllables back, and is clean text left alone?

Round trip: 1,000 VietNews test articles (a fixed-seed draw) are written as one JSON Lines file in
each legacy encoding (``indexer.encodings.encode``: Windows-1258 with its combining tone marks,
TCVN3, VNI-Windows, and mojibake — UTF-8 shown as Windows-1252 and saved as UTF-8), read back the
way ``vnsearch reindex`` reads a source (``detect_encodings`` + ``read_records``), and each
article's title and body compared with the original, syllable by syllable (lowercase: TCVN3 has
no capital letters with a tone; tone placement ignored), aligned with ``difflib``.

Clean check: every record of the shared corpus (all of its JSON Lines files) read the same way;
any record whose fields differ from the file's JSON is a change to clean text.

    flock /work/tmp/heavy.lock .venv/bin/python benchmarks/encodings.py
    .venv/bin/python benchmarks/encodings.py --quick      # 100 articles, the first 2,000 clean records
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import random
import tempfile
import time
from pathlib import Path

from corpus import CORPUS, REPO, VIETNEWS_TEST, git_head, read_jsonl, require, save_table
from judge import marked, tokens

from indexer import encodings
from indexer.records import Record
from indexer.sources import detect_encodings, find_files, read_records

SEED = 20261205
ARTICLES, QUICK_ARTICLES, QUICK_CLEAN = 1000, 100, 2000
TARGET_RESTORED = 0.995
ROUND_TRIPS = (encodings.CP1258, encodings.TCVN3, encodings.VNI, encodings.MOJIBAKE)
OUT = REPO / "benchmarks/results/encodings.md"
FIELDS = ("id", "title", "body")


def sample(corpus: Path, n: int) -> list[dict]:
    docs = [{f: d.get(f) or "" for f in FIELDS} for d in read_jsonl(corpus / VIETNEWS_TEST)]
    return random.Random(SEED).sample(docs, n)


def syllables(text: str) -> list[str]:
    return [marked(t) for t in tokens(text)]


def round_trip(docs: list[dict], encoding: str, tmp: Path) -> dict:
    """Write the articles in ``encoding``, read them back as reindex does, compare syllables."""
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    path = tmp / f"{encoding}.jsonl"
    path.write_bytes(encodings.encode(text, encoding))
    files = detect_encodings(find_files([path])[0])
    read = {r.fields.get("id"): r for r in read_records(files) if isinstance(r, Record)}
    total = restored = exact = 0
    for d in docs:
        want = syllables(d["title"] + "\n" + d["body"])
        got_record = read.get(d["id"])
        got = (
            syllables((got_record.fields.get("title") or "") + "\n" + (got_record.fields.get("body") or ""))
            if got_record
            else []
        )
        same = sum(
            b.size for b in difflib.SequenceMatcher(None, want, got, autojunk=False).get_matching_blocks()
        )
        total, restored, exact = total + len(want), restored + same, exact + (same == len(want) == len(got))
    how = files[0].detected or files[0].problem or ""
    repaired = sum(1 for r in read.values() if r.repaired)
    return {
        "encoding": encoding,
        "detected": how,
        "articles": len(read),
        "syllables": total,
        "restored": restored / max(total, 1),
        "exact": exact / len(docs),
        "repaired": repaired,
    }


def clean_check(corpus: Path, limit: int | None) -> dict:
    """Records of every JSON Lines file of the corpus whose fields the reading changed."""
    paths = sorted(p for p in corpus.rglob("*.jsonl*") if p.is_file())
    files = detect_encodings(find_files(paths)[0])
    checked = changed = 0
    examples = []
    started = time.perf_counter()
    for source in files:
        raw = read_jsonl(source.path)
        for item in read_records([source]):
            if limit is not None and checked >= limit:
                break
            original = next(raw)
            if not isinstance(item, Record):
                continue
            checked += 1
            if item.repaired or dict(item.fields) != original:
                changed += 1
                examples.append((item.origin, item.repaired))
    return {
        "files": [(str(f.path.relative_to(corpus)), f.encoding, f.problem) for f in files],
        "records": checked,
        "changed": changed,
        "examples": examples[:10],
        "seconds": time.perf_counter() - started,
    }


def report(rows: list[dict], clean: dict, n: int, command: str, head: str) -> str:
    lines = [
        "# Encodings: legacy Vietnamese text restored at ingest (issue 15, item 3)",
        "",
        f"Command: `{command}` — {dt.date.today().isoformat()}, git {head}.",
        "",
        f"{n:,} VietNews test articles (seed {SEED}), title and body, written in each encoding as one JSON "
        "Lines file and read back as `vnsearch reindex` reads a source; syllables compared lowercase, "
        "tone placement ignored, aligned with difflib.",
        "",
        "| written as | detected | articles read | syllables | restored | articles exact | repaired |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['encoding']} | {r['detected']} | {r['articles']:,} | {r['syllables']:,} | "
            f"{r['restored']:.4f} | {r['exact']:.3f} | {r['repaired']:,} |"
        )
    worst = min(r["restored"] for r in rows)
    enc = ", ".join(sorted({e for _p, e, _x in clean["files"]}))
    lines += [
        "",
        f"Clean check: {clean['records']:,} records of {len(clean['files'])} JSON Lines files of the shared "
        f"corpus (detected: {enc}) read in {clean['seconds']:.0f} s: **{clean['changed']} changed**"
        + (": " + ", ".join(f"{o} ({h})" for o, h in clean["examples"]) if clean["changed"] else "")
        + ".",
        "",
        f"- {'met' if worst >= TARGET_RESTORED else 'NOT MET'}: syllables restored {worst:.4f} ≥ "
        f"{TARGET_RESTORED} for every encoding (the lowest)",
        f"- {'met' if clean['changed'] == 0 else 'NOT MET'}: {clean['changed']} clean records changed "
        "(target 0)",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ARTICLES} articles, {QUICK_CLEAN:,} clean records"
    )
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, help=f"default {OUT.relative_to(REPO)} (none with --quick)")
    args = ap.parse_args()
    require(args.corpus, VIETNEWS_TEST)
    head = git_head()
    n = QUICK_ARTICLES if args.quick else ARTICLES
    docs = sample(args.corpus, n)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [round_trip(docs, e, Path(tmp)) for e in ROUND_TRIPS]
    clean = clean_check(args.corpus, QUICK_CLEAN if args.quick else None)
    command = "python benchmarks/encodings.py" + (" --quick" if args.quick else "")
    text = report(rows, clean, n, command, head)
    print(text)
    save_table(text, args.out or (None if args.quick else OUT))


if __name__ == "__main__":
    main()
