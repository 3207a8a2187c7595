"""Postings gathered per term while a segment is written, filed in term order when it is finished.

Why: Whoosh's ``PostingPool`` keeps every posting as a 5-tuple, spills sorted runs of them to disk
every ``limitmb`` and, to finish the segment, sorts and heap-merges millions of tuples in Python:
at 11k articles a worker, that took as long as segmenting them. Here each posting is appended to
its term's arrays as it comes (documents arrive in docnum order, so each term's postings are
already sorted), and finishing sorts only the distinct terms. Memory is bounded by the writer:
``full`` says when the pool holds ``limit_bytes``, and the indexing worker then finishes that
segment and starts another (search/writing.py), so nothing spills and nothing is merged.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

# What one posting and one term cost in memory, in bytes (CPython 3.11, 64-bit): a docnum and a
# float32 weight in arrays; a value's bytes object (one-byte values are shared singletons) and
# its pointer; a term's dict entry, key and three containers. 1,500 VietNews articles: estimated at
# 1.5x what the process grew by (59 MB against 39), when a key was a (field, term) tuple; keys are
# now the term's bytes alone, so the estimate errs further on the high side.
POSTING_BYTES = 8
VALUE_OVERHEAD = 41
TERM_BYTES = 420


class TermPool:
    """A stand-in for Whoosh's posting pool in a segment writer (``iter_postings``, ``cleanup``),
    holding each term's postings together, per field (a term's key is then its bytes alone, whose
    hash Python keeps: no key tuple to build and hash per posting). Documents come in through
    ``whoosh_private.file_document``, a field at a time."""

    def __init__(self, limit_bytes: int):
        self.limit_bytes = limit_bytes
        self.size = 0
        self._fields: dict[str, dict[bytes, tuple[array, array, list]]] = {}

    def add_field(self, fieldname: str, docnum: int, items) -> int:
        """One document's postings in a field, (term bytes, frequency, weight, value bytes or None)
        each; returns the field's length (the frequencies' sum), as Whoosh counts it."""
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
        size, length = 0, 0
        for tbytes, freq, weight, value in items:
            length += freq
            postings = terms.get(tbytes)
            if postings is None:
                postings = terms[tbytes] = (array("I"), array("f"), [])
                size += TERM_BYTES + len(tbytes)
            ids, weights, values = postings
            ids.append(docnum)
            weights.append(weight)
            values.append(value)
            size += POSTING_BYTES + (VALUE_OVERHEAD + len(value) if value and len(value) > 1 else 8)
        self.size += size
        return length

    def full(self) -> bool:
        return self.size >= self.limit_bytes

    def iter_postings(self) -> TermPostings:
        return TermPostings(self._fields)

    def cleanup(self) -> None:
        self._fields = {}
        self.size = 0


class TermPostings:
    """Every term's postings in Whoosh's posting order (field, then term bytes), a term at a time."""

    def __init__(self, fields: dict[str, dict[bytes, tuple[array, array, list]]]):
        self._fields = fields

    def __iter__(self) -> Iterator[tuple[str, bytes, int, float, bytes | None]]:
        """(field, term, docnum, weight, value) one posting at a time, as Whoosh's pool gives them
        to a field writer of another codec."""
        for fieldname, tbytes, ids, weights, values in self.terms():
            for docnum, weight, value in zip(ids, weights, values, strict=True):
                yield fieldname, tbytes, docnum, weight, value

    def terms(self) -> Iterator[tuple[str, bytes, array, array, list]]:
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for tbytes in sorted(terms):
                ids, weights, values = terms[tbytes]
                yield fieldname, tbytes, ids, weights, values
