"""What ``vnsearch follow`` does and how politely: every default and limit, declared once.

The command's options, the config file (TOML, a ``[follow]`` table with the same names) and the
help text all read ``Settings``; nothing else in the package spells a number.

Defaults meet the freshness target (an article that appears in a feed is searchable within 60 s):
a feed is polled every 20 s, its new page is fetched at once (one request a second per host), and a
batch is committed within 5 s of its first article, so the worst case is about 20 + 1 + 5 s plus
the fetch and the commit (``benchmarks/freshness.py`` measures it through a running server).
Plain sitemaps, which can list a whole archive, are polled every 15 minutes; news sitemaps, which
list the last two days, as often as feeds.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from indexer.sources.lines import MAX_PAGE_BYTES

USER_AGENT = "vnsearch-follow/0.1 (+https://github.com/vnsearch; news search indexer)"


@dataclasses.dataclass(frozen=True)
class Settings:
    """One follow process: what to poll, how often, and the bounds on every request."""

    sources: tuple[str, ...] = ()
    feed_interval: float = 20.0  # seconds between polls of a feed or a news sitemap
    sitemap_interval: float = 900.0  # seconds between polls of a plain sitemap or a sitemap index
    host_interval: float = 1.0  # at least this many seconds between two requests to one host
    batch_size: int = 100  # articles per commit at most
    batch_seconds: float = 5.0  # a batch is committed at the latest this long after its first article
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # for each read from the socket
    fetch_seconds: float = 30.0  # a whole response, headers to last byte
    retries: int = 2  # more tries of a connection error or a 429/5xx answer, with backoff
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    max_redirects: int = 5
    max_page_bytes: int = MAX_PAGE_BYTES  # an article page (the readers' own limit)
    max_feed_bytes: int = 50 * 2**20  # a feed or sitemap, decompressed (the sitemap protocol's limit)
    max_sitemap_urls: int = 50_000  # URLs read from one sitemap (the protocol's limit)
    max_failures: int = 5  # tries of a page that keeps failing before it waits for a new lastmod
    retry_after: float = 60.0  # first wait before a failed page is tried again; doubles each time
    robots_ttl: float = 3600.0  # seconds a robots.txt is trusted
    max_crawl_delay: float = 30.0  # a robots.txt Crawl-delay is honoured up to this
    user_agent: str = USER_AGENT
    workers: int = 1  # processes segmenting a batch (one is plenty at a request a second)

    def merged(self, **overrides: Any) -> Settings:
        """These settings with the given ones replaced (None means: keep)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


FIELDS = {field.name: field for field in dataclasses.fields(Settings)}


class ConfigError(ValueError):
    """A config file that cannot be read or names an unknown setting."""


def load(path: Path) -> Settings:
    """Settings from a TOML file's ``[follow]`` table (or its top level)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    table = data.get("follow", data)
    unknown = sorted(set(table) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    values: dict[str, Any] = {}
    for name, value in table.items():
        default = getattr(Settings, name, None)
        if name == "sources":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: sources must be a list of URLs")
            value = tuple(value)
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if name != "sources" and type(value) is not type(default):
            raise ConfigError(f"{path}: {name} must be a {type(default).__name__}, not {value!r}")
        values[name] = value
    return Settings(**values)
