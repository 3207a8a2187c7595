"""vnsearch core: Vietnamese analysis, index generations, query language and ranked search.

This is the only package that imports whoosh or pyvi; ``indexer`` and ``web`` use what is
exported here.

Build an index, then search it::

    >>> import datetime, search
    >>> ix = search.Index("/tmp/vnsearch-doc")
    >>> with ix.new_generation() as gen:            # full rebuild, switched in atomically at exit
    ...     gen.add_many([{"id": "a1", "title": "Khoa học và đời sống",
    ...                    "body": "Hội thảo khoa học tại Huế.", "date": datetime.date(2023, 11, 13),
    ...                    "category": "Khoa học", "source": "demo", "url": "https://example.vn/a1"}])
    1
    >>> res = ix.search("khoa hoc", date_from="2023-01-01")
    >>> res.total, res.hits[0].id, res.hits[0].title_html
    (1, 'a1', '<mark class="match term0">Khoa học</mark> và đời sống')
    >>> with ix.updating() as w:                   # incremental: upsert / delete in the current one
    ...     w.delete("a1")
    1

Articles are mappings with ``id`` (required), ``title``, ``summary``, ``body``, ``date``
(``datetime.date``/``datetime``/None), ``category``, ``source`` and ``url``.

``ix.complete("thanh ph")`` completes what a reader is typing (search-as-you-type, at most
``MAX_COMPLETIONS``) from the words and title phrases of the index (``search.complete``).

``search.limits`` declares the request limits (query length, page size, depth) every layer uses.
``search.analytics`` is the log of what readers searched for (written by web/, read by
``vnsearch report``).
"""

from search import analytics, limits
from search.complete import MAX_COMPLETIONS
from search.errors import (
    GenerationCopyError,
    IndexCorruptError,
    IndexFormatError,
    IndexLockedError,
    IndexShrinkError,
    IndexUnreadableError,
    QueryError,
    SearchError,
)
from search.index import Index
from search.results import Hit, Results
from search.synonyms import Synonyms, SynonymsError
from search.typing import is_syllable
from search.writing import IndexingError

__all__ = [
    "GenerationCopyError",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexFormatError",
    "IndexLockedError",
    "IndexShrinkError",
    "IndexUnreadableError",
    "IndexingError",
    "MAX_COMPLETIONS",
    "QueryError",
    "Results",
    "SearchError",
    "analytics",
    "Synonyms",
    "SynonymsError",
    "is_syllable",
    "limits",
]
