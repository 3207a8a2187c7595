"""The shipped deployment files (docs/deploy): Debian's nginx with the vnsearch configs in front of real
`vnsearch serve` replicas on loopback, and the systemd unit. The rollout under load is
benchmarks/rollout.py, whose --quick run is in test_benchmarks_quick.py."""

from __future__ import annotations

import gzip
import http.client
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import rollout  # noqa: E402

pytestmark = pytest.mark.skipif(
    not Path(rollout.NGINX).exists(), reason="nginx is not installed (apt-get install nginx)"
)
ROOT = Path(__file__).resolve().parents[1]


def request(port: int, path: str, method: str = "GET", source: str = "127.0.0.1", headers=None):
    """One request from a chosen loopback address (127.0.0.2 is not exempt from the limits)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Iterator[tuple[Path, list[int], list[subprocess.Popen]]]:
    """Two `vnsearch serve` replicas of the demo index, each activated from the writer's copy."""
    work = tmp_path_factory.mktemp("deploy")
    writer = work / "writer"
    rollout.vnsearch("reindex", "--index", writer, rollout.DEMO)
    ports = [rollout.free_port(), rollout.free_port()]
    with ExitStack() as stack:
        processes = []
        for i, port in enumerate(ports):
            replica = work / f"replica{i}"
            rollout.vnsearch("activate", "--index", replica, rollout.copy_generation(writer, replica))
            processes.append(stack.enter_context(rollout.serve(replica, port, work / f"replica{i}.log")))
        yield work, ports, processes


def test_one_node_config_serves_static_files_gzips_json_and_limits_a_flooding_client(replicas):
    work, ports, _ = replicas
    front = rollout.free_port()
    with rollout.nginx(work / "nginx-one", front, ports[:1], site="vnsearch-one-node.conf"):
        status, headers, body = request(front, "/static/style.css")
        assert status == 200 and body == (ROOT / "web" / "static" / "style.css").read_bytes()
        assert "nginx" in headers["Server"] and "Expires" in headers  # nginx itself, not the app

        status, headers, body = request(front, "/api/search?q=khoa+hoc", headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("Content-Encoding") == "gzip"
        assert b'"total"' in gzip.decompress(body)

        assert request(front, "/api/search?q=x", method="POST")[0] == 403
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:  # faster than 10 a second on any machine
            flood = list(
                pool.map(lambda _: request(front, "/api/search?q=y+te", source="127.0.0.2")[0], range(80))
            )
        allowed = 21 + 10 * (time.monotonic() - started)  # the first, a burst of 20, then 10 a second
        assert set(flood) == {200, 429} and 20 <= flood.count(200) <= allowed + 1
        assert request(front, "/healthz", source="127.0.0.2")[0] == 200  # health is never limited
        loopback = [request(front, "/api/search?q=y+te")[0] for _ in range(40)]
        assert loopback == [200] * 40  # this host's checks and load tests are not limited


def test_the_replicas_config_skips_a_replica_that_is_down(replicas):
    work, ports, processes = replicas
    front = rollout.free_port()
    with rollout.nginx(work / "nginx-two", front, ports):
        assert {request(front, "/api/search?q=bong+da")[0] for _ in range(10)} == {200}
        processes[1].terminate()  # the last test to use the replicas
        processes[1].wait(timeout=30)
        statuses = [request(front, f"/api/search?q=bong+da&page={1 + i % 2}")[0] for i in range(20)]
        assert statuses == [200] * 20


def test_the_systemd_unit_runs_a_serve_command_this_vnsearch_accepts(tmp_path):
    unit = (ROOT / "docs" / "deploy" / "vnsearch-serve.service").read_text(encoding="utf-8")
    exec_start = next(line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/vnsearch/.venv/bin/vnsearch" and argv[1] == "serve"
    from web.cli import serve

    serve.make_context("serve", argv[2:])  # raises on an option `vnsearch serve` does not have
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    local = tmp_path / "vnsearch-serve.service"
    local.write_text(
        unit.replace("/opt/vnsearch/.venv/bin/vnsearch", str(rollout.VNSEARCH)), encoding="utf-8"
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, env={**os.environ}
    )
    assert "vnsearch-serve.service" not in done.stderr, done.stderr
