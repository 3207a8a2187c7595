"""The real server: gunicorn with web/gunicorn.conf.py and ``vnsearch serve``, on a loopback
port, over a real index in tmp, queried over HTTP with urllib."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from web_fixtures import articles, build_index

import search
from web.cli import GUNICORN_CONFIG, serve

VNSEARCH = Path(sys.executable).with_name("vnsearch")
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def get_json(url: str) -> dict:
    status, _, body = fetch(url)
    assert status == 200, body
    return json.loads(body)


@contextmanager
def running(argv: list[str], log: Path, env: dict[str, str], base: str) -> Iterator[subprocess.Popen]:
    """Start a server, wait for /healthz, and stop it with SIGTERM at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if fetch(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"server did not start:\n{log.read_text()}"
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_gunicorn_serves_the_app_and_follows_new_generations(tmp_path):
    index = build_index(tmp_path / "index")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"VNSEARCH_INDEX": str(index), "VNSEARCH_BIND": f"127.0.0.1:{port}", "VNSEARCH_WORKERS": "2"}
    argv = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "web:create_app()"]
    log = tmp_path / "gunicorn.log"
    with running(argv, log, env, base) as process:
        data = get_json(f"{base}/api/search?q=khoa+hoc&from=2023-01-01&to=2023-12-31")
        assert data["total"] >= 1 and "<mark" in data["hits"][0]["snippet_html"]
        assert all(hit["date"].startswith("2023") for hit in data["hits"])

        status, headers, body = fetch(f"{base}/?q=khoa+hoc")
        assert status == 200 and b"<mark" in body and "Tìm thấy".encode() in body
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in headers["Content-Security-Policy"]

        status, _, body = fetch(f"{base}/api/search?page=0")
        assert status == 400 and json.loads(body)["error"]["code"] == "bad_parameter"
        status, headers, body = fetch(f"{base}/api/search?q=a", method="POST")
        assert status == 405 and json.loads(body)["error"]["code"] == "method_not_allowed"
        assert fetch(f"{base}/api/articles/khong-co")[0] == 404

        generation = get_json(f"{base}/healthz")["generation"]
        extra = {
            "id": "moi-2",
            "title": "Khánh thành cầu treo Sa Pa",
            "body": "Cây cầu treo bắc qua thung lũng Mường Hoa.",
            "date": dt.date(2024, 12, 2),
            "category": "Thời sự",
            "source": "Báo Mẫu",
            "url": "https://tin.example.vn/moi-2",
        }
        with search.Index(str(index)).new_generation() as gen:
            gen.add_many([*articles(), extra])
        for _ in range(6):  # requests land on both workers: each must have moved on
            health = get_json(f"{base}/healthz")
            assert health["generation"] != generation and health["articles"] == len(articles()) + 1
            assert get_json(f"{base}/api/articles/moi-2")["title"] == extra["title"]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    text = log.read_text()
    assert "Booting worker" in text and text.count("Booting worker") == 2
    assert '"GET /api/search?q=khoa+hoc' in text  # access log


def test_vnsearch_serve(tmp_path):
    index = build_index(tmp_path / "index")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [str(VNSEARCH), "serve", "--index", str(index), "--port", str(port), "--workers", "1"]
    env = {"VNSEARCH_INDEX": "/nonexistent", "VNSEARCH_BIND": "127.0.0.1:1"}  # the options win
    with running(argv, tmp_path / "serve.log", env, base):
        assert get_json(f"{base}/healthz")["articles"] == len(articles())
        assert get_json(f"{base}/api/search?q=bong+da")["total"] >= 1
    assert (tmp_path / "serve.log").read_text().count("Booting worker") == 1


def test_serve_help_and_bad_options():
    runner = CliRunner()
    result = runner.invoke(serve, ["--help"])
    assert result.exit_code == 0
    for option in ("--index", "--host", "--port", "--workers"):
        assert option in result.output
    assert runner.invoke(serve, ["--index", "x", "--port", "0"]).exit_code == 2
    assert runner.invoke(serve, ["--index", "x", "--workers", "0"]).exit_code == 2
    assert runner.invoke(serve, ["--host"]).exit_code == 2


def test_serve_is_a_vnsearch_command():
    result = subprocess.run([str(VNSEARCH), "serve", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "--workers" in result.stdout


@pytest.mark.parametrize(("env", "workers"), [({}, os.cpu_count()), ({"VNSEARCH_WORKERS": "3"}, 3)])
def test_gunicorn_config(monkeypatch, env, workers):
    monkeypatch.delenv("VNSEARCH_WORKERS", raising=False)
    monkeypatch.delenv("VNSEARCH_BIND", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings: dict[str, object] = {}
    exec(GUNICORN_CONFIG.read_text(), settings)  # how gunicorn reads it
    assert settings["workers"] == workers
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert settings["preload_app"] is True
    assert settings["accesslog"] == "-"
    assert settings["wsgi_app"] == "web:create_app()"
    assert 0 < settings["graceful_timeout"] <= settings["timeout"]


def test_serve_refuses_a_missing_index_with_one_line_and_status_2(tmp_path):
    result = subprocess.run(
        [str(VNSEARCH), "serve", "--index", str(tmp_path / "no-such-dir"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no index in" in lines[0] and "vnsearch reindex" in lines[0]
    assert not (tmp_path / "no-such-dir").exists()


def test_serve_refuses_a_busy_port_with_one_line_and_status_2(tmp_path):
    index = tmp_path / "ix"
    build_index(index)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(VNSEARCH), "serve", "--index", str(index), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port} is not available" in lines[0], result.stderr
    assert "serving" not in result.stderr
