"""A fetched page as an article, read by the same readers as files given to ``vnsearch add``.

HTML goes to ``indexer.sources.html_page`` (trafilatura), plain text to ``portal_text`` (scraped
portal pages). What the page does not say (often the date, sometimes the title or lead) is taken
from what its feed or news sitemap said of it. The article's URL is the page's canonical one, else
the one it was fetched from, so its id (derived from the URL) stays the same when it is fetched
again: an edited article replaces its earlier version.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from indexer.article import InvalidRecord, to_article
from indexer.follow.fetch import Response
from indexer.records import Rejection
from indexer.sources import html_page, portal_text

READERS = {
    "text/html": html_page.read,
    "application/xhtml+xml": html_page.read,
    "text/plain": portal_text.read,
}
HINTED = ("title", "date", "summary", "category")


def article_from(response: Response, hints: Mapping[str, object]) -> dict[str, object] | Rejection:
    """The article of a fetched page, ready for the index (with its ``origin``), or a rejection."""
    url = response.url
    content_type = response.content_type.split(";")[0].strip().lower() or "text/html"
    reader = READERS.get(content_type)
    if reader is None:
        return Rejection(url, "not an article page", f"content type {content_type}")
    item = next(iter(reader(url, io.BytesIO(response.body))), None)
    if item is None:
        return Rejection(url, "empty page")
    if isinstance(item, Rejection):
        return item
    fields = dict(item.fields)
    fields["url"] = fields.get("url") or url
    for name in HINTED:
        if not fields.get(name) and hints.get(name):
            fields[name] = hints[name]
    try:
        article = to_article(fields)
    except InvalidRecord as exc:
        return Rejection(url, exc.reason, exc.detail)
    return {**article.to_dict(), "origin": url}
