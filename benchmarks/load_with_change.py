"""Load with change: the real server under concurrent clients while the index changes underneath.

gunicorn (web/gunicorn.conf.py, 2 workers, 127.0.0.1 only) serves an index built from the demo
data plus a slice of the real corpus (``../shared/corpus/rss-headlines``, when present). Client
threads (urllib, loopback only, bounded by the duration) search it without pause while, in turn:

1. ``vnsearch add`` upserts an article carrying a marker word (incremental commit);
2. ``vnsearch reindex`` rebuilds everything as a new generation with a second marker article,
   switched in with one rename while the clients keep searching;
3. ``vnsearch delete`` removes two articles the clients keep searching for.

For each change the table gives when it became durable, how long after that the last response
still showed the old state (requests already in flight count), and how many requests *sent*
after it still saw the old state (must be 0). Any non-200 response or connection error is a
failure (must be 0). Exit status 1 when either is not 0.

    python benchmarks/load_with_change.py            # 64 clients, 60 s, demo + 3,000 real articles
    python benchmarks/load_with_change.py --quick    # 8 clients, 10 s, demo only (the CI smoke test)
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

from serving import free_port

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"
CORPUS = ROOT.parent / "shared" / "corpus" / "rss-headlines" / "docs.jsonl.gz"
GUNICORN_CONFIG = ROOT / "web" / "gunicorn.conf.py"
OUT = ROOT / "benchmarks" / "results" / "load_with_change.md"
VNSEARCH = Path(sys.executable).with_name("vnsearch")

ADD_MARKER = "kiwimarkeradd"
GEN_MARKER = "kiwimarkergen"
DELETED = {  # id -> a query whose results hold it until it is deleted
    "lg-2023-009": "cong dich vu cong truc tuyen",
    "demo-csv-1": "ngư dân nuôi biển",
}
QUERIES = [
    "khoa hoc",
    "bóng đá",
    "gia vang",
    "Hà Nội",
    '"dịch vụ công"',
    "TP.HCM",
    "thoi tiet mua lon",
    "giáo dục -đại học",
    "title:ngân hàng",
    "xe điện",
]


@dataclass
class Response:
    path: str
    kind: str  # "plain", "add", "gen", or a deleted id
    started: float
    ended: float
    status: int  # -1: connection error
    hit_ids: list[str] = field(default_factory=list)


@dataclass
class Change:
    name: str
    kinds: tuple[str, ...]  # which responses tell the old state from the new
    at: float | None = None  # when it became visible on disk (pointer replaced / commit written)
    seconds: float = 0.0  # how long the command took


# The kernel stamps files from its coarse clock: a change time can be up to one tick before the
# rename that set it, so a request sent within that tick may rightly have seen the old state.
CLOCK_REALTIME_COARSE = 5  # Linux's id for it; the time module does not name it
STAMP_RESOLUTION = time.clock_getres(CLOCK_REALTIME_COARSE)


def fetch(base: str, path: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def corpus_slice(n: int) -> list[dict]:
    if n <= 0 or not CORPUS.exists():
        return []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, n)]
    keep = ("id", "title", "date", "category", "url", "body")
    return [{k: row.get(k) for k in keep} for row in rows]


def marker(article_id: str, word: str) -> dict:
    return {
        "id": article_id,
        "title": f"Bài đánh dấu {word}",
        "body": f"Bài này chứa từ đánh dấu {word} để đo lúc kết quả đổi.",
        "date": "2025-01-01",
        "category": "Thời sự",
        "url": f"https://tin.example.vn/{article_id}",
    }


def vnsearch(*args: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    result = subprocess.run(
        [str(VNSEARCH), *map(str, args)], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise SystemExit(f"vnsearch {args[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return time.monotonic() - started, result


class Clients:
    """N threads searching in a loop until stopped; every response is recorded."""

    def __init__(self, base: str, n: int) -> None:
        self.base = base
        self.stop = threading.Event()
        self.responses: list[Response] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self.mix = [(f"/api/search?q={quote_plus(q)}", "plain") for q in QUERIES]
        self.mix += [(f"/?q={quote_plus(q)}", "plain") for q in QUERIES[:3]]
        self.mix += [(f"/api/search?q={ADD_MARKER}", "add"), (f"/api/search?q={GEN_MARKER}", "gen")] * 2
        self.mix += [(f"/api/search?q={quote_plus(q)}&size=20", aid) for aid, q in DELETED.items()] * 2
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(n)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, offset: int) -> None:
        for step in itertools.count(offset):
            if self.stop.is_set():
                return
            path, kind = self.mix[step % len(self.mix)]
            started = time.time()  # wall clock: compared with file change times
            try:
                status, body = fetch(self.base, path)
            except OSError as exc:
                status, body = -1, b""
                with self._lock:
                    self.errors.append(f"{path}: {exc}")
            ended = time.time()
            ids: list[str] = []
            if status == 200 and path.startswith("/api/"):
                ids = [hit["id"] for hit in json.loads(body)["hits"]]
            elif status != 200:
                with self._lock:
                    self.errors.append(f"{path}: HTTP {status}")
            with self._lock:
                self.responses.append(Response(path, kind, started, ended, status, ids))


def old_state(response: Response) -> bool:
    """Does this response show the index as it was before the change its kind tells about?"""
    if response.kind == "add":
        return "marker-add" not in response.hit_ids
    if response.kind == "gen":
        return "marker-gen" not in response.hit_ids
    return response.kind in response.hit_ids  # a deleted id still found


def lag(responses: list[Response], change: Change) -> dict:
    """How the responses that tell the old state from the new saw ``change`` (times in seconds,
    relative to the moment it reached the disk; negative: before it)."""
    telling = [r for r in responses if r.kind in change.kinds and r.status == 200]
    old = [r for r in telling if old_state(r)]
    new = [r for r in telling if not old_state(r)]
    last_old = max((r.ended for r in old if r.started <= change.at + 60), default=None)
    first_new = min((r.ended for r in new), default=None)
    return {
        "last_old_response_ended_s": None if last_old is None else round(last_old - change.at, 4),
        "first_new_response_ended_s": None if first_new is None else round(first_new - change.at, 4),
        "stale_after_change": sum(1 for r in old if r.started > change.at + STAMP_RESOLUTION),
        "old_state_before": sum(1 for r in old if r.ended < change.at),
        "responses_after": sum(1 for r in telling if r.ended >= change.at),
    }


def fingerprint(index: Path) -> tuple[int, tuple[str, ...]]:
    """Changes when a generation is switched in (the pointer's inode) or a commit lands in the
    current generation (Whoosh writes a new table of contents last)."""
    pointer = index / "CURRENT"
    try:
        inode = os.stat(pointer).st_ino
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return (0, ())
    return inode, tuple(sorted(p.name for p in (index / "generations" / name).glob("*.toc")))


def timed_change(change: Change, index: Path, *args: object) -> None:
    """Run the command; ``change.at`` is when its result became visible: the change time of the new
    pointer (a reindex) or of Whoosh's new table of contents (a commit), which their rename sets.
    Their modification time is earlier by the fsyncs that come before the rename (a request sent in
    between rightly sees the old state). Wall-clock time, as the responses are stamped."""
    before = fingerprint(index)
    change.seconds, _ = vnsearch(*args)
    inode, tocs = fingerprint(index)
    if inode != before[0]:
        change.at = os.stat(index / "CURRENT").st_ctime_ns / 1e9
    else:
        name = (index / "CURRENT").read_text().strip()
        new = set(tocs) - set(before[1])
        if not new:
            raise SystemExit(f"{args[0]} changed nothing on disk")
        change.at = max(os.stat(index / "generations" / name / toc).st_ctime_ns for toc in new) / 1e9


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="vnsearch-load-"))
    index = tmp / "index"
    sources = tmp / "sources"
    sources.mkdir()
    real = corpus_slice(args.corpus_docs)
    if real:
        write_jsonl(sources / "corpus-slice.jsonl", real)
    built, _ = vnsearch("reindex", "--index", index, DEMO, sources)
    articles = 48 + len(real)
    add_file = write_jsonl(tmp / "add.jsonl", [marker("marker-add", ADD_MARKER)])
    gen_sources = tmp / "gen-sources"
    gen_sources.mkdir()
    write_jsonl(
        gen_sources / "markers.jsonl", [marker("marker-add", ADD_MARKER), marker("marker-gen", GEN_MARKER)]
    )
    if real:
        os.link(sources / "corpus-slice.jsonl", gen_sources / "corpus-slice.jsonl")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "VNSEARCH_INDEX": str(index),
        "VNSEARCH_BIND": f"127.0.0.1:{port}",
        "VNSEARCH_WORKERS": "2",
    }
    log = (tmp / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(base, "/healthz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; log in {tmp / 'gunicorn.log'}")
            time.sleep(0.2)
        for q in QUERIES:  # both workers open the index and load what they lazily load
            fetch(base, f"/api/search?q={quote_plus(q)}")

        clients = Clients(base, args.clients)
        changes = [
            Change("incremental add (vnsearch add)", ("add",)),
            Change("full reindex (new generation)", ("gen",)),
            Change(f"delete {' and '.join(DELETED)} (vnsearch delete)", tuple(DELETED)),
        ]
        started = time.monotonic()
        clients.start()
        end = started + args.duration

        time.sleep(args.duration * 0.1)
        timed_change(changes[0], index, "add", "--index", index, add_file)
        time.sleep(args.duration * 0.05)
        timed_change(changes[1], index, "reindex", "--index", index, DEMO, gen_sources)
        time.sleep(args.duration * 0.05)
        timed_change(changes[2], index, "delete", "--index", index, *DELETED)
        time.sleep(max(1.0, end - time.monotonic()))  # at least a second of load after the last change
        clients.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()

    responses = clients.responses
    ok = [r for r in responses if r.status == 200]
    latencies = [(r.ended - r.started) * 1000 for r in ok]
    during_swap = [r for r in ok if changes[1].at - changes[1].seconds <= r.started <= changes[1].at]
    # (approximate: the reindex command's duration counted back from its switch)
    result = {
        "clients": args.clients,
        "duration_s": round(elapsed, 1),
        "articles": articles,
        "corpus": f"demo + {len(real):,} from rss-headlines" if real else "demo only",
        "initial_build_s": round(built, 1),
        "requests": len(responses),
        "served": len(ok),
        "failed": len(responses) - len(ok),
        "errors": clients.errors[:20],
        "requests_per_s": round(len(ok) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "served_during_reindex": len(during_swap),
        "changes": [],
    }
    for change in changes:
        result["changes"].append(
            {"change": change.name, "command_s": round(change.seconds, 2), **lag(responses, change)}
        )
    return result


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:+.0f} ms"


def markdown(result: dict, command: str) -> str:
    lines = [
        "# Load with change",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}. "
        f"gunicorn with web/gunicorn.conf.py, 2 sync workers on 127.0.0.1; {result['clients']} client "
        f"threads (urllib) for {result['duration_s']} s (until at least a second after the last "
        f"change); index of {result['articles']:,} articles ({result['corpus']}; built in "
        f"{result['initial_build_s']} s).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests served (200) | {result['served']:,} |",
        f"| failed requests (non-200 or connection error) | {result['failed']} |",
        f"| throughput | {result['requests_per_s']} req/s |",
        f"| latency p50 / p99 / max | {result['p50_ms']} / {result['p99_ms']} / {result['max_ms']} ms |",
        f"| served while the full reindex ran | {result['served_during_reindex']:,} |",
        "",
        "| change (while the clients search) | command took | last old-state response ended | first "
        "new-state response ended | stale responses to requests sent after it | telling responses "
        "before / after it |",
        "|---|---|---|---|---|---|",
    ]
    for c in result["changes"]:
        lines.append(
            f"| {c['change']} | {c['command_s']} s | {ms(c['last_old_response_ended_s'])} | "
            f"{ms(c['first_new_response_ended_s'])} | {c['stale_after_change']} | "
            f"{c['old_state_before']:,} / {c['responses_after']:,} |"
        )
    lines += [
        "",
        "Times are relative to the moment the change became visible (the change time that the rename "
        "of the generation pointer or of Whoosh's new table of contents sets): the "
        "switch is complete when the last old-state response has ended; a positive value there is a "
        'request that was already being answered from the old state. "Stale responses" counts '
        "requests *sent* after the change (later than the file clock's resolution, "
        f"{STAMP_RESOLUTION * 1000:g} ms) that still showed the old state (a deleted article found, "
        "a marker article missing): it must be 0.",
    ]
    if result["errors"]:
        lines += ["", "Errors (first 20):", "", *[f"- {e}" for e in result["errors"]]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 clients, 10 s, demo data only")
    parser.add_argument("--clients", type=int, help="client threads (default 64, quick 8)")
    parser.add_argument("--duration", type=float, help="seconds of load (default 60, quick 10)")
    parser.add_argument(
        "--corpus-docs", type=int, help="real articles added to the demo (default 3000, quick 0)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"markdown result (default {OUT.relative_to(ROOT)})"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    args.clients = args.clients or (8 if args.quick else 64)
    args.duration = args.duration or (10.0 if args.quick else 60.0)
    if args.corpus_docs is None:
        args.corpus_docs = 0 if args.quick else 3000
    out = args.out or OUT
    command = "python benchmarks/load_with_change.py " + shlex.join(sys.argv[1:])
    result = run(args)
    text = markdown(result, command.strip())
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    stale = sum(c["stale_after_change"] for c in result["changes"])
    vacuous = [c["change"] for c in result["changes"] if not (c["old_state_before"] and c["responses_after"])]
    if vacuous:
        print(f"no response told the old state from the new for: {', '.join(vacuous)}", file=sys.stderr)
    return 1 if result["failed"] or stale or vacuous else 0


if __name__ == "__main__":
    sys.exit(main())
