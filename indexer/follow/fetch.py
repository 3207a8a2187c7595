"""Polite, bounded HTTP: robots.txt, one request at a time per host, conditional GET, retries.

urllib3 is the client: it already comes with trafilatura, and it exposes exactly the controls
this needs one by one (connect and read timeouts, a ``Retry`` with backoff for connection errors
and 429/5xx, redirects off so that each hop is checked here, streaming so that no response is
read past its limit). requests adds only conveniences over it, httpx a second stack.

Every way a fetch can fail ends as a ``FetchError`` whose ``kind`` is short (it is counted) and
whose message names the URL: the caller logs it and skips the URL.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import urllib3

from indexer.follow.settings import Settings

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
READ_CHUNK = 16 * 1024  # bytes asked of the socket at a time (decompressed, up to ~16 MB at most)
TRANSIENT_STATUS = (429, 500, 502, 503, 504)


class FetchError(Exception):
    """A URL that could not be fetched; ``kind`` groups the reasons (counted), ``transient`` says
    whether trying again later may help."""

    def __init__(self, url: str, kind: str, detail: str, transient: bool = False) -> None:
        super().__init__(f"{url}: {kind} ({detail})" if detail else f"{url}: {kind}")
        self.url = url
        self.kind = kind
        self.detail = detail
        self.transient = transient


class Stopped(Exception):
    """The process was asked to stop while waiting for its turn at a host."""


@dataclasses.dataclass(frozen=True)
class Response:
    """A complete answer: 200 with its body, or 304 (``not_modified``) without one."""

    url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclasses.dataclass
class _Robots:
    parser: urllib.robotparser.RobotFileParser | None  # None: allow everything
    disallow_all: bool
    expires: float


class Fetcher:
    """Fetches URLs for one follow process; ``wait(seconds)`` sleeps and returns True when asked to
    stop (a ``threading.Event.wait``), so no wait for a host holds up a clean stop."""

    def __init__(self, settings: Settings, wait: Callable[[float], bool] | None = None) -> None:
        self.settings = settings
        self._wait = wait or threading.Event().wait
        self._next_at: dict[str, float] = {}  # host -> earliest monotonic time of its next request
        self._robots: dict[str, _Robots] = {}
        self._crawl_delay: dict[str, float] = {}  # host -> its robots.txt Crawl-delay
        retry = urllib3.Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            status_forcelist=TRANSIENT_STATUS,
            allowed_methods=frozenset({"GET"}),
            backoff_factor=settings.backoff,
            backoff_max=8 * settings.backoff,
            respect_retry_after_header=False,  # a long Retry-After pauses the host instead (below)
            raise_on_status=False,
            redirect=False,
        )
        self._http = urllib3.PoolManager(
            num_pools=32,
            maxsize=1,
            retries=retry,
            timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
        )
        # Given with each request: urllib3 replaces a pool's default headers with a request's own.
        self._headers = {"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"}

    def close(self) -> None:
        self._http.clear()

    def get(
        self, url: str, limit: int, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        """GET ``url`` if robots.txt allows it, following at most ``max_redirects`` redirects (each
        hop checked against robots.txt too); sends If-None-Match/If-Modified-Since when given.
        Anything but a 200 or a 304 is a ``FetchError``."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        raw = self._follow(url, headers, limit, check_robots=True)
        if raw.status == 304:
            return Response(raw.url, 304, b"", "", None, None)
        if raw.status != 200:
            raise FetchError(url, f"HTTP {raw.status}", raw.reason, transient=raw.status in TRANSIENT_STATUS)
        return Response(
            raw.url, 200, raw.body, raw.headers.get("Content-Type", ""),
            raw.headers.get("ETag"), raw.headers.get("Last-Modified"),
        )  # fmt: skip

    def _follow(self, url: str, headers: dict[str, str], limit: int, check_robots: bool) -> _Raw:
        """Request ``url`` and the redirects it leads to; a loop or too many hops is an error."""
        current, seen = url, {url}
        for _ in range(self.settings.max_redirects + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                raise FetchError(url, "not an http(s) URL", current)
            if check_robots and not self.allowed(current):
                raise FetchError(url, "disallowed by robots.txt", current if current != url else "")
            raw = self._request(current, headers, limit)
            if raw.status not in REDIRECTS:
                return raw
            location = raw.headers.get("Location")
            if not location:
                raise FetchError(url, "redirect without a location", f"status {raw.status}")
            target = urljoin(current, location)
            if target in seen:
                raise FetchError(url, "redirect loop", f"{current} -> {target}")
            seen.add(target)
            current = target
        raise FetchError(url, "too many redirects", f"more than {self.settings.max_redirects}")

    def allowed(self, url: str) -> bool:
        """What the host's robots.txt says of this URL for our user agent (RFC 9309)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = self._robots.get(origin)
        if robots is None or robots.expires < time.monotonic():
            robots = self._load_robots(origin)
            self._robots[origin] = robots
        if robots.disallow_all:
            return False
        return robots.parser is None or robots.parser.can_fetch(self.settings.user_agent, url)

    def _load_robots(self, origin: str) -> _Robots:
        """A 4xx (none there) allows everything; a 5xx or no answer disallows everything for now, as
        RFC 9309 says, and is asked again after a tenth of the usual time."""
        ttl = self.settings.robots_ttl
        url = origin + "/robots.txt"
        try:
            raw = self._follow(url, {}, ROBOTS_MAX_BYTES, check_robots=False)
        except FetchError:
            return _Robots(None, True, time.monotonic() + ttl / 10)
        if 400 <= raw.status < 500:
            return _Robots(None, False, time.monotonic() + ttl)
        if raw.status != 200:
            return _Robots(None, True, time.monotonic() + ttl / 10)
        parser = urllib.robotparser.RobotFileParser(url)
        parser.parse(raw.body.decode("utf-8", "replace").splitlines())
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay:
            self._crawl_delay[urlsplit(origin).netloc] = min(float(delay), self.settings.max_crawl_delay)
        return _Robots(parser, False, time.monotonic() + ttl)

    def _request(self, url: str, headers: dict[str, str], limit: int) -> _Raw:
        """One request (urllib3 retrying connection errors and 429/5xx) once this host's turn comes;
        the body is read only for a 200."""
        host = urlsplit(url).netloc
        self._take_turn(host)
        try:
            response = self._http.request(
                "GET", url, headers={**self._headers, **headers}, preload_content=False
            )
        except urllib3.exceptions.MaxRetryError as exc:
            raise FetchError(url, "cannot connect", _reason(exc.reason), transient=True) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(url, "cannot connect", _reason(exc), transient=True) from None
        finally:
            self._next_at[host] = time.monotonic() + self._interval(host)
        complete = False
        try:
            if response.status in (429, 503):
                self._pause_host(host, response.headers.get("Retry-After"))
            body = self._read(url, response, limit) if response.status == 200 else b""
            complete = response.status == 200
            return _Raw(url, response.status, response.headers, response.reason or "", body)
        finally:
            if not complete:  # an unread body (an error page, a cut-off read) must not reach the next request
                response.close()
            response.release_conn()

    def _read(self, url: str, response: urllib3.BaseHTTPResponse, limit: int) -> bytes:
        """The body, decompressed, up to ``limit`` bytes and within ``fetch_seconds`` in all."""
        deadline = time.monotonic() + self.settings.fetch_seconds
        chunks, size = [], 0
        try:
            while chunk := response.read1(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, "response too large", f"more than {limit:,} bytes")
                if time.monotonic() > deadline:
                    seconds = self.settings.fetch_seconds
                    raise FetchError(url, "too slow", f"not complete after {seconds:g} s", transient=True)
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(url, "read failed", _reason(exc), transient=True) from None
        return b"".join(chunks)

    def _interval(self, host: str) -> float:
        return max(self.settings.host_interval, self._crawl_delay.get(host, 0.0))

    def _pause_host(self, host: str, retry_after: str | None) -> None:
        """A host that says it is overloaded gets no request before its Retry-After (at most an hour)."""
        try:
            seconds = min(float(retry_after or 0), 3600.0)
        except ValueError:
            seconds = 0.0
        if seconds > 0:
            self._next_at[host] = max(self._next_at.get(host, 0.0), time.monotonic() + seconds)

    def _take_turn(self, host: str) -> None:
        delay = self._next_at.get(host, 0.0) - time.monotonic()
        if delay > 0 and self._wait(delay):
            raise Stopped

    def ready_in(self, url: str) -> float:
        """Seconds until this URL's host may be asked again (0 when now)."""
        return max(0.0, self._next_at.get(urlsplit(url).netloc, 0.0) - time.monotonic())


@dataclasses.dataclass(frozen=True)
class _Raw:
    url: str
    status: int
    headers: Mapping[str, str]
    reason: str
    body: bytes


def _reason(exc: object) -> str:
    text = str(exc)
    return text.split(": ", 1)[-1][:200] if text else type(exc).__name__
