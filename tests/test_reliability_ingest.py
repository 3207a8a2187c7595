"""Ingest robustness: ``vnsearch reindex`` as a real process over files mixing good and bad records.

What is pinned down: every record is accounted for (read = indexed + rejected + duplicates, and
each rejection reason counted as generated); nothing crashes (exit 3: some rejected); 10 MB bodies
are refused without holding the corpus in memory (peak RSS of the reindex process, measured with
``getrusage(RUSAGE_CHILDREN)`` in a wrapper process, stays within a bound); the last duplicate
wins. CI runs 2,000 records; ``pytest -m slow`` runs 10,000.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_cli_subprocess import DEMO, VNSEARCH

import search

HUGE_BODY_BYTES = 10 * 1024 * 1024
GZ_RECORDS = 50
PEAK_RSS_EXTRA_MB = 250  # above the same command on the 48 demo articles
SENTENCES = [
    "Hội thảo khoa học về nông nghiệp xanh diễn ra tại Cần Thơ.",
    "Đội tuyển bóng đá nữ giành chiến thắng trên sân nhà.",
    "Giá xăng dầu giảm nhẹ trong kỳ điều hành mới.",
    "Thành phố mở thêm tuyến xe buýt điện nối sân bay.",
    "Học sinh vùng cao được tặng áo ấm trước mùa đông.",
]


@dataclass
class Mix:
    """The generated lines and what the summary must say about them."""

    lines: list[bytes] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    good_ids: list[str] = field(default_factory=list)
    duplicates: int = 0
    last_title: dict[str, str] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return len(self.good_ids) + self.duplicates + self.rejected.total()


def good(n: int, rng: random.Random) -> dict:
    return {
        "id": f"ok-{n}",
        "title": f"Tin số {n}",
        "body": rng.choice(SENTENCES),
        "date": f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "category": rng.choice(["Thời sự", "Thể thao", "Kinh tế"]),
        "url": f"https://tin.example.vn/{n}",
    }


BAD = {  # reason in the summary -> ways of being bad
    "malformed JSON": ['{"id": "x", "body": ', "not json at all", "{'id': 'x'}", '{"id": "x"} trailing', "{"],
    "not a JSON object": ["[1, 2]", '"text"', "42", "null", "true"],
    "wrong type for title": ['{"id": "t%d", "title": 5, "body": "Nội dung."}'],
    "wrong type for body": ['{"id": "t%d", "body": ["Nội dung."]}', '{"id": "t%d", "body": {"a": 1}}'],
    "wrong type for id": ['{"id": {"a": 1}, "body": "Nội dung."}', '{"id": true, "body": "Nội dung."}'],
    "wrong type for date": ['{"id": "t%d", "body": "Nội dung.", "date": 20231113}'],
    "wrong type for url": ['{"id": "t%d", "body": "Nội dung.", "url": ["https://x.vn"]}'],
    "unparsable date": ['{"id": "t%d", "body": "Nội dung.", "date": "2023-02-30"}'],
    "missing body": ['{"id": "t%d", "title": "Chỉ có tiêu đề", "body": ""}', '{"id": "t%d", "title": "T"}'],
    "missing title and body": ["{}", '{"id": "t%d"}', '{"id": "t%d", "title": "  ", "body": "\\t "}'],
}


def make_mix(records: int, huge: int, seed: int = 7) -> Mix:
    rng = random.Random(seed)
    mix = Mix()
    reasons = list(BAD)
    huge_at = set(rng.sample(range(records), huge))
    for n in range(records):
        roll = rng.random()
        if n in huge_at:
            body = ("Nội dung rất dài của bài báo. " * (HUGE_BODY_BYTES // 30 + 1))[: HUGE_BODY_BYTES + 10]
            line = json.dumps({"id": f"huge-{n}", "title": "Bài rất dài", "body": body}, ensure_ascii=False)
            mix.lines.append(line.encode())
            mix.rejected["body too large"] += 1
        elif roll < 0.45:
            record = good(n, rng)
            mix.good_ids.append(record["id"])
            mix.last_title[record["id"]] = record["title"]
            mix.lines.append(json.dumps(record, ensure_ascii=False).encode())
        elif roll < 0.55 and mix.good_ids:
            record = {**good(n, rng), "id": rng.choice(mix.good_ids), "title": f"Bản sửa {n}"}
            mix.duplicates += 1
            mix.last_title[record["id"]] = record["title"]
            mix.lines.append(json.dumps(record, ensure_ascii=False).encode())
        elif roll < 0.58:
            mix.lines.append(b'{"id": "latin1-%d", "body": "H\xf2a b\xecnh"}' % n)
            mix.rejected["not UTF-8"] += 1
        else:
            reason = rng.choice(reasons)
            template = rng.choice(BAD[reason])
            mix.lines.append((template % n if "%d" in template else template).encode())
            mix.rejected[reason] += 1
        if rng.random() < 0.02:
            mix.lines.append(b"   ")  # blank lines are not records
    return mix


def peak_rss_of(argv: list[str]) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run argv from a fresh wrapper process; its RUSAGE_CHILDREN peak is argv's (and its workers')."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, stdin=subprocess.DEVNULL)\n"
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(r.returncode)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, timeout=900
    )
    *rest, peak = result.stderr.rstrip("\n").split("\n")
    result.stderr = "\n".join(rest)
    return result, int(peak)


SUMMARY = re.compile(r"read ([\d,]+): indexed ([\d,]+), rejected ([\d,]+), duplicates ([\d,]+)")


def number(text: str) -> int:
    return int(text.replace(",", ""))


_baseline: dict[str, int] = {}


def baseline_peak_kb(tmp_path: Path) -> int:
    """Peak RSS of reindexing the 48 demo articles: pyvi, Whoosh and the worker pool."""
    if "kb" not in _baseline:
        result, peak = peak_rss_of([str(VNSEARCH), "reindex", "--index", str(tmp_path / "base"), str(DEMO)])
        assert result.returncode == 0, result.stderr
        _baseline["kb"] = peak
    return _baseline["kb"]


def check_ingest(tmp_path: Path, records: int, huge: int) -> None:
    mix = make_mix(records, huge)
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\n".join(mix.lines) + b"\n")
    broken_gz = tmp_path / "broken.jsonl.gz"
    gz_lines = "".join(f'{{"id": "gz-{n}", "body": "Nội dung số {n}."}}\n' for n in range(GZ_RECORDS))
    broken_gz.write_bytes(gzip.compress(gz_lines.encode())[:-40])  # cut short: "unreadable file"
    (tmp_path / "empty.jsonl").write_bytes(b"")
    index = tmp_path / "index"
    result, peak_kb = peak_rss_of([str(VNSEARCH), "reindex", "--index", str(index), str(tmp_path)])

    assert result.returncode == 3, result.stderr[-2000:]  # some records rejected, the rest indexed
    assert "Traceback" not in result.stderr
    read, indexed, rejected, duplicates = map(number, SUMMARY.search(result.stdout).groups())
    assert read == indexed + rejected + duplicates

    ix = search.Index(index)
    from_gz = sum(ix.get(f"gz-{n}") is not None for n in range(GZ_RECORDS))  # read before the break
    assert 0 <= from_gz < GZ_RECORDS
    assert indexed == ix.doc_count() == len(mix.good_ids) + from_gz
    assert duplicates == mix.duplicates
    assert rejected == mix.rejected.total() + 2  # + the empty file + the truncated gzip
    by_reason = result.stdout.split("rejected by reason: ")[1].splitlines()[0]
    reasons = {reason: number(count) for reason, count in re.findall(r"([^,]+?) ([\d,]+)(?:, |$)", by_reason)}
    assert reasons == {**mix.rejected, "empty file": 1, "unreadable file": 1}
    assert result.stderr.count(": body too large") == huge
    some = mix.good_ids[len(mix.good_ids) // 2]
    assert ix.get(some)["title"] == mix.last_title[some]  # the last duplicate won
    assert not any(ix.get(f"huge-{n}") for n in range(records))

    base = baseline_peak_kb(tmp_path)
    print(f"\n{records} records: peak RSS {peak_kb / 1024:.0f} MB (demo baseline {base / 1024:.0f} MB)")
    assert peak_kb < base + PEAK_RSS_EXTRA_MB * 1024, (peak_kb, base)


def test_mixed_good_and_bad_records_are_all_accounted_for_in_bounded_memory(tmp_path):
    check_ingest(tmp_path, records=2_000, huge=2)


@pytest.mark.slow
def test_ten_thousand_mixed_records_are_all_accounted_for_in_bounded_memory(tmp_path):
    check_ingest(tmp_path, records=10_000, huge=10)


BOMB_MB = 300


def test_a_gzip_bombed_line_is_one_rejection_in_bounded_memory(tmp_path):
    """One line of 300 MB of zeros between two good records, under 1 MB compressed: rejected as
    "line too long" without being held in memory; the records around it are indexed."""
    source = tmp_path / "bomb.jsonl.gz"
    with gzip.open(source, "wb", compresslevel=9) as out:
        out.write('{"id": "before", "title": "Tin trước", "body": "Nội dung trước."}\n'.encode())
        zeros = b"0" * 2**20
        for _ in range(BOMB_MB):
            out.write(zeros)
        out.write(b"\n")
        out.write('{"id": "after", "title": "Tin sau", "body": "Nội dung sau."}\n'.encode())
    assert source.stat().st_size < 2**20
    index = tmp_path / "index"
    result, peak_kb = peak_rss_of([str(VNSEARCH), "reindex", "--index", str(index), str(source)])
    assert result.returncode == 3, result.stderr[-2000:]
    assert f"{source}:2: line too long ({BOMB_MB * 2**20 + 1:,} bytes or more, at most " in result.stderr
    assert "read 3: indexed 2, rejected 1" in result.stdout
    ix = search.Index(index)
    assert ix.get("before") and ix.get("after")
    base = baseline_peak_kb(tmp_path)
    assert peak_kb < base + 100 * 1024, (peak_kb / 1024, base / 1024)
