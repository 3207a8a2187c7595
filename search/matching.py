"""Query evaluation over whole posting lists as numpy arrays, with Whoosh's own BM25F scores.

Why: Whoosh's matchers walk postings one document at a time in Python; at 201k articles a query
of common Vietnamese syllables and its unscored facet pass took 250 ms at the median. Here each
query term's postings are read once as arrays (``search.codec.term_arrays``) and scored, matched,
filtered, counted and ordered with array operations. Whoosh still owns the index: the postings
(and the positions a phrase check reads), the statistics (idf, field lengths), stored fields.

Matching and scoring are separate. What a query requires (``search.query.Plan``: needs, each a
run of syllables at consecutive positions) is evaluated by ``select``: a need's holders are the
intersection of its syllables' posting arrays, confirmed by its word or compound token where one
exists and by positions (``search.codec.term_positions``) for the rest. Scores come from the
query's scoring tree of Term leaves under Or / And / AndMaybe / AndNot / Every / NullQuery, what
Whoosh computes for the same tree (sum of BM25F term scores, times boosts); any other query type
raises rather than being evaluated wrongly.
"""

import datetime as dt
import functools
import math
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from whoosh import query as Q

from search import stories, whoosh_private
from search.codec import term_arrays, term_positions
from search.query import Need, Plan
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

    @property
    def stories(self) -> np.ndarray:
        """The story label of each document (``search.stories``)."""
        return self._once("stories", lambda: stories.labels(self._signatures(), self.live))

    def _signatures(self) -> np.ndarray:
        out = np.zeros((self.n, stories.NUM_PERM), dtype=np.uint16)
        for leaf, offset in self._leaves:
            count = leaf.doc_count_all()
            raw = b"".join(leaf.column_reader("story", translate=False))
            out[offset : offset + count] = np.frombuffer(raw, "<u2").reshape(count, stories.NUM_PERM)
        return out

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


# --- what a query requires ------------------------------------------------------------------------


@dataclass
class Selection:
    """The articles a query matches, and what they were required to hold.

    Each holds every need of ``required`` that is a phrase or clause, and at least ``minimum`` of its
    words (all of them unless the query is long). ``dropped``: words left out because no allowed
    article held enough of them (``relaxed``). ``approximate``: the work budget ran out before the
    order of some words' syllables was checked everywhere; those articles hold every syllable.
    """

    docnums: np.ndarray
    required: list[Need] = field(default_factory=list)
    dropped: list[Need] = field(default_factory=list)
    minimum: int = 0
    approximate: bool = False

    @property
    def relaxed(self) -> bool:
        return bool(self.dropped)


def select(holders: "Holders", plan: Plan, mask: np.ndarray, long_words: int, long_share: float) -> Selection:
    """Allowed articles holding every need of some group (at least ``long_share`` of its words when
    it has more than ``long_words``) and no excluded need.

    When none does, relax like Meilisearch's "frequency" strategy: leave out, in every group, the
    word that narrows least (one no allowed article holds first, then the one most articles hold),
    until something matches or each group is down to one need. Phrases and ``title:`` clauses are
    never left out.
    """
    cols = holders.cols
    allowed = mask.copy()
    for need in plan.excluded:
        allowed[holders(need)] = False
    if not plan.groups:
        return Selection(np.flatnonzero(allowed))
    groups = [list(g) for g in plan.groups]
    dropped: list[Need] = []

    def minimum(group: list[Need]) -> int:
        words = sum(n.droppable for n in group)
        return words if words <= long_words else math.ceil(long_share * words)

    while True:
        present = np.zeros(cols.n, dtype=bool)
        for group in groups:
            present |= _holding(holders, group, minimum(group), allowed)
        if present.any():
            break
        losing = [_least_narrowing(holders, g, allowed) for g in groups]
        if not any(losing):
            break
        for group, need in zip(groups, losing, strict=True):
            if need is not None:
                group.remove(need)
                dropped.append(need)
    required = list(dict.fromkeys(n for g in groups for n in g))
    least = min(minimum(g) + sum(not n.droppable for n in g) for g in groups)
    return Selection(
        np.flatnonzero(present), required, list(dict.fromkeys(dropped)), least, holders.approximate
    )


