"""Query evaluation over whole posting lists as numpy arrays, with Whoosh's own BM25F scores.

Why: Whoosh's matchers walk postings one document at a time in Python; at 201k articles a query
of common Vietnamese syllables and its unscored facet pass took 250 ms at the median. Here each
query term's postings are read once as arrays (``search.codec.term_arrays``) and scored, matched,
filtered, counted and ordered with array operations. Whoosh still owns the index: the postings
(and the positions a phrase check reads), the statistics (idf, field lengths), stored fields.

The query trees are the ones ``search.query.build`` makes: Term, Or, And, AndMaybe, AndNot, Phrase,
Every and NullQuery. Scores are what Whoosh computes for the same tree (sum of BM25F term scores,
times boosts; a phrase scores as the sum of its words), so rankings do not change.
"""

import datetime as dt
import functools
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as Q

from search import whoosh_private
from search.codec import term_arrays
from search.whoosh_private import byte_to_length

TERM_CACHE_BYTES = 48 * 2**20  # scored posting arrays kept per searcher (hot terms repeat across queries)
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


@dataclass
class Matches:
    """Matching live documents (ascending docnums) and their scores."""

    docnums: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.docnums)


class Columns:
    """Per-document arrays of one searcher's generation: liveness, field lengths, date, facets.

    Built once per opened generation, each array on first use (a few hundred ms at 201k articles),
    and shared by every query, so every lazy build holds ``_build_lock`` (gthread workers search
    from several threads at once). A generation without documents has no columns at all: its
    arrays are empty, never read from Whoosh (whose empty reader cannot read columns).
    """

    def __init__(self, searcher):
        self.searcher = searcher
        self.n = searcher.doc_count_all()
        leaves = [(leaf, offset) for leaf, offset in searcher.reader().leaf_readers() if leaf.doc_count_all()]
        self.live = np.ones(self.n, dtype=bool)
        for leaf, offset in leaves:
            if leaf.has_deletions():  # deleted documents stay in postings until a merge drops them
                self.live[offset : offset + leaf.doc_count_all()] = False
                self.live[offset + np.fromiter(leaf.all_doc_ids(), dtype=np.int64)] = True
        self._leaves = leaves
        self._lengths: dict[str, np.ndarray] = {}
        self.labels: dict[str, list[str]] = {}
        self.codes: dict[str, np.ndarray] = {}
        self._terms: OrderedDict = OrderedDict()
        self._term_bytes = 0
        self._lock = threading.Lock()
        self._build_lock = threading.RLock()
        self._built: dict[str, np.ndarray] = {}

    def _once(self, name: str, build) -> np.ndarray:
        """The array ``name``, built by the first thread that asks; the others wait for it."""
        found = self._built.get(name)
        if found is None:
            with self._build_lock:
                found = self._built.get(name)
                if found is None:
                    found = self._built[name] = build()
        return found

    @property
    def date(self) -> np.ndarray:
        return self._once("date", lambda: self._numbers("date"))

    @property
    def dated(self) -> np.ndarray:
        # Whoosh's column value for "no date"
        return self._once("dated", lambda: self.date != np.iinfo(np.uint64).max)

    @property
    def newest_rank(self) -> np.ndarray:
        return self._once("newest", lambda: self._rank(descending=True))

    @property
    def oldest_rank(self) -> np.ndarray:
        return self._once("oldest", lambda: self._rank(descending=False))

    def _numbers(self, name: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.uint64)
        for leaf, offset in self._leaves:
            column = leaf.column_reader(name, translate=False)
            out[offset : offset + leaf.doc_count_all()] = np.fromiter(column, np.uint64, leaf.doc_count_all())
        return out

    def _rank(self, descending: bool) -> np.ndarray:
        """Position of each document in date order: undated last, ties by docnum."""
        key = ~self.date if descending else self.date  # uint64: ~ reverses the order exactly
        order = np.lexsort((np.arange(self.n), key, ~self.dated))
        rank = np.empty(self.n, dtype=np.int64)
        rank[order] = np.arange(self.n)
        return rank

    def facet(self, name: str) -> tuple[list[str], np.ndarray]:
        """(labels, code of each document) for an ID column; built on first use."""
        with self._build_lock:  # labels and codes are set together, never one without the other
            if name not in self.codes:
                values = np.full(self.n, "", dtype=object)
                for leaf, offset in self._leaves:
                    values[offset : offset + leaf.doc_count_all()] = list(leaf.column_reader(name))
                labels, codes = np.unique(values.astype(str), return_inverse=True)
                self.labels[name], self.codes[name] = list(labels), codes.astype(np.int32)
            return self.labels[name], self.codes[name]

    def lengths(self, fieldname: str) -> np.ndarray:
        """Field length of each document as Whoosh scores it (its one-byte approximation)."""
        with self._build_lock:
            if fieldname not in self._lengths:
                out = np.zeros(self.n, dtype=np.float64)
                for leaf, offset in self._leaves:
                    out[offset : offset + leaf.doc_count_all()] = _leaf_lengths(leaf, fieldname)
                self._lengths[fieldname] = out
            return self._lengths[fieldname]

    def term(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, unboosted scores) of one term, deleted documents included."""
        key = (fieldname, text)
        with self._lock:
            if key in self._terms:
                self._terms.move_to_end(key)
                return self._terms[key]
        found = self._score(fieldname, text)
        with self._lock:
            if key not in self._terms:  # another thread may have scored it meanwhile
                self._terms[key] = found
                self._term_bytes += found[0].nbytes + found[1].nbytes
            while self._term_bytes > TERM_CACHE_BYTES and len(self._terms) > 1:
                ids, scores = self._terms.popitem(last=False)[1]
                self._term_bytes -= ids.nbytes + scores.nbytes
        return found

    def _score(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        field = self.searcher.schema[fieldname]
        btext = field.to_bytes(text)
        if not self.n:
            return np.empty(0, np.int64), np.empty(0)
        ids, weights = term_arrays(self.searcher.reader(), fieldname, btext)
        if not field.scorable or not len(ids):
            return ids, weights
        w = self.searcher.weighting
        idf = self.searcher.idf(fieldname, btext)
        avgfl = self.searcher.avg_field_length(fieldname) or 1
        fl = self.lengths(fieldname)[ids]
        return ids, idf * (weights * (w.K1 + 1)) / (weights + w.K1 * ((1 - w.B) + w.B * fl / avgfl))


def _leaf_lengths(leaf, fieldname: str) -> np.ndarray:
    """Whoosh keeps field lengths in a one-byte column with no public reader; read it as bytes."""
    codes = whoosh_private.field_length_bytes(leaf, fieldname)
    if codes is None:
        return np.zeros(leaf.doc_count_all())
    return _LENGTHS[codes]


_COLUMNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_COLUMNS_LOCK = threading.Lock()


def columns(searcher) -> Columns:
    """The arrays of this searcher's generation (built on its first query, by one thread)."""
    with _COLUMNS_LOCK:
        found = _COLUMNS.get(searcher)
        if found is None:
            found = _COLUMNS[searcher] = Columns(searcher)
        return found


