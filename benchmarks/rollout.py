"""Rolling out a new generation under load: nginx in front of two ``vnsearch serve`` replicas.

Clients search through nginx (the shipped docs/deploy configs, Debian's nginx) while a writer
builds a new generation, which is copied to each replica and activated replica by replica
(``vnsearch activate``, then the replica's own /healthz must name it before the next one). Every
response is checked: a failure is any error or status other than 200; each response's ``total``
says which generation answered it (the new one adds an article that holds every query word).
Target: 0 failed requests, and every response to a request sent after the rollout from the new one.

    python benchmarks/rollout.py [--clients 32] [--seconds 60] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "docs" / "deploy"
DEMO = ROOT / "examples" / "demo"
OUT = ROOT / "benchmarks" / "results" / "rollout.md"
VNSEARCH = Path(sys.executable).with_name("vnsearch")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# One syllable each: no word's syllables to line up, so no total is ever approximate, and each
# response's total names its generation.
QUERIES = ["khoa", "Giang", "dich", "bóng", "giáo", "tế"]
# One article holding every query word: each query's total grows by one in the new generation.
EXTRA = {
    "id": "rollout-marker",
    "title": "Khoa học và giáo dục ở Lam Giang",
    "summary": "Dịch vụ công, y tế và bóng đá.",
    "body": "Tỉnh Lam Giang đưa khoa học vào giáo dục, y tế, dịch vụ công và bóng đá học đường.",
    "date": "2025-06-01",
    "category": "Thời sự",
}
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited:\n{log.read_text()[-3000:]}")
        try:
            if fetch(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@contextmanager
def started(argv: list[str], log: Path, ready_url: str, stop=signal.SIGTERM, env: dict | None = None):
    """A server process, ready when ``ready_url`` answers 200; stopped with ``stop`` at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        wait_for(ready_url, process, log)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def render_nginx(work: Path, port: int, replicas: list[int], site: str = "vnsearch-replicas.conf") -> Path:
    """The shipped configs with this machine's paths and ports, under a main config of our own."""
    snippets = work / "snippets"
    snippets.mkdir(parents=True, exist_ok=True)
    for name in ("vnsearch-http.conf", "vnsearch-locations.conf"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (snippets / name).write_text(text.replace("/opt/vnsearch/", f"{ROOT}/"), encoding="utf-8")
    conf = (DEPLOY / site).read_text(encoding="utf-8").replace("/etc/nginx/snippets/", f"{snippets}/")
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;\n" for p in replicas)
    conf, upstreams = re.subn(
        r"(upstream vnsearch \{\n(?:    least_conn;\n)?)(?:    server .*\n)+", rf"\g<1>{servers}", conf
    )
    conf, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", conf)
    if (upstreams, listens) != (1, 1):
        raise RuntimeError(f"{site} no longer has one upstream 'vnsearch' and one 'listen 80'")
    (work / "vnsearch.conf").write_text(conf, encoding="utf-8")
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / temp).mkdir(exist_ok=True)
    main = f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {work}/access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/vnsearch.conf;
}}
"""
    (work / "nginx.conf").write_text(main, encoding="utf-8")
    return work / "nginx.conf"


def nginx(work: Path, port: int, replicas: list[int], site: str = "vnsearch-replicas.conf"):
    conf = render_nginx(work, port, replicas, site)
    argv = [NGINX, "-p", str(work), "-c", str(conf), "-g", "daemon off;"]
    return started(argv, work / "nginx.log", f"http://127.0.0.1:{port}/healthz", stop=signal.SIGQUIT)


def serve(index: Path, port: int, log: Path, workers: int = 1):
    argv = [str(VNSEARCH), "serve", "--index", str(index), "--port", str(port), "--workers", str(workers)]
    return started(argv, log, f"http://127.0.0.1:{port}/healthz")


def vnsearch(*args: str | Path) -> str:
    done = subprocess.run([str(VNSEARCH), *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"vnsearch {' '.join(map(str, args))}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def current(index: Path) -> str:
    return (index / "CURRENT").read_text(encoding="utf-8").strip()


def copy_generation(writer: Path, replica: Path) -> str:
    """What rsync -a writer:index/generations/NAME replica:index/generations/ does, here on one disk."""
    name = current(writer)
    shutil.copytree(writer / "generations" / name, replica / "generations" / name)
    return name


def totals(index: Path) -> dict[str, int]:
    out = {}
    for q in QUERIES:
        out[q] = json.loads(vnsearch("search", "--index", index, q, "--json"))["total"]
    return out


@dataclass
class Outcome:
    """Every request a client sent: (query, sent, answered, status, total or the error)."""

    sent: list = field(default_factory=list)
    rollout: tuple[float, float] = (0.0, 0.0)  # when the first activation started, the last ended

    def failed(self) -> list:
        return [r for r in self.sent if r[3] != 200]


def client(base: str, stop: threading.Event, out: list, seed: int) -> None:
    i = seed
    while not stop.is_set():
        q = QUERIES[i % len(QUERIES)]
        i += 1
        url = f"{base}/api/search?" + urllib.parse.urlencode({"q": q, "size": 10})
        sent = time.monotonic()
        try:
            status, body = fetch(url)
            found = json.loads(body) if status == 200 else {}
            # An approximate total (the request ran out of its time for checking word positions,
            # on a loaded machine) says nothing about the generation: kept apart.
            total = (
                ("approximate", found["total"])
                if found.get("approximate")
                else found.get("total", body[:200])
            )
        except Exception as exc:  # a failed request is what this counts
            status, total = 0, f"{type(exc).__name__}: {exc}"
        out.append((q, sent, time.monotonic(), status, total))


def run(work: Path, clients: int, seconds: float) -> tuple[Outcome, dict, dict]:
    """Build, serve and roll out; returns the outcome and each query's total in the old and new one."""
    writer, replicas = work / "writer", [work / "replica1", work / "replica2"]
    vnsearch("reindex", "--index", writer, DEMO)
    old = totals(writer)
    for replica in replicas:
        vnsearch("activate", "--index", replica, copy_generation(writer, replica))
    extra = work / "extra.jsonl"
    extra.write_text(json.dumps(EXTRA, ensure_ascii=False) + "\n", encoding="utf-8")
    ports, front = [free_port(), free_port()], free_port()
    outcome = Outcome()
    with ExitStack() as stack:
        for replica, port in zip(replicas, ports, strict=True):
            stack.enter_context(serve(replica, port, work / f"{replica.name}.log"))
        stack.enter_context(nginx(work / "nginx", front, ports))
        stop, results = threading.Event(), [[] for _ in range(clients)]
        threads = [
            threading.Thread(target=client, args=(f"http://127.0.0.1:{front}", stop, results[i], i))
            for i in range(clients)
        ]
        for t in threads:
            t.start()
        began = time.monotonic()
        time.sleep(seconds * 0.2)
        vnsearch("reindex", "--index", writer, DEMO, extra)  # the writer builds the new generation
        new = totals(writer)
        started_at = time.monotonic()
        for replica, port in zip(replicas, ports, strict=True):
            name = copy_generation(writer, replica)
            vnsearch("activate", "--index", replica, name)
            while json.loads(fetch(f"http://127.0.0.1:{port}/healthz")[1])["generation"] != name:
                time.sleep(0.05)
        outcome.rollout = (started_at, time.monotonic())
        time.sleep(max(seconds - (time.monotonic() - began), seconds * 0.2))
        stop.set()
        for t in threads:
            t.join()
    outcome.sent = sorted((r for rs in results for r in rs), key=lambda r: r[1])
    if any(old[q] == new[q] for q in QUERIES):
        raise RuntimeError(f"the new generation must change every query's total: {old} → {new}")
    return outcome, old, new


