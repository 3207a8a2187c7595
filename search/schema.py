"""The Whoosh schema: what is stored, what is searchable, what can be filtered and counted."""

from whoosh.analysis import Analyzer
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import VietnameseTokenizer

FOLDED_SUFFIX = "_f"


def _text(folded: bool) -> TEXT:
    # chars=True: postings keep character offsets, so highlighting never re-runs pyvi.
    # Only the exact field stores the text; the folded twin shares its offsets.
    analyzer: Analyzer = VietnameseTokenizer(folded=folded)
    return TEXT(analyzer=analyzer, stored=not folded, chars=True, phrase=True)


def build_schema() -> Schema:
    """id is unique; date, year, month, category and source are columns for sorting and facets."""
    return Schema(
        id=ID(stored=True, unique=True),
        url=STORED(),
        title=_text(False),
        title_f=_text(True),
        summary=_text(False),
        summary_f=_text(True),
        body=_text(False),
        body_f=_text(True),
        date=DATETIME(stored=True, sortable=True),
        undated=NUMERIC(bits=8, sortable=True),
        year=ID(sortable=True),
        month=ID(sortable=True),
        category=ID(stored=True, sortable=True),
        source=ID(stored=True, sortable=True),
    )