def _holding(holders: "Holders", needs: list[Need], minimum: int, allowed: np.ndarray) -> np.ndarray:
    """Allowed articles holding every clause of the group and at least ``minimum`` of its words."""
    present = allowed.copy()
    words = [n for n in needs if n.droppable]
    for need in sorted((n for n in needs if not n.droppable), key=holders.count):
        present &= holders.dense(need)
    if minimum == len(words):
        for need in sorted(words, key=holders.count):
            if not present.any():
                break
            present &= holders.dense(need)
        return present
    count = np.zeros(holders.cols.n, dtype=np.int16)
    for need in words:
        count[holders(need)] += 1
    return present & (count >= minimum)


def _least_narrowing(holders: "Holders", group: list[Need], allowed: np.ndarray) -> Need | None:
    droppable = [n for n in group if n.droppable]
    if len(group) < 2 or not droppable:
        return None

    def narrowing(need: Need) -> tuple[bool, int]:
        held = int(allowed[holders(need)].sum())
        return held > 0, -held

    return min(droppable, key=narrowing)


def scored(cols: Columns, q: Q.Query | None, docnums: np.ndarray) -> Matches:
    """The selected articles with their scores under the query's scoring tree (0 without one)."""
    if q is None or not len(docnums):
        return Matches(docnums, np.zeros(len(docnums)))
    _present, acc = _dense(cols, _eval(cols, q))
    return Matches(docnums, acc[docnums])


NEED_CACHE_BYTES = 16 * 2**20  # holders of multi-syllable needs kept per generation ("hà nội" repeats)
CHECK_CHUNK = 8192  # syllable lists × candidates read between two looks at the clock
_NEEDS: "weakref.WeakKeyDictionary[Columns, OrderedDict]" = weakref.WeakKeyDictionary()
_NEEDS_LOCK = threading.Lock()


