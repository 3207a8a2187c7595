"""`vnsearch` as a real process: plain-log output, SIGKILL mid-reindex, searching during a reindex."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import search

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
VNSEARCH = Path(sys.executable).with_name("vnsearch")


def vnsearch(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VNSEARCH), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def start_reindex(index: Path, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(VNSEARCH), "reindex", "--index", str(index), str(source)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def copies_of_demo(path: Path, copies: int) -> Path:
    """The demo JSONL repeated with distinct ids: a corpus big enough to catch a reindex mid-run."""
    rows = [json.loads(line) for line in (DEMO / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for copy in range(copies):
            for n, row in enumerate(rows):
                out.write(
                    json.dumps({**row, "id": f"copy{copy}-{n}", "url": None}, ensure_ascii=False) + "\n"
                )
    return path


def wait_for_build(index: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not list((index / "generations").glob("*.building")):
        assert time.monotonic() < deadline, "the reindex never started building"
        time.sleep(0.05)


def test_reindex_and_search_as_processes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    built = vnsearch("reindex", "--index", index, DEMO)
    assert built.returncode == 0, built.stderr
    assert "read 48: indexed 48, rejected 0, duplicates 0" in built.stdout
    assert "indexing: 48/48 articles" in built.stderr  # not a terminal: plain log lines, no bar
    found = vnsearch("search", "--index", index, "cong dich vu cong truc tuyen", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["hits"][0]["id"] == "lg-2023-009"
    bad = vnsearch("search", "--index", index, "x", "--page", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_killed_reindex_leaves_the_old_generation_and_the_next_one_succeeds(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert vnsearch("reindex", "--index", index, DEMO / "articles.csv").returncode == 0
    old = search.Index(index).generation

    proc = start_reindex(index, copies_of_demo(tmp_path / "big.jsonl", copies=30))
    wait_for_build(index)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert list((index / "generations").glob("*.building")), "killed after it finished?"

    ix = search.Index(index)
    assert (ix.generation, ix.doc_count()) == (old, 4)
    assert ix.search("ngư dân nuôi biển").hits[0].id == "demo-csv-1"

    again = vnsearch("reindex", "--index", index, DEMO)
    assert again.returncode == 0, again.stderr
    assert ix.generation != old and ix.doc_count() == 48
    assert [p.name for p in (index / "generations").iterdir()] == [ix.generation]


def test_searches_keep_working_during_a_reindex_then_see_the_new_generation(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert vnsearch("reindex", "--index", index, DEMO).returncode == 0
    reader = search.Index(index)
    old = reader.generation

    proc = start_reindex(index, copies_of_demo(tmp_path / "copies.jsonl", copies=8))
    searched_during = 0
    while proc.poll() is None:
        res = reader.search("TP.HCM")
        if reader.generation == old:
            assert res.total == 7  # 6 JSONL articles and 1 CSV row
            searched_during += 1
        time.sleep(0.05)
    assert proc.returncode == 0
    assert searched_during > 10
    assert reader.generation != old
    assert reader.doc_count() == 8 * 38
    assert reader.search("TP.HCM").total == 8 * 6  # 6 of the 38 JSONL articles mention it
