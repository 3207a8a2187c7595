"""The real server under abuse: gunicorn (web/gunicorn.conf.py, 2 workers, 127.0.0.1) over a real index.

What is pinned down: the product config sets a worker timeout; the master replaces a killed worker
and a stuck one (stopped past the timeout) while the other keeps answering; a flood of 2,000
requests does not grow the workers' memory without bound; a broken generation pointer is a 503
(JSON for the API, a page for people) with the path in the server log and no traceback; a server
on an index never built answers searches with an empty result and says the index is empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from test_serve import fetch, free_port, running
from web_fixtures import build_index

from web import create_app
from web.cli import GUNICORN_CONFIG

TEST_TIMEOUT = 3  # seconds; the product's own value is checked in test_product_config_limits_workers
FLOOD_REQUESTS = 2_000
FLOOD_CLIENTS = 4
RSS_GROWTH_LIMIT_KB = 20_000


def gunicorn_argv(*extra: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), *extra, "web:create_app()"]


def server_env(index: Path, port: int, workers: int = 2) -> dict[str, str]:
    return {
        "VNSEARCH_INDEX": str(index),
        "VNSEARCH_BIND": f"127.0.0.1:{port}",
        "VNSEARCH_WORKERS": str(workers),
    }


def workers_of(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_product_config_limits_workers():
    settings: dict[str, object] = {}
    exec(GUNICORN_CONFIG.read_text(), settings)  # how gunicorn reads it
    assert isinstance(settings["timeout"], int) and 0 < settings["timeout"] <= 60
    assert 0 < settings["graceful_timeout"] <= settings["timeout"]
    # Threads, with the heartbeat held back to the oldest request's start: the timeout covers a
    # request as it did with one request per sync worker (web/worker.py).
    assert settings["worker_class"] == "web.worker.BoundedThreadWorker" and settings["threads"] >= 2
    assert settings["limit_request_line"] == 8190  # gunicorn's maximum: every query the app accepts fits
    assert 0 < settings["keepalive"] <= settings["timeout"]
    assert settings["bind"] == ["127.0.0.1:8000"]  # loopback unless told otherwise


class Server:
    def __init__(self, base: str, process, log: Path) -> None:
        self.base, self.process, self.log = base, process, log

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return fetch(self.base + path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The product config with only the worker timeout shortened, so a stuck worker is seen soon."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    index = build_index(tmp / "index")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = gunicorn_argv("--timeout", str(TEST_TIMEOUT), "--graceful-timeout", "2")
    with running(argv, tmp / "gunicorn.log", server_env(index, port), base) as process:
        wait_until(lambda: len(workers_of(process.pid)) == 2, 30, "two workers")
        yield Server(base, process, tmp / "gunicorn.log")


def keep_asking(server: Server, stop: threading.Event, statuses: list[tuple[float, int]]) -> None:
    """Search every 20 ms, noting when each request was sent and its status (-1: connection failed)."""
    while not stop.is_set():
        sent = time.monotonic()
        try:
            statuses.append((sent, server.get("/api/search?q=khoa+hoc")[0]))
        except OSError as exc:
            statuses.append((sent, -1))
            print("request failed:", exc)
        time.sleep(0.02)


def assert_only_the_victims_request_was_lost(statuses: list[tuple[float, int]], struck_at: float) -> None:
    """Requests sent after the worker was struck are all answered; before it, at most the one request
    the victim already held (a sync worker serves one at a time) is lost with it."""
    margin = 0.05  # the signal takes effect when the victim is next scheduled
    after = [status for sent, status in statuses if sent > struck_at + margin]
    before = [status for sent, status in statuses if sent <= struck_at + margin]
    assert after and set(after) == {200}, after
    assert sum(status != 200 for status in before) <= 1, before


def test_request_flood_does_not_grow_worker_memory(server):
    queries = [f"khoa hoc {n}" for n in range(50)] + ["bong da", "gia vang", "Hà Nội", '"khoa học"', "xyz"]
    for n in range(200):  # warm up both workers: caches, lazily opened index, pyvi
        assert server.get(f"/api/search?q={quote_plus(queries[n % len(queries)])}")[0] == 200
    workers = workers_of(server.process.pid)
    before = {pid: rss_kb(pid) for pid in workers}
    failures: list[str] = []
    counter = iter(range(FLOOD_REQUESTS))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            q = quote_plus(queries[n % len(queries)])
            path = ("/api/search?q=", "/?q=", "/api/search?size=100&page=3&q=")[n % 3] + q
            status = server.get(path)[0]
            if status != 200:
                failures.append(f"{path}: {status}")

    threads = [threading.Thread(target=client) for _ in range(FLOOD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert workers_of(server.process.pid) == workers, "a worker was replaced during the flood"
    after = {pid: rss_kb(pid) for pid in workers}
    growth = {pid: after[pid] - before[pid] for pid in workers}
    print(f"\nworker RSS before {before} after {after} (kB)")
    assert max(growth.values()) < RSS_GROWTH_LIMIT_KB, growth


def test_killed_worker_is_replaced_while_the_other_answers(server):
    master = server.process.pid
    old = workers_of(master)
    victim = min(old)
    stop, statuses = threading.Event(), []
    asker = threading.Thread(target=keep_asking, args=(server, stop, statuses))
    asker.start()
    try:
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        struck_at = time.monotonic()
        wait_until(
            lambda: victim not in workers_of(master) and len(workers_of(master)) == 2, 30, "a new worker"
        )
        time.sleep(0.5)
    finally:
        stop.set()
        asker.join()
    assert_only_the_victims_request_was_lost(statuses, struck_at)
    new = (workers_of(master) - old).pop()
    assert server.get("/healthz")[0] == 200
    assert server.process.poll() is None and new != victim


def test_stuck_worker_is_replaced_after_the_timeout(server):
    master = server.process.pid
    victim = min(workers_of(master))
    stop, statuses = threading.Event(), []
    asker = threading.Thread(target=keep_asking, args=(server, stop, statuses))
    asker.start()
    started = time.monotonic()
    try:
        os.kill(victim, signal.SIGSTOP)  # stuck: no heartbeat, no requests taken
        struck_at = time.monotonic()
        wait_until(
            lambda: victim not in workers_of(master) and len(workers_of(master)) == 2,
            6 * TEST_TIMEOUT + 10,
            "the stuck worker to be replaced",
        )
        replaced_after = time.monotonic() - started
        time.sleep(0.5)
    finally:
        stop.set()
        asker.join()
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGCONT)
    print(f"\nstuck worker replaced after {replaced_after:.1f} s (timeout {TEST_TIMEOUT} s)")
    assert replaced_after >= TEST_TIMEOUT
    assert_only_the_victims_request_was_lost(statuses, struck_at)
    assert "WORKER TIMEOUT" in server.log.read_text()


# --- broken and empty indexes ------------------------------------------------------------------


def test_broken_pointer_is_a_503_naming_the_path_in_the_log(tmp_path):
    index = build_index(tmp_path / "index")
    (index / "CURRENT").write_text("g999999\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    env = server_env(index, port, workers=1)
    with _start_without_health(log, env, base):
        for path in ("/healthz", "/api/search?q=khoa", "/api/articles/kh-1"):
            status, headers, body = fetch(base + path)
            assert status == 503, (path, body)
            assert headers["Content-Type"].startswith("application/json")
            assert json.loads(body)["error"]["code"] == "unavailable"
        status, headers, body = fetch(base + "/?q=khoa")
        assert status == 503 and headers["Content-Type"].startswith("text/html")
        assert "chưa sẵn sàng" in body.decode()
        assert str(index) not in body.decode()
    text = log.read_text()
    assert str(index / "CURRENT") in text and "g999999" in text
    assert "Traceback" not in text


class _start_without_health:
    """Like test_serve.running, but ready when the port answers at all (here /healthz is a 503)."""

    def __init__(self, log: Path, env: dict[str, str], base: str) -> None:
        self.log, self.env, self.base = log, env, base

    def __enter__(self):
        import subprocess

        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                gunicorn_argv(), stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
            )

        def up() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            try:
                fetch(self.base + "/healthz")
                return True
            except OSError:
                return False

        wait_until(up, 30, "the server to listen")
        return self.process

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.mark.parametrize(
    "breakage",
    ["garbage pointer", "empty pointer", "pointer is a directory", "generation files missing"],
)
def test_every_broken_index_is_a_503_not_a_500(tmp_path, breakage):
    index = build_index(tmp_path / "index")
    current = index / "CURRENT"
    generation = current.read_text().strip()
    if breakage == "garbage pointer":
        current.write_bytes(b"\xff\xfe\x00garbage")
    elif breakage == "empty pointer":
        current.write_text("")
    elif breakage == "pointer is a directory":
        current.unlink()
        current.mkdir()
    else:
        for path in (index / "generations" / generation).iterdir():
            path.unlink()
    client = create_app({"INDEX": str(index)}).test_client()
    for path in ("/healthz", "/api/search?q=khoa", "/api/articles/kh-1", "/api/articles/kh-1/related"):
        response = client.get(path)
        assert response.status_code == 503, (path, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"]["code"] == "unavailable"
    for path in ("/", "/?q=khoa", "/articles/kh-1/related"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "chưa sẵn sàng" in response.get_data(as_text=True)


def test_server_on_an_index_never_built_answers_empty_with_a_hint(tmp_path):
    index = tmp_path / "never-built"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(gunicorn_argv(), tmp_path / "log", server_env(index, port, workers=1), base):
        status, _, body = fetch(base + "/healthz")
        assert status == 200 and json.loads(body) == {"status": "ok", "generation": None, "articles": 0}
        status, _, body = fetch(base + "/api/search?q=khoa+hoc")
        data = json.loads(body)
        assert status == 200 and data["total"] == 0 and data["hits"] == []
        assert fetch(base + "/api/articles/kh-1")[0] == 404
        status, _, body = fetch(base + "/")
        assert status == 200 and "Chỉ mục chưa có bài nào" in body.decode()
        status, _, body = fetch(base + "/?q=khoa+hoc")
        assert status == 200 and "Chỉ mục chưa có bài nào" in body.decode()  # not "check your spelling"
