"""Starting a benchmark's server on loopback: a free port, and waiting for it to answer."""

import socket
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers_healthz(port: int, seconds: float = 60) -> bool:
    """True once the server on ``port`` answers ``/healthz``; False if it has not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return True
        except OSError:
            time.sleep(0.3)
    return False
