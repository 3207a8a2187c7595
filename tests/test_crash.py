"""SIGKILL at random moments of real ``vnsearch`` reindex/add/delete processes.

What is pinned down: after every kill the index opens, answers a search, and holds exactly the
state before the command or the state after it (ids and titles), never a mix, never nothing; the
next writer is never locked out, and it clears what the killed one left. CI kills 6 times;
``pytest -m slow`` kills 30 times.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_cli_subprocess import DEMO, VNSEARCH

import search

BODIES = [
    json.loads(line)["body"] for line in (DEMO / "articles.jsonl").read_text(encoding="utf-8").splitlines()
]
State = dict[str, str]  # id -> title


def write_source(path: Path, articles: State) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for n, (article_id, title) in enumerate(articles.items()):
            row = {"id": article_id, "title": title, "body": BODIES[n % len(BODIES)], "date": "2024-05-01"}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def state_of(index: Path) -> State:
    """What the index holds, read the way a server would: open, search, then every stored id."""
    ix = search.Index(index)
    ix.search("nội dung")  # answers
    with ix.searcher().reader() as reader:
        return {fields["id"]: fields["title"] for _n, fields in reader.iter_docs()}


def plan_step(rng: random.Random, step: int, before: State, tmp: Path) -> tuple[list[str], State]:
    """A random command and the state it leads to if it completes."""
    kind = ["reindex", "add", "delete"][step % 3]
    if kind == "reindex" or len(before) < 10:
        after = {f"r{step}-{i}": f"Tin làm lại {step} số {i}" for i in range(rng.randint(40, 70))}
        source = write_source(tmp / f"reindex-{step}.jsonl", after)
        return ["reindex", "--allow-shrink", str(source)], after
    if kind == "add":
        changed = rng.choice(sorted(before))
        added = {f"a{step}-{i}": f"Tin thêm {step} số {i}" for i in range(rng.randint(5, 30))}
        added[changed] = f"Bản sửa {step}"
        source = write_source(tmp / f"add-{step}.jsonl", added)
        return ["add", str(source)], {**before, **added}
    gone = rng.sample(sorted(before), 3)
    return ["delete", *gone], {k: v for k, v in before.items() if k not in gone}


def run_and_kill(index: Path, args: list[str], delay: float) -> int | None:
    """Run ``vnsearch`` and SIGKILL it after ``delay`` seconds; its exit status if it ended first."""
    proc = subprocess.Popen(
        [str(VNSEARCH), args[0], "--index", str(index), *args[1:]],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.wait(timeout=delay)
        return proc.returncode
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return None


def leftovers(index: Path) -> list[str]:
    """What a killed writer can leave: unfinished generations, Whoosh's temporary storage."""
    gens = index / "generations"
    return [str(p) for p in gens.glob("*.building")] + [str(p) for p in gens.glob("*/*.tmp")]


def crash_many(tmp_path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    index = tmp_path / "index"
    state = {f"s-{i}": f"Tin đầu số {i}" for i in range(50)}
    assert (
        subprocess.run(
            [
                str(VNSEARCH),
                "reindex",
                "--index",
                str(index),
                str(write_source(tmp_path / "start.jsonl", state)),
            ],
            capture_output=True,
            timeout=300,
        ).returncode
        == 0
    )
    outcomes = {"old": 0, "new": 0}
    step = 0
    while sum(outcomes.values()) < kills:
        step += 1
        args, after = plan_step(rng, step, state, tmp_path)
        started = time.monotonic()
        status = run_and_kill(index, args, delay=rng.uniform(0.2, 3.5))
        assert status in (None, 0, 3), (args, status)  # never 75: no killed writer blocks the next
        found = state_of(index)
        if status is not None:  # it finished before the kill: then it must have done all of it
            assert found == after, args
            state = found
            continue
        assert found in (state, after), (args, len(found), len(state), len(after))
        outcomes["new" if found == after and found != state else "old"] += 1
        state = found
        took = time.monotonic() - started
        print(f"kill {sum(outcomes.values())}: {args[0]} after {took:.1f} s, {len(found)} articles")
    # The next writer clears what the killed ones left (and only a writer does).
    cleared = subprocess.run(
        [str(VNSEARCH), "delete", "--index", str(index), "no-such-id"], capture_output=True, timeout=300
    )
    assert cleared.returncode == 3
    assert leftovers(index) == []
    assert state_of(index) == state
    print(f"{kills} kills: {outcomes}")


def test_six_sigkills_of_writers_leave_the_old_or_the_new_state(tmp_path: Path) -> None:
    crash_many(tmp_path, kills=6, seed=13)


@pytest.mark.slow
def test_thirty_sigkills_of_writers_leave_the_old_or_the_new_state(tmp_path: Path) -> None:
    crash_many(tmp_path, kills=30, seed=2026)
