"""Running a search on one Whoosh searcher: filters, sorting, facets, hits, suggestions."""

import dataclasses
import datetime as dt
import functools
import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from search import highlight, matching, query
from search.analysis import TEXT_FIELDS, field_bounds, joined
from search.codec import unpack_increasing
from search.errors import QueryError
from search.limits import MAX_DEPTH, MAX_PAGE, MAX_PER_PAGE
from search.results import Hit, Results
from search.schema import FOLDED_SUFFIX
from search.text import exact_key, fold

SORTS = ("relevance", "newest", "oldest")
# Candidates that get the phrase bonus before the first pages are cut. The bonus can triple a
# score, so a deep candidate can jump onto the first page on a phrase alone; 30 loads fewer stored
# fields than 50. Set A (benchmarks/relevance.py) R@10 without diacritics 0.8987 at 50 and 40,
# 0.9004 at 30, 0.8975 at 20 (MRR@10 as written 0.9375 at 20, 0.9424 at 30-50); set B equal at 30
# and 50 (MRR@10 0.999 both ways).
RERANK_DEPTH = 30
LEAD_CHARS = 400  # the lead of an article without a summary: about its first two sentences
BONUS_CHARS = 1000  # a title or summary is read this far for the bonus (news ones are far shorter)
FACETS = {"years": "year", "months": "month", "categories": "category"}


@dataclass(frozen=True)
class Request:
    """A validated search request."""

    q: str
    date_from: dt.date | None
    date_to: dt.date | None
    category: str | None
    sort: str
    page: int
    per_page: int


def make_request(q, date_from, date_to, category, sort, page, per_page) -> Request:
    """Check every parameter; a bad one is a QueryError that says which and why."""
    if not isinstance(q, str):
        raise QueryError("q must be text", param="q")
    start, end = _date(date_from, "date_from"), _date(date_to, "date_to")
    if start and end and start > end:
        raise QueryError(
            f"Ngày bắt đầu {start:%d/%m/%Y} sau ngày kết thúc {end:%d/%m/%Y} (from > to).", param="from"
        )
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", param="sort")
    page, per_page = _int(page, "page", 1, MAX_PAGE), _int(per_page, "per_page", 1, MAX_PER_PAGE)
    if page * per_page > MAX_DEPTH:
        raise QueryError(f"Chỉ xem được {MAX_DEPTH} kết quả đầu tiên; hãy thu hẹp tìm kiếm.", param="page")
    return Request(q.strip(), start, end, category or None, sort, page, per_page)


