"""Adversarial queries: the slowest ones a client can craft, beside an ordinary query mix (issue 12).

Part 1 times each family of crafted query through the search API (result cache off) against the
median of the ordinary mix (``querymix.py``). Part 2 serves the index with real gunicorn (the
production config ``web/gunicorn.conf.py``, result cache off so every request is computed, as an
attacker varying a parameter would get), lets 8 clients send the slowest families in a bounded
loop, and measures an ordinary query's p95 against its p95 on the idle server. Loopback only.

Targets: the slowest query ≤ 10× the ordinary median; under the 8 clients an ordinary query's
p95 ≤ 5× its idle p95.

    python benchmarks/worst_queries.py                       # VietNews test (22.5k) into /tmp/vnsearch-worst
    python benchmarks/worst_queries.py --index DIR           # reuse an index built before
    python benchmarks/worst_queries.py --articles 5000       # the first 5,000 articles only
    python benchmarks/worst_queries.py --quick               # demo index, short load (CI)
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import itertools
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import querymix  # noqa: E402
from corpus import save_table  # noqa: E402
from serving import answers_healthz, free_port  # noqa: E402

import search  # noqa: E402
from search.limits import MAX_QUERY_CHARS, MAX_WORDS  # noqa: E402
from search.text import exact_key, fold  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "worst_queries.md"
CORPUS_FILE = querymix.CORPUS / "vietnews" / "docs-test.jsonl.gz"
GUNICORN_CONFIG = ROOT / "web" / "gunicorn.conf.py"
CLIENTS = 8
SLOWEST_SENT = 3  # the attackers cycle through this many of the slowest families
MAX_ATTACK_REQUESTS = 5_000  # a hard cap on the loop, whatever the duration
REQUEST_TIMEOUT = 60.0  # seconds; the worker timeout (30 s) ends a request long before
TARGET_SLOWEST = 10.0
TARGET_P95 = 5.0


@dataclass
class Family:
    name: str
    q: str
    params: dict = field(default_factory=dict)  # other search parameters (size, ...)

    def kwargs(self) -> dict:
        return {"q": self.q, **self.params}

    def url_args(self) -> dict:
        return {"q": self.q, **{("size" if k == "per_page" else k): v for k, v in self.params.items()}}


# --- the index ----------------------------------------------------------------------------------


def ensure_index(path: Path, articles: int | None, quick: bool) -> Path:
    """Reuse an index with a current generation; otherwise build one with ``vnsearch reindex``."""
    if (path / "CURRENT").exists():
        return path
    vnsearch = Path(sys.executable).with_name("vnsearch")
    with tempfile.TemporaryDirectory() as tmp:
        if quick:
            source = ROOT / "examples" / "demo"
        elif articles:
            source = Path(tmp) / "slice.jsonl.gz"
            with gzip.open(CORPUS_FILE, "rt", encoding="utf-8") as src, gzip.open(source, "wt") as out:
                out.writelines(itertools.islice(src, articles))
        else:
            source = CORPUS_FILE
        if not source.exists():
            raise SystemExit(f"{source} is missing: the team's corpus goes in ../shared/corpus")
        print(f"building {path} from {source} ...", file=sys.stderr)
        started = time.monotonic()
        subprocess.run([str(vnsearch), "reindex", "--index", str(path), str(source)], check=True)
        print(f"built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return path


@dataclass
class Vocabulary:
    """What the crafted queries are made of, read from the index itself."""

    syllables: list[str]  # the most frequent single syllables, accented, most frequent first
    unknown: list[str]  # accented words the index has never seen (each costs a spelling scan)
    pairs: list[str]  # frequent two-syllable words ("khoa_học" → "khoa học")
    longest_title: str  # title of the article with the longest body (highlighting cost)


def vocabulary(ix: search.Index, rng: random.Random) -> Vocabulary:
    searcher = ix.searcher()
    reader = searcher.reader()
    top = [t.decode() if isinstance(t, bytes) else t for _, t in reader.most_frequent_terms("text", 3000)]
    syllables = [t for t in top if t.isalpha()][:400]
    pairs = [t.replace("_", " ") for t in top if t.count("_") == 1 and t.replace("_", "").isalpha()][:200]
    # Unknown words that start like the most frequent ones: the corrector scans the terms that
    # share a word's first letter, so common first letters cost most.
    unknown: list[str] = []
    for syllable in itertools.cycle([s for s in syllables if not s.isascii()] or syllables):
        word = syllable + rng.choice("qxzwfj") + rng.choice("ăâêôơư")
        if searcher.doc_frequency("text", exact_key(word)) == 0 and word not in unknown:
            unknown.append(word)
        if len(unknown) >= MAX_WORDS or len(unknown) > 10 * MAX_WORDS:
            break
    longest, longest_title = -1, ""
    for doc in reader.all_stored_fields():
        size = len(doc.get("body") or "")
        if size > longest and doc.get("title"):
            longest, longest_title = size, doc["title"]
    return Vocabulary(syllables, unknown, pairs or syllables, longest_title)


def fill(parts: Callable[[int], str], limit: int = MAX_QUERY_CHARS - 1) -> str:
    """Join ``parts(0), parts(1), ...`` with spaces up to ``limit`` characters."""
    out = ""
    for i in itertools.count():
        nxt = f"{out} {parts(i)}" if out else parts(i)
        if len(nxt) > limit or i > 10_000:
            return out
        out = nxt


def families(v: Vocabulary) -> list[Family]:
    """The crafted queries, one per family; each within the app's own limits."""
    s, pairs = v.syllables, v.pairs
    at = lambda seq: lambda i: seq[i % len(seq)]  # noqa: E731
    out = [
        Family("32 unknown accented words (spelling corrector)", " ".join(v.unknown[:MAX_WORDS])),
        Family('"va co" × 62 (repeated quoted phrase)', " ".join(['"va co"'] * 62)),
        Family("499 characters of distinct syllables (n-gram candidates)", fill(at(s))),
        Family("long accentless query of common syllables", fill(at([fold(x) for x in s[::-1]]))),
        Family("many exclusions", "khoa học " + fill(lambda i: "-" + s[i % len(s)], 489)),
        Family("many title: clauses", fill(lambda i: "title:" + s[i % len(s)])),
        Family("OR chain", fill(lambda i: s[i // 2 % len(s)] if i % 2 == 0 else "OR")),
        # Our own families.
        Family("distinct quoted pairs (phrase checks)", fill(lambda i: f'"{pairs[i % len(pairs)]}"')),
        Family("one quoted phrase of common syllables", '"' + fill(at(s), MAX_QUERY_CHARS - 3) + '"'),
        Family("excluded quoted phrases", "khoa học " + fill(lambda i: '-"va co"', 489)),
        Family("repeated common word", fill(lambda i: s[0])),
        Family("common pairs, accentless, repeated", fill(lambda i: fold(pairs[i % 4]))),
        Family("32 unknown words without diacritics", " ".join(fold(w) for w in v.unknown[:MAX_WORDS])),
        Family(
            "everything mixed",
            fill(
                lambda i: [
                    f'"{pairs[i % len(pairs)]}"',
                    "-" + s[(i * 7) % len(s)],
                    "title:" + s[(i * 3) % len(s)],
                    v.unknown[i % len(v.unknown)],
                    "OR",
                ][i % 5]
            ),
        ),
        Family(
            "title of the longest article, 100 per page", v.longest_title[:MAX_QUERY_CHARS], {"per_page": 100}
        ),
        Family("most common syllable, 100 per page, deepest page", s[0], {"per_page": 100, "page": 100}),
    ]
    for fam in out:
        assert len(fam.q) <= MAX_QUERY_CHARS, (fam.name, len(fam.q))
    return out


# --- part 1: each family through the search API ------------------------------------------------


def timed_ms(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def time_family(ix: search.Index, fam: Family, reps: int) -> tuple[float, str]:
    """Median of ``reps`` runs in ms, and "ok" or the QueryError that refused it."""
    times, outcome = [], "ok"
    for _ in range(reps):
        started = time.perf_counter()
        try:
            ix.search(**fam.kwargs())
        except search.QueryError as exc:
            outcome = f"refused: {exc}"[:80]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), outcome


def ordinary_times(ix: search.Index, mix: list[querymix.MixQuery]) -> list[float]:
    """ms per query of the mix (a title fragment with no word, refused by the core, counts too)."""

    def run(m: querymix.MixQuery) -> None:
        with contextlib.suppress(search.QueryError):
            ix.search(**m.params())

    for m in mix[:20]:  # warm the searcher and the page cache
        run(m)
    return [timed_ms(lambda m=m: run(m)) for m in mix]


# --- part 2: real gunicorn under the slowest families ------------------------------------------


def start_server(index: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VNSEARCH_INDEX": str(index),
        "VNSEARCH_BIND": f"127.0.0.1:{port}",
        "VNSEARCH_CACHE_SIZE": "0",
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "web:create_app()"]
    with log.open("wb") as out:
        server = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    if answers_healthz(port):
        return server
    stop_server(server)
    raise SystemExit(f"the server did not answer /healthz within 60 s:\n{log.read_text()[-2000:]}")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def get(url: str) -> tuple[int, float]:
    """Status (-1 when the connection failed or timed out) and seconds."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = -1
    return status, time.monotonic() - started


def probe(base: str, urls: list[str], seconds: float) -> list[tuple[int, float]]:
    """Ordinary queries one after another, for at most ``seconds`` (and at most one pass)."""
    done: list[tuple[int, float]] = []
    deadline = time.monotonic() + seconds
    for url in urls:
        if time.monotonic() > deadline:
            break
        done.append(get(base + url))
    return done


def attack(base: str, urls: list[str], stop: threading.Event, results: list, lock: threading.Lock) -> None:
    for n in itertools.count():
        if stop.is_set():
            return
        with lock:
            if len(results) >= MAX_ATTACK_REQUESTS:
                return
        results.append(get(base + urls[n % len(urls)]))


def load_test(index: Path, slow: list[Family], mix: list[querymix.MixQuery], seconds: float) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ordinary = ["/api/search?" + urllib.parse.urlencode(m.params()) for m in mix]
    crafted = ["/api/search?" + urllib.parse.urlencode(f.url_args()) for f in slow]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(index, port, Path(tmp) / "gunicorn.log")
        try:
            probe(base, ordinary[:20], seconds)  # warm both workers
            idle = probe(base, ordinary, seconds)
            stop, lock, attacks = threading.Event(), threading.Lock(), []
            clients = [
                threading.Thread(
                    target=attack, args=(base, crafted[i % len(crafted) :] + crafted, stop, attacks, lock)
                )
                for i in range(CLIENTS)
            ]
            for client in clients:
                client.start()
            time.sleep(min(2.0, seconds / 4))  # the attack is under way before the probe starts
            loaded = probe(base, ordinary[: len(idle)], seconds)
            stop.set()
            for client in clients:
                client.join(REQUEST_TIMEOUT + 5)
        finally:
            stop_server(server)
        workers_log = (Path(tmp) / "gunicorn.log").read_text(errors="replace")
    if "Traceback" in workers_log:  # a server error: show it, the table only counts it
        print(workers_log[workers_log.index("Traceback") - 300 :][:6000], file=sys.stderr)
    return {
        "idle": idle,
        "loaded": loaded,
        "attacks": attacks,
        "worker_timeouts": workers_log.count("WORKER TIMEOUT"),
    }


def p(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --- report ---------------------------------------------------------------------------------------


def render(
    args, n_docs: int, rows: list[tuple[Family, float, str]], ordinary: list[float], load: dict
) -> str:
    median = statistics.median(ordinary)
    flags = ["--quick"] if args.quick else [f"--index {args.index}", f"--seconds {args.seconds:g}"]
    flags += [f"--articles {args.articles}"] if args.articles else []
    command = " ".join(["python benchmarks/worst_queries.py", *flags])
    lines = [
        f"# Worst queries: crafted queries against {n_docs:,} articles, beside an ordinary mix",
        "",
        f"Command: `{command}` ({os.cpu_count()} cores shared with other work; an index missing at "
        "--index is built first with `vnsearch reindex` from VietNews test)",
        "",
        f"Part 1: the search API in one process, result cache off; each crafted query's median of "
        f"{args.reps} runs. Ordinary mix (`querymix.py`, {len(ordinary)} queries): median "
        f"{median:.1f} ms, p95 {p(ordinary, 95):.1f} ms.",
        "",
        "| query family | example | time ms | ratio to the ordinary median |",
        "|---|---|---|---|",
    ]
    for fam, ms, outcome in sorted(rows, key=lambda r: -r[1]):
        example = fam.q if len(fam.q) <= 70 else f"{fam.q[:67]}… ({len(fam.q)} chars)"
        extra = "".join(f" {k}={v}" for k, v in fam.params.items())
        note = "" if outcome == "ok" else f" ({outcome})"
        example = example.replace("|", "\\|")
        lines.append(f"| {fam.name} | `{example}`{extra}{note} | {ms:.1f} | {ms / median:.1f}× |")
    slowest = max(ms for _, ms, _ in rows)
    lines += [
        "",
        f"Target: slowest ≤ {TARGET_SLOWEST:.0f}× the ordinary median: "
        f"{_met(slowest <= TARGET_SLOWEST * median)} ({slowest / median:.1f}×).",
        "",
    ]
    idle = [s for status, s in load["idle"] if status == 200]
    loaded = [s for status, s in load["loaded"] if status == 200]
    attacks = load["attacks"]
    statuses: dict[int, int] = {}
    for status, _ in attacks:
        statuses[status] = statuses.get(status, 0) + 1
    ratio = p(loaded, 95) / p(idle, 95) if idle and loaded else float("nan")
    lines += [
        f"Part 2: real gunicorn (`web/gunicorn.conf.py`: its default workers and threads, result "
        f"cache off), {CLIENTS} clients sending the {len(load['slow'])} slowest families in a loop "
        f"({', '.join(f.name for f in load['slow'])}) while one client sends the ordinary mix, "
        f"one query at a time, for at most {args.seconds:.0f} s per phase.",
        "",
        "| ordinary queries | answered 200 | others | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|",
        _load_row("idle server", load["idle"]),
        _load_row(f"beside {CLIENTS} attacking clients", load["loaded"]),
        "",
        f"Attacking requests: {len(attacks)} ({', '.join(f'{n}× {s}' for s, n in sorted(statuses.items()))}; "
        f"-1: no answer within {REQUEST_TIMEOUT:.0f} s), median "
        f"{statistics.median([s for _, s in attacks]) * 1000 if attacks else float('nan'):.0f} ms. "
        f"Worker timeouts in the server log: {load['worker_timeouts']}.",
        "",
        f"Target: loaded p95 ≤ {TARGET_P95:.0f}× idle p95: {_met(ratio <= TARGET_P95)} ({ratio:.1f}×).",
        "",
    ]
    return "\n".join(lines)


def _load_row(label: str, done: list[tuple[int, float]]) -> str:
    ok = [s * 1000 for status, s in done if status == 200]
    if not ok:
        return f"| {label} | 0 | {len(done)} | – | – | – |"
    return (
        f"| {label} | {len(ok)} | {len(done) - len(ok)} | {p(ok, 50):.1f} | {p(ok, 95):.1f} | {max(ok):.1f} |"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/vnsearch-worst"))
    ap.add_argument("--articles", type=int, help="build from the first N articles of VietNews test")
    ap.add_argument("--reps", type=int, default=3, help="runs of each crafted query (median)")
    ap.add_argument("--seconds", type=float, default=60.0, help="at most this long per load phase")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.index, args.reps, args.seconds = Path(tmp) / "ix", 1, 3.0
        index = ensure_index(args.index, args.articles, args.quick)
        ix = search.Index(index, cache_size=0)  # every query computed, none answered from memory
        fams = families(vocabulary(ix, random.Random(12)))
        mix = querymix.build(n=20 if args.quick else 400)
        ordinary = ordinary_times(ix, mix)
        rows = [(fam, *time_family(ix, fam, args.reps)) for fam in fams]
        slow = [fam for fam, _, outcome in sorted(rows, key=lambda r: -r[1]) if outcome == "ok"][
            :SLOWEST_SENT
        ]
        load = load_test(index, slow, mix, args.seconds) | {"slow": slow}
        table = render(args, ix.doc_count(), rows, ordinary, load)
    print(table)
    save_table(table, None if args.quick else OUT)


if __name__ == "__main__":
    main()
