"""Faults while writing or reading the index, with real ``vnsearch`` processes and real files.

What is pinned down: a SIGKILLed incremental update leaves a consistent index and blocks nothing;
a disk that fills during a reindex (a real tmpfs) leaves the old generation current and is
reported in one line, not a traceback; a broken generation pointer or generation is a message
naming the path and a non-zero exit from every command, and ``vnsearch reindex`` repairs it.
(SIGKILL during a full reindex is pinned down in test_cli_subprocess.py.)


"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_cli_subprocess import DEMO, VNSEARCH, copies_of_demo, vnsearch
from web_fixtures import build_index

import search
from indexer.cli import main
from web import create_app


def run(*args: str | Path) -> Result:
    """The CLI in this process (fast); the subprocess tests below show the real process does the same."""
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("demo") / "index"
    built = vnsearch("reindex", "--index", index, DEMO)
    assert built.returncode == 0, built.stderr
    return index


@pytest.fixture
def demo_index(built_demo: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo index for a test to damage."""
    return Path(shutil.copytree(built_demo, tmp_path / "index"))


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


# --- SIGKILL during an incremental update --------------------------------------------------------


def test_killed_add_leaves_a_consistent_index_and_the_next_add_succeeds(demo_index, tmp_path):
    before = search.Index(demo_index)
    generation, count = before.generation, before.doc_count()
    source = copies_of_demo(tmp_path / "more.jsonl", copies=10)  # 380 articles: several seconds
    with subprocess.Popen(
        [str(VNSEARCH), "add", "--index", str(demo_index), str(source)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr.readline().startswith("reading"), "add did not start"  # the lock is held
        time.sleep(1.0)  # the scan is done (a fraction of a second): indexing, long before the commit
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL

    ix = search.Index(demo_index)
    assert (ix.generation, ix.doc_count()) == (generation, count)
    assert ix.search("cong dich vu cong truc tuyen").hits[0].id == "lg-2023-009"
    again = vnsearch("add", "--index", demo_index, DEMO / "articles.csv")
    assert again.returncode == 0, again.stderr  # neither our flock nor Whoosh's lock is left held
    deleted = run("delete", "--index", demo_index, "lg-2023-009")
    assert deleted.exit_code == 0, deleted.output
    assert search.Index(demo_index).get("lg-2023-009") is None


def test_lock_file_naming_a_dead_writer_does_not_block(demo_index):
    (demo_index / "write.lock").write_text("999999\n")  # what a SIGKILLed writer leaves
    result = run("delete", "--index", demo_index, "lg-2023-009")
    assert result.exit_code == 0, result.output


# --- a disk that fills up --------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: room for the demo index (1.4 MB) but not for a second, bigger generation."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_during_reindex_keeps_the_old_generation_and_says_so(small_disk, built_demo, tmp_path):
    index = Path(shutil.copytree(built_demo, small_disk / "index"))
    old = search.Index(index).generation
    bigger = copies_of_demo(tmp_path / "bigger.jsonl", copies=8)

    result = vnsearch("reindex", "--index", index, bigger)
    assert result.returncode == 1, result.stderr
    no_traceback(result)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("vnsearch: ") and "No space left on device" in last, last
    ix = search.Index(index)
    assert (ix.generation, ix.doc_count()) == (old, 48)
    assert ix.search("cong dich vu cong truc tuyen").hits[0].id == "lg-2023-009"


def test_full_disk_reindex_leaves_no_building_dir_and_the_next_one_fits(small_disk, built_demo, tmp_path):
    index = Path(shutil.copytree(built_demo, small_disk / "index"))
    with whoosh_leaks_ignored():  # the failed commit's open files (closed by gc, as at process exit)
        run("reindex", "--index", index, copies_of_demo(tmp_path / "bigger.jsonl", copies=8))
    assert not list((index / "generations").glob("*.building"))
    # Writing a compound segment needs about twice its size for a moment, so a rebuild of the whole
    # demo beside the old generation would not fit on this disk; a smaller archive must.
    smaller = tmp_path / "smaller.jsonl"
    smaller.write_text("".join((DEMO / "articles.jsonl").read_text(encoding="utf-8").splitlines(True)[:10]))
    again = run("reindex", "--index", index, "--allow-shrink", smaller)
    assert again.exit_code == 0, again.output
    assert search.Index(index).doc_count() == 10


# --- broken pointer or generation -------------------------------------------------------------------


def break_pointer(index: Path, how: str) -> Path:
    current = index / "CURRENT"
    if how == "names a missing generation":
        current.write_text("g999999\n")
    elif how == "garbage bytes":
        current.write_bytes(b"\xff\xfe\x00")
    elif how == "empty":
        current.write_text("")
    elif how == "path traversal":
        current.write_text("../../etc\n")
    return current


POINTER_BREAKAGES = ["names a missing generation", "garbage bytes", "empty", "path traversal"]


@pytest.mark.parametrize("how", POINTER_BREAKAGES)
def test_broken_pointer_is_a_message_naming_it_from_every_command(demo_index, how):
    current = break_pointer(demo_index, how)
    for args in (("search", "khoa"), ("stats",), ("delete", "lg-2023-009"), ("add", DEMO / "articles.csv")):
        result = run(args[0], "--index", demo_index, *args[1:])
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, SystemExit), result.exception  # a message, not a crash
        assert result.stderr.startswith("vnsearch: ") and str(current) in result.stderr, result.stderr


def test_broken_pointer_is_a_message_from_the_real_process(demo_index):
    current = break_pointer(demo_index, "names a missing generation")
    result = vnsearch("search", "--index", demo_index, "khoa")
    assert result.returncode == 1
    no_traceback(result)
    assert result.stderr.startswith("vnsearch: ") and str(current) in result.stderr


@pytest.mark.parametrize("how", POINTER_BREAKAGES)
def test_reindex_repairs_a_broken_pointer(demo_index, how):
    break_pointer(demo_index, how)
    result = run("reindex", "--index", demo_index, DEMO / "articles.csv")
    assert result.exit_code == 0, result.output
    ix = search.Index(demo_index)
    assert ix.doc_count() == 4
    assert [p.name for p in (demo_index / "generations").iterdir()] == [ix.generation]


def test_generation_with_its_files_gone_is_a_message_naming_it(demo_index):
    generation = demo_index / "generations" / search.Index(demo_index).generation
    for path in generation.iterdir():
        path.unlink()
    result = run("search", "--index", demo_index, "khoa")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert str(generation) in result.stderr


def damage_segment(index: Path, how: str) -> Path:
    generation = index / "generations" / search.Index(index).generation
    if how == "garbage toc":
        target = next(generation.glob("*.toc"))
        target.write_bytes(b"garbage" * 10)
    else:
        target = next(generation.glob("*.seg"))
        target.write_bytes(target.read_bytes()[: 100 if how == "truncated segment" else 0])
    return generation


@contextlib.contextmanager
def whoosh_leaks_ignored() -> Iterator[None]:
    """Whoosh leaves the files of a failed open to the garbage collector (ResourceWarning); keep
    that noise inside the test instead of letting it surface as an error in a later one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
        gc.collect()


@pytest.mark.parametrize("how", ["garbage toc", "truncated segment", "empty segment"])
def test_damaged_generation_files_are_a_message_naming_the_generation(demo_index, how):
    with whoosh_leaks_ignored():
        generation = damage_segment(demo_index, how)
        result = run("search", "--index", demo_index, "khoa")
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
        assert str(generation) in result.stderr and "vnsearch reindex" in result.stderr
        del result


DAMAGE = ["garbage toc", "truncated segment", "empty segment"]
STATUSES = """
import json, sys, warnings
warnings.simplefilter("ignore", ResourceWarning)
from web import create_app
out = {}
for index in sys.argv[1:]:
    client = create_app({"INDEX": index}).test_client()
    out[index] = [client.get(p).status_code for p in ("/api/search?q=khoa", "/healthz", "/?q=khoa")]
print(json.dumps(out))
"""


def test_damaged_generation_files_are_a_503_not_a_500(tmp_path):
    """In a process of its own: Whoosh leaves the files of a failed open to the garbage collector,
    and the app's error log keeps the exception (and them) alive past the end of a test."""
    indexes = {how: build_index(tmp_path / how.replace(" ", "-")) for how in DAMAGE}
    for how, index in indexes.items():
        damage_segment(index, how)
    result = subprocess.run(
        [sys.executable, "-c", STATUSES, *map(str, indexes.values())], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout)
    assert statuses == {str(index): [503, 503, 503] for index in indexes.values()}, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_missing_pointer_beside_generations_is_an_error_naming_it(demo_index):
    (demo_index / "CURRENT").unlink()
    with pytest.raises(search.IndexCorruptError, match=str(demo_index / "CURRENT")):
        search.Index(demo_index).search("khoa")


def test_missing_pointer_is_repaired_by_reindex(demo_index):
    (demo_index / "CURRENT").unlink()
    result = run("reindex", "--index", demo_index, DEMO / "articles.csv")
    assert result.exit_code == 0, result.output
    assert search.Index(demo_index).doc_count() == 4
    assert json.loads(run("stats", "--index", demo_index, "--json").stdout)["articles"] == 4
    assert len(os.listdir(demo_index / "generations")) == 1


# --- directories that vanish while a reader walks the index -------------------------------------


@contextlib.contextmanager
def churning_build_dir(index: Path) -> Iterator[None]:
    """What a reindex does beside readers: create a *.building tree, then rename/remove it."""
    stop = threading.Event()

    def churn() -> None:
        building = index / "generations" / "g999999.building"
        while not stop.is_set():
            for n in range(100):
                (building / f"d{n}").mkdir(parents=True, exist_ok=True)
                (building / f"d{n}" / "segment").write_bytes(b"x")
            shutil.rmtree(building, ignore_errors=True)

    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_search_page_survives_directories_vanishing_during_a_reindex(tmp_path):
    """Found by the load benchmark: a 500 on "/" when a reindex removed a directory mid-walk."""
    index = build_index(tmp_path / "index")
    client = create_app({"INDEX": str(index)}).test_client()
    statuses = Counter()
    with churning_build_dir(index):
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            statuses[client.get("/", query_string={"q": "khoa hoc"}).status_code] += 1
            statuses[client.get("/").status_code] += 1
    assert set(statuses) == {200}, statuses


def test_stats_survives_directories_vanishing_during_a_reindex(tmp_path):
    ix = search.Index(build_index(tmp_path / "index"))
    with churning_build_dir(ix.path):
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            ix.stats()


# --- workers that die or fail: the command ends, cleaned up, the lock released ---------------------


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def kill_a_worker_of(
    command: str, index: Path, source: Path
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Start ``vnsearch COMMAND``, SIGKILL one of its indexing workers once they run; returns the
    finished command and how long it took to end after the kill."""
    proc = subprocess.Popen(
        [str(VNSEARCH), command, "--index", str(index), str(source)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (workers := children(proc.pid)):
            assert proc.poll() is None and time.monotonic() < deadline, "no worker ever started"
            time.sleep(0.05)
        time.sleep(0.5)  # the workers are indexing
        os.kill(workers[0], signal.SIGKILL)
        killed_at = time.monotonic()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pid in workers:  # no worker outlives the command
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - killed_at


@pytest.mark.parametrize("command", ["add", "reindex"])
def test_a_killed_worker_ends_the_command_with_a_message_and_the_index_unchanged(
    demo_index, tmp_path, command
):
    before = search.Index(demo_index)
    generation, count = before.generation, before.doc_count()
    source = copies_of_demo(tmp_path / "more.jsonl", copies=10)  # 380 articles: several seconds
    result, took = kill_a_worker_of(command, demo_index, source)
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert took < 15, took
    no_traceback(result)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("vnsearch: an indexing worker (pid ") and "killed by signal 9" in last, last
    ix = search.Index(demo_index)
    assert (ix.generation, ix.doc_count()) == (generation, count)
    assert not list((demo_index / "generations").glob("*.building"))
    again = run("delete", "--index", demo_index, "lg-2023-009")  # the lock is free
    assert again.exit_code == 0, again.output


UNPICKLABLE = """
import sys, threading, search

class Unpicklable(BaseException):
    def __init__(self):
        super().__init__("holds a lock")
        self.lock = threading.Lock()

class Trap(dict):
    def get(self, key, default=None):
        if key == "title":
            raise Unpicklable()
        return super().get(key, default)

arts = [{"id": f"a{i}", "title": "Tin", "body": "Nội dung."} for i in range(200)]
arts[150] = Trap(arts[150])
ix = search.Index(sys.argv[1], workers=2)
try:
    if sys.argv[2] == "reindex":
        with ix.new_generation() as gen:
            gen.add_many(arts)
    else:
        with ix.updating() as w:
            w.upsert_many(arts)
except search.IndexingError as exc:
    print(f"IndexingError: {exc}")
"""


@pytest.mark.parametrize("command", ["add", "reindex"])
def test_a_worker_error_that_cannot_be_pickled_ends_the_build(tmp_path, command):
    index = build_index(tmp_path / "index")
    try:
        result = subprocess.run(
            [sys.executable, "-c", UNPICKLABLE, str(index), command],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the build hung on a worker error it could not pickle")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("IndexingError: an indexing worker failed: Unpicklable: holds a lock"), (
        result
    )
    assert not list((index / "generations").glob("*.building"))
    assert search.Index(index).get("a0") is None  # nothing was switched in or committed
    with search.Index(index).updating():  # the lock is free
        pass


# --- permissions: real ones, for a process without root's power to ignore them -------------------


def without_root_access(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run argv as root but without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: file permissions apply."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv (util-linux) to drop the capabilities that bypass permissions")
    drop = "-dac_override,-dac_read_search"
    return subprocess.run(
        ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


UNREADABLE_APP = """
import json, sys
from web import create_app
client = create_app({"INDEX": sys.argv[1]}).test_client()
print(json.dumps([client.get(p).status_code for p in ("/api/search?q=khoa", "/healthz", "/?q=khoa")]))
"""


@pytest.mark.parametrize("locked", ["index", "generations", "generation"])
def test_an_unreadable_index_is_a_503_with_a_log_line_naming_the_permission_error(tmp_path, locked):
    index = build_index(tmp_path / "index")
    target = {
        "index": index,
        "generations": index / "generations",
        "generation": index / "generations" / search.Index(index).generation,
    }[locked]
    target.chmod(0o000)
    try:
        result = without_root_access([sys.executable, "-c", UNREADABLE_APP, str(index)])
        cli = without_root_access([str(VNSEARCH), "search", "--index", str(index), "khoa"])
    finally:
        target.chmod(0o755)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [503, 503, 503], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "search index unusable: cannot read the index" in result.stderr
    assert "Permission denied" in result.stderr
    no_traceback(cli)
    if locked == "index":  # click checks that --index is readable: a usage error
        assert cli.returncode == 2 and "is not readable" in cli.stderr, cli.stderr
    else:
        assert cli.returncode == 1 and "Permission denied" in cli.stderr, cli.stderr


def test_an_unreadable_source_directory_is_reported_and_the_rest_indexed(tmp_path):
    src = tmp_path / "src"
    (src / "locked").mkdir(parents=True)
    (src / "ok.jsonl").write_text('{"id": "ok", "body": "Nội dung."}\n', encoding="utf-8")
    (src / "locked" / "hidden.jsonl").write_text('{"id": "no", "body": "Nội dung."}\n', encoding="utf-8")
    (src / "locked").chmod(0o000)
    try:
        result = without_root_access([str(VNSEARCH), "reindex", "--index", str(tmp_path / "index"), str(src)])
    finally:
        (src / "locked").chmod(0o755)
    assert result.returncode == 3, result.stderr
    assert f"{src / 'locked'}: unreadable directory (Permission denied)" in result.stderr
    assert "read 2: indexed 1, rejected 1" in result.stdout


# --- an empty index is served, not a 500 ----------------------------------------------------------


def test_an_empty_index_serves_empty_results_and_a_healthy_healthz(tmp_path):
    index = tmp_path / "index"
    (tmp_path / "empty").mkdir()
    built = run("reindex", "--index", index, "--allow-empty", tmp_path / "empty")
    assert built.exit_code == 0, built.output
    client = create_app({"INDEX": str(index)}).test_client()
    found = client.get("/api/search", query_string={"q": "khoa học", "sort": "newest", "category": "Y tế"})
    assert found.status_code == 200 and found.json["total"] == 0 and found.json["hits"] == []
    assert client.get("/", query_string={"q": "khoa học"}).status_code == 200
    assert client.get("/").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["articles"] == 0, health.json
    stats = run("stats", "--index", index)
    assert stats.exit_code == 0 and "articles    0" in stats.stdout, stats.output


def test_a_generation_of_another_format_is_a_503_from_healthz_and_searches(demo_index):
    """/healthz says what searches would meet: the format check runs when the generation opens."""
    generation = demo_index / "generations" / search.Index(demo_index).generation
    client = create_app({"INDEX": str(demo_index)}).test_client()
    assert client.get("/healthz").status_code == 200
    with whoosh_leaks_ignored():
        (generation / "FORMAT").write_text("0\n")  # what an older vnsearch's generation looks like
        os.utime(demo_index / "CURRENT")  # readers notice a changed pointer
        client = create_app({"INDEX": str(demo_index)}).test_client()
        assert [client.get(p).status_code for p in ("/healthz", "/api/search?q=khoa", "/")] == [503] * 3


def _tear_a_report(results) -> None:
    """A worker killed while putting a report: the header promises more bytes than ever come."""
    os.write(results._writer.fileno(), struct.pack("!i", 1000) + b"torn")
    os._exit(9)


def test_a_worker_killed_in_the_middle_of_a_report_ends_the_wait_within_seconds():
    from search import writing

    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    proc = ctx.Process(target=_tear_a_report, args=(results,), daemon=True)
    proc.start()
    proc.join()
    waiting = writing._Waiting(results, [proc])
    outcome: list = []
    reader = threading.Thread(target=lambda: outcome.append(_raises(waiting.take)), daemon=True)
    reader.start()
    reader.join(timeout=15)
    assert outcome and isinstance(outcome[0], writing.IndexingError), outcome
    assert not waiting.close()  # the receiver stays on the torn message; its pipe stays open


def _raises(call) -> BaseException | None:
    try:
        call()
    except BaseException as exc:  # the outcome is the test's to judge
        return exc
    return None


HELD_WRITE_LOCK = """
import multiprocessing, os, time
from search import writing

def hold_the_write_lock(results, holding):
    results._wlock.acquire()  # what a worker killed in the middle of a report leaves behind
    holding.set()
    time.sleep(600)

ctx = multiprocessing.get_context("fork")
jobs, results, holding = ctx.Queue(), ctx.Queue(), ctx.Event()
proc = ctx.Process(target=hold_the_write_lock, args=(results, holding), daemon=True)
proc.start()
holding.wait(30)
waiting = writing._Waiting(results, [proc])
proc.kill()
try:
    waiting.take()
except writing.IndexingError as exc:
    print("IndexingError:", exc)
writing._stop([proc], jobs, waiting)
print("stopped")
"""


def test_a_worker_killed_holding_the_report_lock_does_not_keep_the_command_from_exiting():
    """Waking the receiver puts a report of our own, whose feeder thread then waits forever for
    the lock the dead worker held: the exit must not wait for that thread."""
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-c", HELD_WRITE_LOCK], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not exit after its indexing workers were stopped")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "killed by signal 9" in result.stdout and "stopped" in result.stdout, result.stdout
    assert time.monotonic() - started < 20
