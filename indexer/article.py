"""The article model: validation of raw source records, text normalisation and stable ids.

Sources hand over loose mappings (from JSON, CSV, extracted HTML or page text); ``to_article``
turns one into an ``Article`` or raises ``InvalidRecord`` with a short reason, so that every
rejected record can be reported instead of being dropped or indexed half-broken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit, urlunsplit

from indexer.dates import DateError, parse_date
from search.limits import MAX_ID_CHARS

MAX_BODY_BYTES = 5 * 1024 * 1024
TEXT_FIELDS = ("title", "summary", "body", "category", "source", "url")
# The most characters each stored field may hold (the body is bounded in bytes, above). The longest
# in the team's corpus (201k articles): id 36, title 179, summary 763, category 23, source 24, url 251.
MAX_CHARS = {
    "id": MAX_ID_CHARS,
    "title": 1_000,
    "summary": 4_000,
    "category": 200,
    "source": 200,
    "url": 2_000,
}
# Plausible publication dates: none before 1900, none more than a year after the day of indexing.
OLDEST_YEAR = 1900
FUTURE_DAYS = 366


class InvalidRecord(ValueError):
    """A record that cannot become an article; ``reason`` is short and groupable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Article:
    """One news article as the search core indexes it."""

    id: str
    title: str
    summary: str
    body: str
    date: dt.date | dt.datetime | None
    category: str | None
    source: str | None
    url: str | None

    def to_dict(self) -> dict[str, object]:
        """The mapping ``search`` indexes."""
        return asdict(self)


def to_article(fields: Mapping[str, object]) -> Article:
    """Validate and normalise one raw record (unknown keys are ignored)."""
    text = {name: _text_field(fields, name) for name in TEXT_FIELDS}
    if not text["body"]:
        raise InvalidRecord("missing title and body" if not text["title"] else "missing body")
    size = len(text["body"].encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise InvalidRecord("body too large", f"{size:,} bytes > {MAX_BODY_BYTES:,}")
    for name, value in text.items():
        _check_length(name, value)
    article_id = _article_id(fields.get("id"), text)
    _check_length("id", article_id)
    if "/" in article_id:
        raise InvalidRecord("id contains '/'", f"{article_id[:80]!r}: ids name web addresses (/articles/ID)")
    return Article(
        id=article_id,
        title=text["title"],
        summary=text["summary"],
        body=text["body"],
        date=_date_field(fields.get("date")),
        category=text["category"] or None,
        source=text["source"] or None,
        url=text["url"] or None,
    )


def _text_field(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord(f"wrong type for {name}", f"expected text, got {type(value).__name__}")
    _check_unicode(name, value)
    return _normalize(value)


def _check_unicode(name: str, value: str) -> None:
    """Lone surrogates (a JSON "\\ud800" escape) and NUL are not text: one record's problem."""
    if "\x00" in value:
        raise InvalidRecord("invalid Unicode", f"{name}: NUL character at {value.index(chr(0)) + 1}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRecord(
            "invalid Unicode", f"{name}: lone surrogate U+{ord(value[exc.start]):04X} at {exc.start + 1}"
        ) from None


def _check_length(name: str, value: str) -> None:
    limit = MAX_CHARS.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidRecord("field too long", f"{name}: {len(value):,} characters, at most {limit:,}")


def _normalize(value: str) -> str:
    """NFC (one code point per accented letter, as queries are normalised) without edge blanks."""
    return unicodedata.normalize("NFC", value).strip()


def _date_field(value: object) -> dt.date | dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return _plausible(value, value.isoformat())
    if not isinstance(value, str):
        raise InvalidRecord("wrong type for date", f"expected text, got {type(value).__name__}")
    try:
        date = parse_date(value)
    except DateError as exc:
        raise InvalidRecord("unparsable date", repr(value)) from exc
    return _plausible(date, value)


def _plausible(date: dt.date, written: object) -> dt.date:
    """A news date from before 1900 or more than a year ahead is a typo or a placeholder."""
    day = date.date() if isinstance(date, dt.datetime) else date
    latest = dt.date.today() + dt.timedelta(days=FUTURE_DAYS)
    if day.year < OLDEST_YEAR or day > latest:
        raise InvalidRecord(
            "implausible date", f"{written!r}: not between {OLDEST_YEAR} and {latest:%Y-%m-%d}"
        )
    return date


def _article_id(value: object, text: Mapping[str, str]) -> str:
    """The given id, else one derived from the URL, else from the content: stable across runs."""
    if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
        raise InvalidRecord("wrong type for id", f"expected text, got {type(value).__name__}")
    if isinstance(value, str):
        _check_unicode("id", value)
    given = _normalize(str(value)) if value is not None else ""
    if given:
        return given
    if text["url"]:
        return "url-" + _digest(normalize_url(text["url"]))
    return "doc-" + _digest(text["title"] + "\n" + text["body"])


def normalize_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
