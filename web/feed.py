"""A search to follow: every search URL has an Atom twin, ``/feed.atom`` with the same parameters.

The feed holds the newest ``FEED_SIZE`` matching articles (one per story, as the page shows them),
whatever sort or page the search URL had: a feed reader wants what is new. Undated articles have
no place in a stream ordered by time and are left out. The ETag is the digest of the document, so
a feed reader's conditional GET is answered 304 until an article enters or leaves the feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

import search
from web.index import run_search
from web.params import SearchParams, parse_search_args

bp = Blueprint("feed", __name__)

FEED_SIZE = 20
ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
NEWS_TZ = dt.timezone(dt.timedelta(hours=7))  # an article's date is a day in Vietnam
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # "updated" of a feed with no entry yet

ET.register_namespace("", ATOM)


def feed_url(params: SearchParams) -> str:
    """The feed of a search: its words and filters, not its page, size or sort."""
    args = params.replace(sort="relevance", page=1, size=FEED_SIZE).to_args()
    args.pop("size", None)
    return url_for("feed.atom", **args)


@bp.get("/feed.atom")
def atom() -> Response:
    params = parse_search_args(request.args).replace(sort="newest", page=1, size=FEED_SIZE)
    results = run_search(params)
    body = document(params, results)
    response = Response(body, mimetype=MEDIA_TYPE)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"  # revalidate each time: 304 while unchanged
    return response.make_conditional(request)


def document(params: SearchParams, results: search.Results) -> bytes:
    """The Atom 1.0 document (RFC 4287) of a page of results sorted newest first."""
    entries = [hit for hit in results.hits if hit.date]
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", request.url_root.rstrip("/") + feed_url(params))
    _text(feed, "title", f"vnsearch: {params.q}" if params.q else "vnsearch: bài mới")
    _text(feed, "updated", _stamp(entries[0].date) if entries else NEVER.isoformat())
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "vnsearch")
    _link(feed, "self", request.url_root.rstrip("/") + feed_url(params), MEDIA_TYPE.split(";")[0])
    page = params.replace(sort="newest").to_args()
    _link(feed, "alternate", url_for("pages.search_page", _external=True, **page), "text/html")
    for hit in entries:
        feed.append(_entry(hit))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(hit: search.Hit) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    here = url_for("api.article", article_id=hit.id, _external=True)
    _text(entry, "id", here)
    _text(entry, "title", hit.title or hit.id)
    _link(entry, "alternate", hit.url if _is_web(hit.url) else here, "text/html")
    _text(entry, "updated", _stamp(hit.date))
    _text(entry, "published", _stamp(hit.date))
    if hit.source:
        _text(ET.SubElement(entry, f"{{{ATOM}}}author"), "name", hit.source)
    if hit.category:
        ET.SubElement(entry, f"{{{ATOM}}}category", term=hit.category)
    _text(entry, "summary", hit.snippet_html).set("type", "html")  # escaped text with <mark>
    return entry


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    node.text = value
    return node


def _link(parent: ET.Element, rel: str, href: str, media_type: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", rel=rel, href=href, type=media_type)


def _stamp(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time.min, NEWS_TZ).isoformat()


def _is_web(url: str | None) -> bool:
    return bool(url) and url.lower().startswith(("http://", "https://"))
