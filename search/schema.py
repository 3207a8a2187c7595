"""The Whoosh schema: what is stored, what is searchable, what can be filtered and counted."""

from whoosh.analysis import Analyzer
from whoosh.columns import FixedBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import VietnameseTokenizer
from search.codec import CompactPositions
from search.stories import NO_SIGNATURE, SIGNATURE_BYTES

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


def _text(folded: bool) -> TEXT:
    # Positions for phrases and highlighting; no character offsets (see search.codec.CompactPositions).
    analyzer: Analyzer = VietnameseTokenizer(folded=folded)
    field = VietnameseText(analyzer=analyzer, stored=False, phrase=True)
    field.format = CompactPositions(field_boost=field.format.field_boost)
    return field


def build_schema() -> Schema:
    """One searchable ``text`` field (title, summary and body, title tokens weighted up) and its
    folded twin, which share positions; the title alone for ``title:`` and the title phrase bonus;
    the stored parts and where each position starts in them; date, year, month, category and
    source as columns; each article's near-duplicate signature (``search.stories``) as a column.

    One text field rather than three keeps each query term one posting list: a third of the
    matchers per query and of the postings to write.
    """
    return Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=STORED(),
        summary=STORED(),
        body=STORED(),
        starts=STORED(),  # where each position's syllable starts in the text: search.analysis
        text=_text(False),
        text_f=_text(True),
        title_words=_text(False),
        title_words_f=_text(True),
        date=DATETIME(stored=True, sortable=True),
        undated=NUMERIC(bits=8, sortable=True),
        year=ID(sortable=True),
        month=ID(sortable=True),
        category=ID(stored=True, sortable=True),
        source=ID(stored=True, sortable=True),
        story=COLUMN(FixedBytesColumn(SIGNATURE_BYTES, default=NO_SIGNATURE)),
    )
