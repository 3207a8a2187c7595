"""The gunicorn worker vnsearch runs: gunicorn's threaded worker, hardened against slow clients.

Why not gunicorn's own workers as they are:

- A sync worker reads a request with a blocking read and no timeout, so two connections that
  send nothing stop a two-worker service until the master kills the workers (issue 12).
- gunicorn's gthread worker hands each new connection to a thread at once; the thread waits up
  to 5 s for the first byte, and a client that sends part of a request line holds its thread for
  as long as it keeps the connection open.

Here a connection costs no thread until its whole request head (request line and headers) has
arrived: the main loop reads heads without blocking and closes a connection whose head is not
complete ``HEAD_TIMEOUT`` seconds after it connected (or went idle after a response). Threads
then read with a timeout (``IO_TIMEOUT``), so a client that stops reading a response or sending
a body frees its thread too.

gthread's own heartbeat comes from the main loop, so a thread stuck in a request would never
let the master's ``timeout`` fire; the heartbeat here is held back to when the oldest request
in progress started, so a worker with a request running past ``timeout`` is replaced, as a
sync worker would be.

Production runs behind nginx, which buffers requests and slow clients; this is the second line.
Errors gunicorn answers itself (a request line over ``limit_request_line``: 414; malformed
requests: 400) are sent as the API's JSON error with the app's security headers.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import socket
import threading
import time
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.http import errors as parse_errors
from gunicorn.workers.gthread import TConn, ThreadWorker

from web.security import HEADERS

HEAD_TIMEOUT = 5.0  # seconds a client has to send a whole request head
IO_TIMEOUT = 10.0  # seconds a thread waits on one read or write of a client
HEAD_BYTES = 64 * 1024  # a head this long is handed to gunicorn's parser, which enforces its limits
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class _TimedSocket(socket.socket):
    """A client socket whose blocking mode blocks for at most ``IO_TIMEOUT`` per call, and not
    past ``deadline`` (set per request: a client reading a response a byte at a time is cut off
    before it holds the worker's heartbeat back long enough to get the worker replaced).

    gunicorn switches a connection to blocking mode (``setblocking(True)``, which clears any
    timeout) before a thread reads it; here that means "block, but not forever".
    """

    deadline: float | None = None

    @classmethod
    def adopt(cls, sock: socket.socket) -> _TimedSocket:
        return cls(sock.family, sock.type, sock.proto, fileno=sock.detach())

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(IO_TIMEOUT)
        else:
            super().setblocking(False)

    def _bound(self) -> None:
        if self.deadline is not None and self.gettimeout():  # blocking with a timeout
            self.settimeout(min(IO_TIMEOUT, max(0.001, self.deadline - time.monotonic())))

    def recv(self, *args: Any) -> bytes:
        self._bound()
        return super().recv(*args)

    def recv_into(self, *args: Any) -> int:
        self._bound()
        return super().recv_into(*args)

    def send(self, *args: Any) -> int:
        self._bound()
        return super().send(*args)

    def sendall(self, *args: Any) -> None:
        self._bound()
        return super().sendall(*args)


class BoundedThreadWorker(ThreadWorker):
    """gthread, where no thread waits on a client that has not sent its request (module doc)."""

    def init_process(self) -> None:
        self._started: dict[int, float] = {}  # thread id → when its request started
        self._started_lock = threading.Lock()
        super().init_process()

    # A connection's head is read by the main loop; a thread gets it complete.

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, _TimedSocket.adopt(client), address, listener.getsockname())
        self._await_head(conn)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection has bytes of its next request: wait for the whole head."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _await_head(self, conn: TConn) -> None:
        conn.head = bytearray()
        conn.sock.setblocking(False)
        # Every pending connection gets the same delay, so pending_conns stays in deadline order
        # for gthread's murder_pending, which closes the expired ones.
        conn.timeout = time.monotonic() + HEAD_TIMEOUT
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: TConn, client: socket.socket) -> None:
        try:
            chunk = conn.sock.recv(8192)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if chunk:
            conn.head += chunk
            if len(conn.head) < HEAD_BYTES and not any(end in conn.head for end in _HEAD_ENDS):
                return
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        if not chunk:  # closed (or reset) before its head was complete
            self.nr_conns -= 1
            conn.close()
            return
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(conn.head))
        conn.head = bytearray()
        conn.data_ready = True  # gthread's handle() must not wait for data again
        self.enqueue_req(conn)

    # Heartbeat: held back to the start of the oldest request in progress.

    def handle(self, conn: TConn) -> Any:
        me, now = threading.get_ident(), time.monotonic()
        with self._started_lock:
            self._started[me] = now
        if isinstance(conn.sock, _TimedSocket):  # reading and writing end before `timeout` does
            conn.sock.deadline = now + max(IO_TIMEOUT, self.cfg.timeout - IO_TIMEOUT)
        try:
            return super().handle(conn)
        finally:
            with self._started_lock:
                self._started.pop(me, None)

    def notify(self) -> None:
        with self._started_lock:
            oldest = min(self._started.values(), default=None)
        if oldest is None:
            super().notify()
        else:
            # The master replaces a worker whose heartbeat is older than `timeout`.
            os.utime(self.tmp.fileno(), (oldest, oldest))

    # Errors gunicorn answers itself, in the app's words and with its headers.

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        status = next((s for kinds, s in _OWN_ANSWERS if isinstance(exc, kinds)), None)
        if status is None or isinstance(exc, _APP_FAULTS):
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        code, reason, message = _ANSWERS[status]
        body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
        head = [f"HTTP/1.1 {status} {reason}", "Connection: close", "Content-Type: application/json"]
        head += [f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in HEADERS.items())]
        try:
            client.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")


# Requests gunicorn refuses before the app sees them, answered as web.errors would.
_OWN_ANSWERS = (
    (parse_errors.LimitRequestLine, 414),
    (parse_errors.LimitRequestHeaders, 431),
    (
        (
            parse_errors.InvalidRequestLine,
            parse_errors.InvalidRequestMethod,
            parse_errors.InvalidHTTPVersion,
            parse_errors.InvalidHeader,
            parse_errors.InvalidHeaderName,
            parse_errors.ObsoleteFolding,
        ),
        400,
    ),
)
_APP_FAULTS = (parse_errors.InvalidResponseHeader, parse_errors.InvalidResponseHeaderName)
_ANSWERS = {
    400: ("bad_request", "Bad Request", "Yêu cầu không hợp lệ."),
    414: ("uri_too_long", "URI Too Long", "Địa chỉ quá dài, hãy rút ngắn từ khóa. The URL is too long."),
    431: ("headers_too_large", "Request Header Fields Too Large", "Phần đầu yêu cầu quá lớn."),
}