class Holders:
    """Docnums (ascending, deleted ones included) holding each need's syllables in order, for one
    request. Past ``seconds`` of position checks in the request, the candidates not yet checked are
    taken on their syllables (``approximate``); what was checked is kept per generation, so the
    next request goes on where this one stopped, and a need checked through is never read again."""

    def __init__(self, cols: Columns, seconds: float):
        self.cols, self.deadline, self.approximate = cols, time.monotonic() + seconds, False

    def __call__(self, need: Need) -> np.ndarray:
        if need.alternatives:  # a synonym: any of its forms
            held = [self(replace(need, alternatives=())), *map(self, need.alternatives)]
            return functools.reduce(np.union1d, held)
        if len(need.terms) == 1:
            return self.cols.term(*need.terms[0])[0]
        with _NEEDS_LOCK:
            cache = _NEEDS.setdefault(self.cols, OrderedDict())
            entry = cache.get(need)
            if entry is not None:
                cache.move_to_end(need)
        held, unchecked = entry if entry is not None else self._candidates(need)
        if len(unchecked):
            held, unchecked = self._check(need, held, unchecked)
            with _NEEDS_LOCK:
                cache[need] = held, unchecked
                while (
                    sum(a.nbytes + b.nbytes for a, b in cache.values()) > NEED_CACHE_BYTES and len(cache) > 1
                ):
                    cache.popitem(last=False)
        if len(unchecked):
            self.approximate = True
            return np.union1d(held, unchecked)
        return held

    def count(self, need: Need) -> int:
        return len(self(need))

    def dense(self, need: Need) -> np.ndarray:
        held = np.zeros(self.cols.n, dtype=bool)
        held[self(need)] = True
        return held

    def _candidates(self, need: Need) -> tuple[np.ndarray, np.ndarray]:
        """(sure holders, candidates to check): holders of every syllable; those with the need's
        token hold the sequence (pyvi joined the syllables there), the others need their positions."""
        cols = self.cols
        lists = sorted((cols.term(*t)[0] for t in set(need.terms)), key=len)
        candidates = functools.reduce(_sorted_common, lists)  # the shortest list first: few lookups
        sure = np.empty(0, np.int64)
        if need.token is not None and len(candidates):
            sure = np.intersect1d(candidates, cols.term(*need.token)[0], assume_unique=True)
            candidates = np.setdiff1d(candidates, sure, assume_unique=True)
        return sure, candidates[cols.live[candidates]]

    def _check(self, need: Need, held: np.ndarray, unchecked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Confirm candidates by their positions, a chunk at a time, while the request has time."""
        reader = self.cols.searcher.reader()
        size = max(64, CHECK_CHUNK // len(need.terms))  # a long phrase reads many lists per document
        while len(unchecked) and time.monotonic() <= self.deadline:
            chunk, unchecked = unchecked[:size], unchecked[size:]
            held = np.union1d(held, sequence_starts(reader, need.terms, chunk)[0])
        return held, unchecked


def _cached_bytes(cache: OrderedDict) -> int:
    return sum(held.nbytes + unchecked.nbytes for held, unchecked in cache.values())


def sequence_starts(reader, terms: tuple, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(docnum, first position) of every place where the terms stand at consecutive positions,
    among the given documents (ascending). A term that recurs in the sequence is read once."""
    keys, read = None, {}
    for shift, term in enumerate(terms):
        if not len(docnums):
            break
        if term not in read:
            fieldname, text = term
            read[term] = term_positions(reader, fieldname, reader.schema[fieldname].to_bytes(text), docnums)
        docs, positions = read[term]
        keep = positions >= shift
        found = (docs[keep] << 32) | (positions[keep] - shift)  # ascending: docs, then positions
        keys = found if keys is None else _sorted_common(keys, found)
        docnums = np.unique(keys >> 32)
    if keys is None or not len(docnums):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return keys >> 32, keys & 0xFFFFFFFF


def _sorted_common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The items of ascending ``a`` that ascending ``b`` holds, without sorting either again."""
    if not len(a) or not len(b):
        return a[:0]
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[at] == a]


def marked(reader, marks: list[tuple[Need, list[Need]]], docnums: list[int]) -> dict[int, list]:
    """docnum → [(first position, syllables)] to highlight: for each (whole, parts), where the whole
    stands in the document, else where each of the parts does."""
    out: dict[int, list[tuple[int, int]]] = {d: [] for d in docnums}
    for whole, parts in marks:
        rest = np.unique(np.array(docnums, dtype=np.int64))
        for need in dict.fromkeys([whole, *parts, *(a for p in parts for a in p.alternatives)]):
            docs, starts = sequence_starts(reader, need.terms, rest)
            for d, p in zip(docs.tolist(), starts.tolist(), strict=True):
                out[d].append((p, len(need.terms)))
            if need is whole:
                rest = np.setdiff1d(rest, docs)
    return out


# --- evaluation: a node is sparse (docnums, scores) or dense (present, scores over all docs) ------


def _eval(cols: Columns, q: Q.Query):
    if isinstance(q, Q.Or) and q.minmatch:
        raise TypeError("no array evaluation for Or queries with minmatch")
    if type(q) is Q.Term:
        ids, scores = cols.term(q.fieldname, q.text)
        return ids, scores * q.boost
    if type(q) is Q.AndMaybe:
        present, acc = _dense(cols, _eval(cols, q.a))
        _add(present, acc, _eval(cols, q.b), only_present=True)
        return _boosted(present, acc, q.boost)
    if type(q) is Q.AndNot:
        present, acc = _dense(cols, _eval(cols, q.a))
        present &= ~_dense(cols, _eval(cols, q.b))[0]
        return _boosted(present, acc, q.boost)
    if type(q) is Q.Or:
        present, acc = np.zeros(cols.n, dtype=bool), np.zeros(cols.n)
        for sub in q.subqueries:
            _add(present, acc, _eval(cols, sub))
        return _boosted(present, acc, q.boost)
    if type(q) is Q.And:
        present, acc = np.ones(cols.n, dtype=bool), np.zeros(cols.n)
        for sub in q.subqueries:
            sub_present, sub_acc = _dense(cols, _eval(cols, sub))
            present &= sub_present
            acc += sub_acc
        return _boosted(present, acc, q.boost)
    if type(q) is Q.DisjunctionMax:  # the best of a word's synonyms
        present, acc = np.zeros(cols.n, dtype=bool), np.zeros(cols.n)
        for sub in q.subqueries:
            sub_present, sub_acc = _dense(cols, _eval(cols, sub))
            present |= sub_present
            np.maximum(acc, sub_acc, out=acc)
        return _boosted(present, acc, q.boost)
    if type(q) is Q.Every:
        return cols.live.copy(), np.full(cols.n, q.boost)  # Whoosh scores every document its boost
    if q is Q.NullQuery:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    raise TypeError(f"no array evaluation for {type(q).__name__} queries")


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
