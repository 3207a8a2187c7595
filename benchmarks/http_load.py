"""HTTP throughput: ``vnsearch serve`` (gunicorn, default workers) under wrk at 8, 32 and 64 clients.

The query mix of ``querymix.py`` goes to ``/api/search`` in a loop for 30 s per level, loopback only.
Targets: ≥ 150 requests/s at 32 clients with 0 errors; worker RSS ≤ 300 MB.

    apt-get install wrk                      # Debian's wrk drives the load
    python benchmarks/http_load.py [--index /tmp/vnsearch-scale]
    python benchmarks/http_load.py --quick   # demo index, 8 clients, 5 s (CI)
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import querymix  # noqa: E402
from serving import answers_healthz, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "http_load.md"


def start_server(index: Path, port: int, cache_size: int) -> subprocess.Popen:
    vnsearch = Path(sys.executable).with_name("vnsearch")
    server = subprocess.Popen(
        [str(vnsearch), "serve", "--index", str(index), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "VNSEARCH_CACHE_SIZE": str(cache_size)},
    )
    if answers_healthz(port):
        return server
    server.kill()
    raise SystemExit("the server did not answer /healthz within 60 s")


def lua_script(path: Path, mix: list[querymix.MixQuery]) -> None:
    urls = ["/api/search?" + urllib.parse.urlencode(m.params()) for m in mix]
    body = ",\n".join(f'  "{u}"' for u in urls)
    path.write_text(
        "local paths = {\n" + body + "\n}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n",
        encoding="utf-8",
    )


def run_wrk(port: int, clients: int, seconds: int, script: Path) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    return {
        "clients": clients,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "errors": errors,
    }


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def worker_rss_mb(server: subprocess.Popen) -> list[dict[str, float]]:
    """Resident memory of the gunicorn workers (the arbiter's children), in MB: all of it, the
    private part (heap: caches, arrays), and file pages mapped from the index and libraries, which
    the page cache shares between workers."""
    pids = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    arbiters = pids or [str(server.pid)]
    workers = [
        w
        for a in arbiters
        for w in subprocess.run(["pgrep", "-P", a], capture_output=True, text=True).stdout.split()
    ]
    return [_rss(pid) for pid in workers or arbiters]


def _rss(pid: str) -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and Pss (shared pages divided among the processes that map them)."""
    text = Path(f"/proc/{pid}/status").read_text() + Path(f"/proc/{pid}/smaps_rollup").read_text()
    kb = {
        k: int(re.search(rf"^{k}:\s+(\d+)", text, re.M).group(1))
        for k in ("VmRSS", "RssAnon", "RssFile", "Pss")
    }
    return {k: v / 1024 for k, v in kb.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/vnsearch-scale"))
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    levels, seconds = ((8,), 5) if args.quick else ((8, 32, 64), args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.index = Path(tmp) / "ix"
            vnsearch = Path(sys.executable).with_name("vnsearch")
            subprocess.run(
                [str(vnsearch), "reindex", "--index", str(args.index), str(ROOT / "examples/demo")],
                check=True,
                capture_output=True,
            )
        script = Path(tmp) / "mix.lua"
        mix = querymix.build(n=60 if args.quick else 400)
        lua_script(script, mix)
        results, rss = [], []
        for cache_size, clients in ((512, levels), (0, levels[-1:] if args.quick else (32,))):
            port = free_port()
            server = start_server(args.index, port, cache_size)
            try:
                results += [run_wrk(port, c, seconds, script) | {"cache": cache_size} for c in clients]
                rss += worker_rss_mb(server)
            finally:
                server.terminate()
                server.wait(30)
    table = render(results, rss, seconds, len(set(map(str, mix))), args)
    print(table)
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(table, encoding="utf-8")


def _row(r: dict) -> str:
    cache = f"{r['cache']} results/worker" if r["cache"] else "off: every request computed"
    return (
        f"| {cache} | {r['clients']} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} "
        f"| {r['p99']:.1f} | {r['errors']} |"
    )


def render(results: list[dict], rss: list[float], seconds: int, n_queries: int, args) -> str:
    lines = [
        f"# HTTP load: `vnsearch serve` ({len(rss) // 2} workers, {os.cpu_count()} cores), "
        f"wrk, {seconds} s per level",
        "",
        f"Command: `python benchmarks/http_load.py{' --quick' if args.quick else ''}` (index: {args.index})",
        "",
        f"The mix has {n_queries} distinct requests, cycled; with the result cache on, repeats are answered",
        "from each worker's memory once computed. The uncached row shows the cost of computing every one.",
        "",
        "| result cache | clients | requests | requests/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
        *map(_row, results),
        "",
        "Worker memory after the run, per worker: RSS (private heap + mapped files such as the index; "
        "PSS: shared pages divided among the processes mapping them): "
        + ", ".join(
            f"{m['VmRSS']:.0f} MB ({m['RssAnon']:.0f} + {m['RssFile']:.0f}; PSS {m['Pss']:.0f})" for m in rss
        )
        + f"; target RSS ≤ 300 MB: {'met' if max(m['VmRSS'] for m in rss) <= 300 else 'NOT met'}.",
    ]
    at32 = [r for r in results if r["clients"] == 32 and r["cache"]]
    if at32:
        ok = at32[0]["rps"] >= 150 and at32[0]["errors"] == 0
        lines.append(
            f"Target ≥ 150 requests/s at 32 clients with 0 errors: {'met' if ok else 'NOT met'} "
            f"({at32[0]['rps']:.0f}/s, {at32[0]['errors']} errors)."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
