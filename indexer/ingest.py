"""From source files to the articles to index, in two streaming passes.

Duplicate ids must resolve to the last record without holding the corpus in memory: the first
pass (``scan``) validates everything, reports rejections and keeps only ``id -> ordinal of the
last valid record with that id``; the second pass (``winners``) reads the sources again and
yields just those records. Reading twice is cheap next to segmentation, and knowing the count
up front gives the progress bar a total and an ETA.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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

    @property
    def valid(self) -> int:
        return self.read - self.rejected.total()

    @property
    def duplicates(self) -> int:
        return self.valid - len(self.last_ordinal)

    @property
    def unique(self) -> int:
        return len(self.last_ordinal)


def validated(files: Iterable[SourceFile]) -> Iterator[Article | Rejection]:
    """Every record as an article, or as a rejection naming its origin and reason."""
    for item in read_records(files):
        if isinstance(item, Rejection):
            yield item
            continue
        try:
            yield to_article(item.fields)
        except InvalidRecord as exc:
            yield Rejection(item.origin, exc.reason, exc.detail)


def scan(files: list[SourceFile], report: Callable[[Rejection], None]) -> Scan:
    """First pass: count, report each rejection as it is found, remember the last record per id."""
    result = Scan(files)
    ordinal = 0
    for item in validated(files):
        result.read += 1
        if isinstance(item, Rejection):
            result.rejected[item.reason] += 1
            report(item)
        else:
            result.last_ordinal[item.id] = ordinal
            ordinal += 1
    return result


def winners(plan: Scan) -> Iterator[dict[str, object]]:
    """Second pass: the mapping of each id's last valid record, ready for ``search``."""
    ordinal = 0
    for item in validated(plan.files):
        if isinstance(item, Article):
            if plan.last_ordinal.get(item.id) == ordinal:
                yield item.to_dict()
            ordinal += 1