def classify(outcome: Outcome, old: dict, new: dict) -> dict[str, list]:
    """Answered requests by phase (before, during, after the rollout) and generation."""
    start, end = outcome.rollout
    phases: dict[str, list] = {"before": [], "during": [], "after": []}
    for q, sent, answered, status, total in outcome.sent:
        if status != 200:
            continue
        if isinstance(total, tuple):
            gen = "approximate"
        else:
            gen = "old" if total == old[q] else "new" if total == new[q] else f"unknown total {total}"
        phase = "before" if answered < start else "after" if sent > end else "during"
        phases[phase].append((answered - sent, gen))
    return phases


def table(outcome: Outcome, old: dict, new: dict, clients: int, seconds: float, command: str) -> str:
    phases = classify(outcome, old, new)
    rows = [
        f"# Rollout under load: nginx → 2 replicas, {clients} clients × {seconds:.0f} s, "
        f"{os.cpu_count()} cores",
        "",
        f"Command: `{command}`",
        "",
        "| phase | requests | failed | from old gen | from new gen | approximate total | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase, answered in phases.items():
        times = sorted(t * 1000 for t, _ in answered)
        p50 = statistics.median(times) if times else 0
        p95 = times[int(0.95 * (len(times) - 1))] if times else 0
        counts = {g: sum(1 for _, x in answered if x == g) for g in ("old", "new", "approximate")}
        rows.append(
            f"| {phase} | {len(answered)} | | {counts['old']} | {counts['new']} | {counts['approximate']} "
            f"| {p50:.0f} | {p95:.0f} |"
        )
    failed = outcome.failed()
    rows += [
        f"| **all** | {len(outcome.sent)} | **{len(failed)}** | | | | | |",
        "",
        f"Rollout (copy + `vnsearch activate` + /healthz check, replica by replica) took "
        f"{outcome.rollout[1] - outcome.rollout[0]:.1f} s. Target: 0 failed requests, and every "
        "request sent after the rollout answered by the new generation. The demo index (48 articles, "
        f"{len(QUERIES)} queries repeated: most answers come from each worker's result cache, emptied "
        "at each switch); the machine was shared with other work. An approximate total (a request "
        "out of its time for checking word positions) cannot tell the generations apart: counted apart.",
    ]
    if failed:
        rows.append(f"Failures (first 5): {failed[:5]}")
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--quick", action="store_true", help="8 clients × 6 s, for CI (table not written)")
    args = ap.parse_args()
    clients, seconds = (8, 6.0) if args.quick else (args.clients, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        outcome, old, new = run(Path(tmp), clients, seconds)
    command = "python benchmarks/rollout.py" + (" --quick" if args.quick else "")
    if not args.quick and (args.clients, args.seconds) != (32, 60):
        command += f" --clients {args.clients} --seconds {args.seconds:g}"
    text = table(outcome, old, new, clients, seconds, command)
    print(text)
    if not args.quick:
        OUT.write_text(text, encoding="utf-8")
    wrong = [p for p in classify(outcome, old, new)["after"] if p[1] not in ("new", "approximate")]
    if outcome.failed() or wrong:
        print(f"failed: {outcome.failed()[:5]}; after the rollout, not new: {wrong[:5]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
