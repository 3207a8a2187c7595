"""The real server (gunicorn, web/gunicorn.conf.py, 2 workers, 127.0.0.1) against slow and odd
clients: half-open connections, long URLs and a forged Host header (issue 12).

What is pinned down: 16 connections that send nothing or half a request line hold no worker, so
/healthz and a search still answer within 1 s, and they are closed once web.worker.HEAD_TIMEOUT
has passed; a 500-character query of accented letters (4.5 kB URL-encoded) reaches the app; a
longer URL is a JSON 414 with the app's security headers; redirects name no host.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from test_reliability_server import gunicorn_argv, server_env
from test_serve import fetch, free_port, running
from web_fixtures import build_index

from search import limits
from web.security import HEADERS
from web.worker import HEAD_TIMEOUT

HALF_OPEN = 16
ANSWER_WITHIN = 1.0  # seconds


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("slow-clients")
    index = build_index(tmp / "index")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(gunicorn_argv(), tmp / "gunicorn.log", server_env(index, port), base):
        for _ in range(8):  # both workers have opened the index and warmed pyvi
            assert fetch(f"{base}/api/search?q=khoa+hoc")[0] == 200
        yield base


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _, _ = fetch(url)
    return status, time.monotonic() - started


def half_open(base: str, n: int) -> list[socket.socket]:
    """n connections: half send nothing, half stop in the middle of their request line."""
    port = int(base.rsplit(":", 1)[1])
    socks = []
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2:
            sock.sendall(b"GET /api/search?q=kho")
        socks.append(sock)
    return socks


def test_half_open_connections_leave_health_and_search_answering_within_a_second(base):
    socks = half_open(base, HALF_OPEN)
    try:
        time.sleep(0.3)  # the server has accepted them all
        for _ in range(3):  # and again while they are still held, on either worker
            for path in ("/healthz", "/api/search?q=khoa+hoc", "/?q=bong+da"):
                status, took = timed_get(base + path)
                assert status == 200 and took < ANSWER_WITHIN, (path, took)
            time.sleep(0.5)
    finally:
        for sock in socks:
            sock.close()


def test_a_connection_without_a_whole_request_head_is_closed_after_the_head_timeout(base):
    socks = half_open(base, 4)
    try:
        time.sleep(HEAD_TIMEOUT + 2.5)  # gthread checks its pending connections about once a second
        for sock in socks:
            sock.settimeout(2)
            assert sock.recv(100) == b""  # closed by the server, nothing sent
    finally:
        for sock in socks:
            sock.close()


def test_the_longest_accented_query_the_app_accepts_passes_gunicorn(base):
    q = "ữ" * limits.MAX_QUERY_CHARS  # 3 bytes in UTF-8: 9 characters once URL-encoded
    args = {"q": q, "from": "2023-01-01", "to": "2024-12-31", "category": "Khoa học", "sort": "newest"}
    url = f"{base}/api/search?" + urllib.parse.urlencode({**args, "page": 2, "size": 50})
    assert len(url) > 4600
    status, _, body = fetch(url)
    assert status == 200, body[:300]
    assert json.loads(body)["query"] == q


def test_an_over_long_url_is_a_json_414_with_the_security_headers(base):
    url = f"{base}/api/search?q=" + urllib.parse.quote("ữ" * 1000)
    status, headers, body = fetch(url)
    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "uri_too_long"
    for name, value in HEADERS.items():
        assert headers[name] == value


def test_a_query_over_the_limit_but_within_the_url_limit_gets_the_apps_400(base):
    status, headers, body = fetch(f"{base}/api/search?q=" + "a" * 5000)
    assert status == 400 and json.loads(body)["error"]["param"] == "q"
    assert headers["X-Frame-Options"] == "DENY"


def test_a_redirect_through_gunicorn_does_not_name_the_host_header(base):
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET //api//search?q=a HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 308")
    assert "\r\nLocation: /api/search?q=a\r\n" in head
