"""The Whoosh schema: what is stored, what is searchable, what can be filtered and counted."""

from whoosh.analysis import Analyzer
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import VietnameseTokenizer
from search.codec import CompactCharacters

FOLDED_SUFFIX = "_f"


class Postings:
    """A field value already turned into postings where it was segmented (a worker process)."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple]):
        self.items = items


class VietnameseText(TEXT):
    """TEXT that accepts ready ``Postings``: the single writer process only files them."""

    def index(self, value, **kwargs):
        if isinstance(value, Postings):
            return value.items
        return super().index(value, **kwargs)


def _text(folded: bool, chars: bool) -> TEXT:
    # chars=True: postings keep character offsets, so highlighting never re-runs pyvi.
    analyzer: Analyzer = VietnameseTokenizer(folded=folded)
    field = VietnameseText(analyzer=analyzer, stored=False, chars=chars, phrase=True)
    if chars:  # the same postings in a third fewer bytes, and no pickle per posting
        field.format = CompactCharacters(field_boost=field.format.field_boost)
    return field


def build_schema() -> Schema:
    """One searchable ``text`` field (title, summary and body, title tokens weighted up) and its
    folded twin, which share character offsets; the title alone for ``title:`` and the title
    phrase bonus; the stored parts; date, year, month, category and source as columns.

    One text field rather than three keeps each query term one posting list: a third of the
    matchers per query and of the postings to write.
    """
    return Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=STORED(),
        summary=STORED(),
        body=STORED(),
        text=_text(False, chars=True),
        text_f=_text(True, chars=True),
        title_words=_text(False, chars=False),
        title_words_f=_text(True, chars=False),
        date=DATETIME(stored=True, sortable=True),
        undated=NUMERIC(bits=8, sortable=True),
        year=ID(sortable=True),
        month=ID(sortable=True),
        category=ID(stored=True, sortable=True),
        source=ID(stored=True, sortable=True),
    )
