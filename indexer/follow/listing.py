"""What a feed or a sitemap lists: article pages (with their lastmod and hints), or child sitemaps.

The kind is read from the document, not from the URL: a ``<urlset>`` is a sitemap (a news sitemap
when its entries carry ``news:`` publication data), a ``<sitemapindex>`` lists sitemaps, anything
else goes to feedparser (RSS 0.9x/1.0/2.0, Atom). Sitemaps are read with lxml's ``iterparse``,
element by element and without entities or network access, so a 50 MB sitemap costs little memory
and a hostile one nothing more; ``.xml.gz`` bodies are unpacked up to the same byte limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import io
import time
import zlib
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree

FEED, SITEMAP, NEWS_SITEMAP, SITEMAP_INDEX = "feed", "sitemap", "news-sitemap", "sitemapindex"


class ListingError(ValueError):
    """A document that is neither a readable feed nor a sitemap."""


@dataclasses.dataclass(frozen=True)
class Link:
    """An article page a source lists; the hints fill what the page itself does not say."""

    url: str
    lastmod: str | None = None  # UTC, ISO 8601 ("2025-09-30T09:30:00Z"): compares as text
    title: str | None = None
    date: dt.datetime | None = None  # publication time as the source wrote it (its own clock)
    summary: str | None = None
    category: str | None = None


@dataclasses.dataclass(frozen=True)
class Listing:
    kind: str
    links: list[Link]
    children: list[Link]  # sitemaps listed by a sitemap index, with their lastmod
    warning: str | None = None  # a feed read despite an error feedparser reported
    truncated: bool = False  # more than ``max_urls`` entries: the rest were not read


def read_listing(url: str, body: bytes, max_bytes: int, max_urls: int, content_type: str = "") -> Listing:
    """The links of a feed or sitemap fetched from ``url`` (relative links resolved against it)."""
    body = _gunzipped(body, max_bytes)
    root = _root_name(body)
    if root in ("urlset", "sitemapindex"):
        return _sitemap(url, body, max_urls)
    return _feed(url, body, max_urls, content_type)


def _gunzipped(body: bytes, max_bytes: int) -> bytes:
    """A gzip file (a ``sitemap.xml.gz`` served as is) unpacked, never past ``max_bytes``."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    unpacker = zlib.decompressobj(wbits=31)
    try:
        data = unpacker.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise ListingError(f"broken gzip data ({exc})") from None
    if len(data) > max_bytes:
        raise ListingError(f"more than {max_bytes:,} bytes once unpacked")
    return data


def _root_name(body: bytes) -> str | None:
    """The local name of the document's first element, or None when it is not well-formed XML."""
    try:
        for _event, element in etree.iterparse(io.BytesIO(body), events=("start",), **_SAFE):
            return etree.QName(element).localname
    except etree.XMLSyntaxError:
        return None
    return None


_SAFE = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}


def _sitemap(url: str, body: bytes, max_urls: int) -> Listing:
    links: list[Link] = []
    children: list[Link] = []
    news = False
    truncated = False
    try:
        for _event, element in etree.iterparse(io.BytesIO(body), events=("end",), **_SAFE):
            name = etree.QName(element).localname if isinstance(element.tag, str) else ""
            if name not in ("url", "sitemap"):
                continue
            if len(links) + len(children) >= max_urls:
                truncated = True
                break
            fields = {
                etree.QName(child).localname: (child.text or "").strip()
                for child in element.iter()
                if isinstance(child.tag, str)  # not a comment or an unexpanded entity
            }
            _forget(element)
            loc = fields.get("loc")
            if not loc or not _http(urljoin(url, loc)):
                continue
            lastmod = _utc_text(fields.get("lastmod"))
            if name == "sitemap":
                children.append(Link(urljoin(url, loc), lastmod))
                continue
            published = _datetime(fields.get("publication_date"))
            news = news or published is not None
            links.append(
                Link(urljoin(url, loc), lastmod or _utc_text(fields.get("publication_date")),
                     title=fields.get("title") or None, date=published)
            )  # fmt: skip
    except etree.XMLSyntaxError as exc:
        raise ListingError(f"malformed sitemap XML ({exc})") from None
    kind = SITEMAP_INDEX if children and not links else NEWS_SITEMAP if news else SITEMAP
    return Listing(kind, links, children, truncated=truncated)


def _feed(url: str, body: bytes, max_urls: int, content_type: str) -> Listing:
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    entries = parsed.entries
    problem = parsed.get("bozo_exception") if parsed.bozo else None
    if problem is not None and not isinstance(problem, _BENIGN):
        raise ListingError(f"malformed feed ({problem})")
    if not parsed.version and not entries:
        raise ListingError("neither a feed nor a sitemap")
    links = []
    for entry in entries[:max_urls]:
        link = urljoin(url, entry.get("link") or "")
        if not _http(link):
            continue
        # dict.get: feedparser's own get() maps a missing "updated" to "published" with a warning
        updated = dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed")
        tags = entry.get("tags") or []
        links.append(
            Link(
                link,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", updated) if updated else None,
                title=entry.get("title") or None,
                date=_datetime(dict.get(entry, "published") or dict.get(entry, "updated")),
                summary=_plain(entry.get("summary")),
                category=(tags[0].get("term") or None) if tags else None,
            )
        )
    warning = f"read despite: {problem}" if problem is not None else None
    return Listing(FEED, links, [], warning=warning, truncated=len(entries) > max_urls)


# What feedparser reports about a well-formed feed (a charset the headers did not announce): the
# entries are sound. Anything else (XML that is not well-formed) makes its loose parser guess, and
# a guessed link is not worth fetching: the feed is skipped and logged.
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _forget(element: etree._Element) -> None:
    """Drop a read entry and the ones before it, so a long sitemap is never held whole."""
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _datetime(text: str | None) -> dt.datetime | None:
    """A feed's (RFC 822) or a sitemap's (W3C) date as the wall-clock time it was written in."""
    if not text:
        return None
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            value = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return None
    return value.replace(tzinfo=None)


def _utc_text(text: str | None) -> str | None:
    """A W3C date or time as UTC ISO text (a date alone is its midnight UTC), None if unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(html_text: str | None) -> str | None:
    """A feed summary without its markup (feeds often wrap the lead in <p> or add an <img>)."""
    if not html_text:
        return None
    if "<" not in html_text:
        return html_text.strip() or None
    try:
        text = etree.fromstring(f"<div>{html_text}</div>", etree.HTMLParser()).xpath("string()")
    except (etree.ParserError, ValueError):
        return None
    return " ".join(text.split()) or None