def allowed(
    cols: Columns, date_from: dt.date | None, date_to: dt.date | None, category: str | None
) -> np.ndarray:
    """Live documents inside the date range and category (an undated article has no date to match)."""
    mask = cols.live.copy()
    date = cols.searcher.schema["date"]
    if date_from:
        start = date.to_column_value(dt.datetime.combine(date_from, dt.time.min))
        mask &= cols.dated & (cols.date >= np.uint64(start))
    if date_to:
        end = date.to_column_value(dt.datetime.combine(date_to, dt.time.max))
        mask &= cols.dated & (cols.date <= np.uint64(end))
    if category:
        labels, codes = cols.facet("category")
        mask &= codes == labels.index(category) if category in labels else False
    return mask


def match(cols: Columns, q: Q.Query, mask: np.ndarray) -> Matches:
    """Documents of ``mask`` that ``q`` matches, with their scores."""
    present, acc = _dense(cols, _eval(cols, q))
    docnums = np.flatnonzero(present & mask)
    return Matches(docnums, acc[docnums])


def top(cols: Columns, matches: Matches, depth: int, order: str) -> list[tuple[int, float]]:
    """The first ``depth`` (docnum, score) in ``order``: by score (ties by docnum) or by date."""
    docnums, scores = matches.docnums, matches.scores
    if order == "relevance":
        key = -scores
    else:
        key = (cols.newest_rank if order == "newest" else cols.oldest_rank)[docnums]
    if len(docnums) > depth:
        cut = np.partition(key, depth - 1)[depth - 1]
        keep = key <= cut  # ties at the cut all stay, so the docnum order below decides among them
        docnums, scores, key = docnums[keep], scores[keep], key[keep]
    chosen = np.lexsort((docnums, key))[:depth]
    if order != "relevance":
        return [(int(d), 0.0) for d in docnums[chosen]]
    return [(int(d), float(s)) for d, s in zip(docnums[chosen], scores[chosen], strict=True)]


def facet_counts(cols: Columns, matches: Matches, name: str) -> dict[str, int]:
    """How many matching articles have each non-empty value of an ID column."""
    labels, codes = cols.facet(name)
    counts = np.bincount(codes[matches.docnums], minlength=len(labels))
    return {label: int(c) for label, c in zip(labels, counts, strict=True) if c and label}


