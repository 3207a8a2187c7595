"""From source files to the articles to index, in two streaming passes.

Duplicate ids must resolve to the last record without holding the corpus in memory: the first
pass (``scan``) validates everything, reports rejections and keeps only ``id -> ordinal of the
last valid record with that id``; the second pass (``winners``) reads the sources again and
yields just those records. Reading twice is cheap next to segmentation, and knowing the count
up front gives the progress bar a total and an ETA.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from indexer.article import Article, InvalidRecord, to_article
from indexer.records import Rejection
from indexer.sources import SourceFile, read_records


@dataclass
class Scan:
    """What the first pass learned: counts, rejections by reason, and which record wins per id."""

    files: list[SourceFile]
    read: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    last_ordinal: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # valid records the search core could not index (counted in ``rejected`` too)
    repaired: Counter[str] = field(default_factory=Counter)  # "file: how" → records repaired

    @property
    def valid(self) -> int:
        return self.read - self.rejected.total() + self.failed

    @property
    def duplicates(self) -> int:
        return self.valid - len(self.last_ordinal)

    @property
    def unique(self) -> int:
        return len(self.last_ordinal)


def validated(files: Iterable[SourceFile]) -> Iterator[Article | Rejection]:
    """Every record as an article, or as a rejection naming its origin and reason."""
    for item in _validated(files):
        yield item if isinstance(item, Rejection) else item[1]


def _validated(
    files: Iterable[SourceFile], repaired: Counter[str] | None = None
) -> Iterator[tuple[str, Article] | Rejection]:
    """Every record as (origin, article), or as a rejection naming its origin and reason;
    records whose text was repaired are counted in ``repaired`` by file and repair."""
    for item in read_records(files):
        if isinstance(item, Rejection):
            yield item
            continue
        if item.repaired and repaired is not None:
            repaired[f"{item.origin.rpartition(':')[0] or item.origin}: {item.repaired}"] += 1
        try:
            yield item.origin, to_article(item.fields)
        except InvalidRecord as exc:
            yield Rejection(item.origin, exc.reason, exc.detail)


def scan(files: list[SourceFile], report: Callable[[Rejection], None]) -> Scan:
    """First pass: count, report each rejection as it is found, remember the last record per id."""
    result = Scan(files)
    ordinal = 0
    for item in _validated(files, result.repaired):
        result.read += 1
        if isinstance(item, Rejection):
            result.rejected[item.reason] += 1
            report(item)
        else:
            result.last_ordinal[item[1].id] = ordinal
            ordinal += 1
    return result


def failed_analysis(plan: Scan, report: Callable[[Rejection], None]) -> Callable[[Mapping, str], None]:
    """What the search core calls for an article it could not index: one more rejection, reported
    with the record's origin, so the counts still reconcile."""

    def on_error(article: Mapping, reason: str) -> None:
        rejection = Rejection(str(article.get("origin") or article.get("id")), "cannot be indexed", reason)
        plan.rejected[rejection.reason] += 1
        plan.failed += 1
        report(rejection)

    return on_error


def winners(plan: Scan) -> Iterator[dict[str, object]]:
    """Second pass: the mapping of each id's last valid record, ready for ``search`` (with its
    ``origin``, which the core hands back if it cannot index the article)."""
    ordinal = 0
    for item in _validated(plan.files):
        if not isinstance(item, Rejection):
            origin, article = item
            if plan.last_ordinal.get(article.id) == ordinal:
                yield {**article.to_dict(), "origin": origin}
            ordinal += 1