def _date(value, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise QueryError(f"{name}: {str(value)[:40]!r} is not a date as YYYY-MM-DD", param=name) from None


def _int(value, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise QueryError(f"{name} must be a whole number", param=name) from None
    if not low <= number <= high:
        raise QueryError(f"{name} must be between {low} and {high}", param=name)
    return number


def run(searcher, req: Request, tuning: query.Tuning) -> Results:
    """Search, count facets over the whole filtered set, and shape the requested page.

    A query typed with diacritics searches the exact fields; only when the first pass fills less
    than a page is it run again wider: every term may match, and the folded fields join at low
    weight, so exact matches still rank first.
    """
    parsed = query.parse(req.q)
    sort = req.sort if not (req.sort == "relevance" and parsed.is_empty()) else "newest"
    cols = matching.columns(searcher)
    allowed = matching.allowed(cols, req.date_from, req.date_to, req.category)
    depth = max(req.page * req.per_page, RERANK_DEPTH if sort == "relevance" else 0)
    wq = query.build(parsed, tuning, _doc_freq(searcher))
    found = matching.match(cols, wq, allowed)
    if len(found) < req.per_page and parsed.words:
        # Too little: let every term decide matching, and add the folded fallback to a query
        # typed with diacritics (rare terms alone can be just a date or a guessed word).
        wide = dataclasses.replace(tuning, common=1.0)
        wq = query.build(parsed, wide, _doc_freq(searcher), fallback=bool(tuning.fallback))
        found = matching.match(cols, wq, allowed)
    top = matching.top(cols, found, depth, sort)
    stored = functools.lru_cache(maxsize=None)(searcher.stored_fields)  # re-rank and page share them
    rerank = sort == "relevance" and query.phrase_bonus_applies(parsed, tuning)
    ranked = _reranked(stored, top, parsed, tuning) if rerank else top
    shown = ranked[(req.page - 1) * req.per_page : req.page * req.per_page]
    hits_ = hits(searcher, wq, shown, stored)
    return Results(
        query=req.q,
        total=len(found),
        page=req.page,
        per_page=req.per_page,
        took_ms=0.0,
        hits=hits_,
        facets={name: _facet(name, matching.facet_counts(cols, found, col)) for name, col in FACETS.items()},
        suggestion=_suggestion(searcher, req, parsed, hits_, tuning, allowed),
    )


def similar(searcher, wq, n: int) -> list[Hit]:
    """The best ``n`` hits of a query built by the caller (related articles)."""
    cols = matching.columns(searcher)
    return hits(searcher, wq, matching.top(cols, matching.match(cols, wq, cols.live), n, "relevance"))


def _reranked(stored, top: list[tuple[int, float]], parsed, tuning: query.Tuning) -> list[tuple]:
    """(docnum, score), the first ``RERANK_DEPTH`` reordered with the title and lead phrase bonus
    (the same for every page, so paging stays consistent), the rest in BM25 order."""
    head = [
        (d, score * query.phrase_bonus(parsed, _title(stored(d)), _lead(stored(d)), tuning))
        for d, score in top[:RERANK_DEPTH]
    ]
    head.sort(key=lambda pair: -pair[1])
    return head + top[RERANK_DEPTH:]


def _title(doc: dict) -> str:
    return (doc.get("title") or "")[:BONUS_CHARS]


def _lead(doc: dict) -> str:
    """The summary, or the start of the body when an article has none (a hostile 10 MB summary
    costs no more than a real one)."""
    return (doc.get("summary") or "")[:BONUS_CHARS] or (doc.get("body") or "")[:LEAD_CHARS]


def _doc_freq(searcher) -> query.DocFreq:
    """Share of articles whose text holds the key."""
    n = max(1, searcher.doc_count_all())

    def share(key: str, folded: bool) -> float:
        suffix = FOLDED_SUFFIX if folded else ""
        return searcher.doc_frequency(query.TEXT + suffix, key) / n

    return share


def _facet(name: str, counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=_facet_order(name)))


def _facet_order(name: str):
    if name == "categories":
        return lambda kv: (-kv[1], kv[0] or "")
    return lambda kv: kv[0] or ""


def hits(searcher, wq, shown: list[tuple[int, float]], stored=None) -> list[Hit]:
    """Hits with highlights, from (docnum, score) pairs (score 0 when sorted by date); ``stored``
    reads a document's stored fields (``searcher.stored_fields`` unless given)."""
    stored = stored or searcher.stored_fields
    fields = {query.TEXT, query.TEXT + FOLDED_SUFFIX}
    wanted = sorted((f, t) for f, t in matching.terms(wq) if f in fields)
    matched = highlight.load_positions(searcher.reader(), [d for d, _ in shown], wanted)
    return [_hit(stored(d), matched[d], score) for d, score in shown]


def _hit(stored: dict, matched: list, score: float) -> Hit:
    texts = {f: stored.get(f, "") for f in TEXT_FIELDS}
    spans = highlight.spans(joined(texts), unpack_increasing(stored["starts"]), matched)
    parts = _split(spans, texts)
    if parts["body"]:
        snippet = highlight.snippet(texts["body"], parts["body"])
    else:
        snippet = highlight.snippet(texts["summary"] or texts["body"], parts["summary"])
    date = stored.get("date")
    return Hit(
        id=stored["id"],
        title=texts["title"],
        url=stored.get("url") or None,
        date=date.date() if date else None,
        category=stored.get("category") or None,
        source=stored.get("source") or None,
        score=float(score),
        title_html=highlight.mark(texts["title"], parts["title"]),
        snippet_html=snippet,
    )


def _split(spans: list, texts: dict) -> dict[str, list]:
    """Spans in the joined text, as spans in title, summary and body."""
    parts: dict[str, list] = {f: [] for f in TEXT_FIELDS}
    for field, start, end in field_bounds(texts):
        parts[field] = [(s - start, e - start) for s, e in spans if start <= s and e <= end]
    return parts


def _suggestion(searcher, req: Request, parsed, found: list[Hit], tuning, allowed) -> str | None:
    """The accented form of an accentless query, or a respelling of words the index never saw.

    A respelling replaces only unknown words (which find nothing) by indexed ones, so it is offered
    when it finds something: the corrected words find more than the typed ones did.

    Accents are restored from the index itself: the marked words of the top hits are the accented
    forms that actually matched ("khoa hoc" → "khoa học"). pyvi's ``add_accents`` guesses without
    the index and often wrongly ("khoa hộc", "giáo dực"), so it is not used.
    """
    if not req.q or parsed.required or parsed.excluded:
        return None
    if parsed.folded:
        candidate = _accented(req.q, found)
        return candidate if candidate.lower() != req.q.lower() else None
    candidate = _respelled(searcher, req.q)
    better = candidate.lower() != req.q.lower() and _count(searcher, candidate, tuning, allowed) > 0
    return candidate if better else None


_MARK = re.compile(r"<mark>(.*?)</mark>")


def _accented(typed: str, found: list[Hit]) -> str:
    """The accented form the top hits matched: a marked phrase that folds to the whole query if
    one exists ("cong dich vu cong" → "cổng dịch vụ công"), else each syllable's most frequent
    accented form among the marked matches, earlier hits weighing more."""
    marked = [
        (rank, html.unescape(m))
        for rank, hit in enumerate(found)
        for m in _MARK.findall(hit.title_html + hit.snippet_html)
    ]
    whole = fold(typed).split()
    for _rank, text in marked:
        if fold(text).split() == whole:
            return " ".join(
                _same_case(w.lower(), t) for w, t in zip(text.split(), typed.split(), strict=True)
            )
    forms: dict[str, Counter] = defaultdict(Counter)
    for rank, text in marked:
        for syllable in text.split():
            forms[fold(syllable)][syllable.lower()] += 1 / (rank + 1)
    words = []
    for word in typed.split():
        best = forms.get(fold(word))
        words.append(_same_case(best.most_common(1)[0][0], word) if best else word)
    return " ".join(words)


def _same_case(form: str, typed: str) -> str:
    """Keep the reader's own capitals."""
    if len(form) != len(typed):
        return form
    return "".join(c.upper() if t.isupper() else c for c, t in zip(form, typed, strict=True))


def _respelled(searcher, text: str) -> str:
    """Replace words the index has never seen with the closest indexed word."""
    corrector = searcher.corrector(query.TEXT)
    words = text.split()
    for i, word in enumerate(words[: query.MAX_WORDS]):
        key = exact_key(word)
        if not key.isalpha() or searcher.doc_frequency(query.TEXT, key):
            continue
        found = corrector.suggest(key, limit=1, maxdist=1, prefix=1)
        if found:
            words[i] = found[0]
    return " ".join(words)


def _count(searcher, text: str, tuning, allowed) -> int:
    """Matching articles among those the filters allow."""
    wq = query.build(query.parse(text), tuning, _doc_freq(searcher))
    return len(matching.match(matching.columns(searcher), wq, allowed))