def terms(q: Q.Query) -> set[tuple[str, str]]:
    """(field, text) of every term the query can match on (not those it excludes)."""
    if isinstance(q, Q.Term):
        return {(q.fieldname, q.text)}
    if isinstance(q, Q.Phrase):
        return {(q.fieldname, w) for w in q.words}
    if isinstance(q, Q.AndNot):
        return terms(q.a)
    if isinstance(q, Q.AndMaybe):
        return terms(q.a) | terms(q.b)
    if isinstance(q, Q.CompoundQuery):
        return set().union(*(terms(sub) for sub in q.subqueries))
    return set()


# --- evaluation: a node is sparse (docnums, scores) or dense (present, scores over all docs) ------


def _eval(cols: Columns, q: Q.Query):
    if isinstance(q, Q.Term):
        ids, scores = cols.term(q.fieldname, q.text)
        return ids, scores * q.boost
    if isinstance(q, Q.Phrase):
        return _phrase(cols, q)
    if isinstance(q, Q.AndMaybe):
        present, acc = _dense(cols, _eval(cols, q.a))
        _add(present, acc, _eval(cols, q.b), only_present=True)
        return _boosted(present, acc, q.boost)
    if isinstance(q, Q.AndNot):
        present, acc = _dense(cols, _eval(cols, q.a))
        present &= ~_dense(cols, _eval(cols, q.b))[0]
        return _boosted(present, acc, q.boost)
    if isinstance(q, Q.Or):
        present, acc = np.zeros(cols.n, dtype=bool), np.zeros(cols.n)
        for sub in q.subqueries:
            _add(present, acc, _eval(cols, sub))
        return _boosted(present, acc, q.boost)
    if isinstance(q, Q.And):
        present, acc = np.ones(cols.n, dtype=bool), np.zeros(cols.n)
        for sub in q.subqueries:
            sub_present, sub_acc = _dense(cols, _eval(cols, sub))
            present &= sub_present
            acc += sub_acc
        return _boosted(present, acc, q.boost)
    if isinstance(q, Q.Every):
        return cols.live.copy(), np.full(cols.n, q.boost)  # Whoosh scores every document its boost
    if q is Q.NullQuery:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    raise TypeError(f"no array evaluation for {type(q).__name__} queries")


def _phrase(cols: Columns, q: Q.Phrase):
    """Documents holding the words at consecutive positions (Whoosh's ``Phrase`` with its default
    slop of 1), scored as Whoosh scores a phrase: the sum of its words' scores.

    Candidates are the intersection of the words' posting arrays; only their positions are read.
    """
    postings = [cols.term(q.fieldname, word) for word in q.words]
    candidates = functools.reduce(np.intersect1d, [ids for ids, _ in postings])
    candidates = candidates[cols.live[candidates]]
    if len(q.words) > 1 and len(candidates):
        candidates = candidates[_in_order(cols.searcher.reader(), q.fieldname, q.words, candidates)]
    total = np.zeros(len(candidates))
    for ids, scores in postings if len(candidates) else ():
        total += scores[np.searchsorted(ids, candidates)]
    return candidates, total * q.boost


def _in_order(reader, fieldname: str, words: list[str], docnums: np.ndarray) -> np.ndarray:
    """Which of the documents (all holding every word) have the words at positions p, p+1, …"""
    field = reader.schema[fieldname]
    starts: list[set[int]] = [set() for _ in docnums]  # possible phrase starts per document
    for shift, word in enumerate(words):
        matcher = reader.postings(fieldname, field.to_bytes(word))
        for i, docnum in enumerate(docnums.tolist()):
            if shift and not starts[i]:
                continue
            matcher.skip_to(docnum)
            found = {p - shift for p in matcher.value_as("positions")}
            starts[i] = found if not shift else starts[i] & found
    return np.array([bool(s) for s in starts], dtype=bool)


def _dense(cols: Columns, node) -> tuple[np.ndarray, np.ndarray]:
    a, b = node
    if a.dtype == bool:
        return a, b
    present, acc = np.zeros(cols.n, dtype=bool), np.zeros(cols.n)
    present[a], acc[a] = True, b
    return present, acc


def _add(present: np.ndarray, acc: np.ndarray, node, only_present: bool = False) -> None:
    a, b = node
    if a.dtype == bool:
        where = a & present if only_present else a
        acc[where] += b[where]
        if not only_present:
            present |= a
        return
    if only_present:
        keep = present[a]
        a, b = a[keep], b[keep]
    acc[a] += b  # a term's docnums are distinct, so fancy-index addition is exact
    present[a] = True


def _boosted(present: np.ndarray, acc: np.ndarray, boost: float):
    if boost != 1.0:
        acc *= boost
    return present, acc
