"""Running a search on one Whoosh searcher: filters, sorting, facets, hits, suggestions."""

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from search import highlight, matching, query, suggest
from search.analysis import TEXT_FIELDS, field_bounds, joined
from search.codec import increasing_array
from search.errors import QueryError
from search.limits import MAX_DEPTH, MAX_ID_CHARS, MAX_PAGE, MAX_PER_PAGE
from search.results import Hit, Results
from search.schema import FOLDED_SUFFIX
from search.synonyms import Table

SORTS = ("relevance", "newest", "oldest")
# Candidates that get the phrase bonus before the first pages are cut. The bonus can triple a
# score, so a deep candidate can jump onto the first page on a phrase alone; 30 loads fewer stored
# fields than 50. Set A (benchmarks/relevance.py) R@10 without diacritics 0.8987 at 50 and 40,
# 0.9004 at 30, 0.8975 at 20 (MRR@10 as written 0.9375 at 20, 0.9424 at 30-50); set B equal at 30
# and 50 (MRR@10 0.999 both ways).
RERANK_DEPTH = 30
LEAD_CHARS = 400  # the lead of an article without a summary: about its first two sentences
BONUS_CHARS = 1000  # a title or summary is read this far for the bonus (news ones are far shorter)
# Checking where a query's words stand stops after this long in one request: the candidates left
# are counted on their syllables (flagged approximate) and checked on by the next requests.
MATCH_SECONDS = 0.05
SUGGEST_DEPTH = 20  # the best matches whose words restore a query's accents
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
    group: bool = True  # one hit per story (search.stories), the others counted on it
    story: str | None = None  # only the story of this article (every copy shown)


def make_request(q, date_from, date_to, category, sort, page, per_page, group=True, story=None) -> Request:
    """Check every parameter; a bad one is a QueryError that says which and why."""
    if not isinstance(q, str):
        raise QueryError("q must be text", param="q")
    if story is not None and (not isinstance(story, str) or len(story) > MAX_ID_CHARS):
        raise QueryError(f"story must be an article id of at most {MAX_ID_CHARS} characters", param="story")
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
    story = story or None
    return Request(
        q.strip(), start, end, category or None, sort, page, per_page, bool(group) and not story, story
    )


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


def run(searcher, req: Request, tuning: query.Tuning, synonyms: Table | None = None) -> Results:
    """Select what the query requires, rank it, count facets over it, and shape the page.

    The set, its count, facets and suggestion depend on the query, the filters and the index only:
    page, size and sort choose what is shown of it, never what it is.
    """
    doc_freq = _doc_freq(searcher)
    parsed = query.parse(req.q, doc_freq, synonyms, tuning)
    sort = req.sort if not (req.sort == "relevance" and parsed.is_empty()) else "newest"
    cols = matching.columns(searcher)
    allowed = matching.allowed(cols, req.date_from, req.date_to, req.category)
    if req.story:
        allowed &= _story_mask(searcher, cols, req.story)
    holders = matching.Holders(cols, MATCH_SECONDS)
    plan = query.plan(parsed, doc_freq, tuning, holders.count)
    selection = matching.select(holders, plan, allowed, tuning.long_words, tuning.long_share)
    found = matching.scored(cols, plan.score, selection.docnums)
    stored = functools.lru_cache(maxsize=None)(searcher.stored_fields)  # re-rank and page share them
    depth = req.page * req.per_page

    @functools.cache
    def by_relevance() -> list[tuple[int, float]]:
        return _ranked(cols, found, max(depth, SUGGEST_DEPTH), stored, parsed, tuning)

    def first(n: int) -> list[tuple[int, float]]:
        if sort == "relevance":
            return by_relevance() if n <= depth else _ranked(cols, found, n, stored, parsed, tuning)
        return matching.top(cols, found, n, sort)

    story_sizes = np.bincount(cols.stories[found.docnums], minlength=cols.n) if req.group else None
    ranked = _one_per_story(first, cols.stories, depth, len(found)) if req.group else first(depth)

    def best(p: query.Plan) -> list[tuple[int, float]]:
        """The best matches of the set (of a respelled query's set), whatever the page and sort."""
        if p is plan:
            return by_relevance()[:SUGGEST_DEPTH]
        chosen = matching.select(holders, p, allowed, tuning.long_words, tuning.long_share)
        return matching.top(cols, matching.scored(cols, p.score, chosen.docnums), SUGGEST_DEPTH, "relevance")

    shown = ranked[(req.page - 1) * req.per_page : req.page * req.per_page]
    marks = plan.marks(selection.required + selection.dropped)
    return Results(
        query=req.q,
        total=len(found),
        page=req.page,
        per_page=req.per_page,
        took_ms=0.0,
        hits=_counted(hits(searcher, marks, shown, stored), shown, cols, story_sizes),
        facets={name: _facet(name, matching.facet_counts(cols, found, col)) for name, col in FACETS.items()},
        suggestion=suggest.suggestion(searcher, parsed, plan, best, stored, doc_freq),
        relaxed=selection.relaxed,
        required=[n.text for n in selection.required],
        dropped=[n.text for n in selection.dropped],
        min_words=selection.minimum,
        approximate=selection.approximate,
        searched=parsed.searched if parsed.rewrites else None,
        rewrites=[{**dataclasses.asdict(r), "also": list(r.also)} for r in parsed.rewrites],
        stories=int(np.count_nonzero(story_sizes)) if req.group else None,
    )


def _story_mask(searcher, cols, article_id: str) -> np.ndarray:
    """The articles of the story ``article_id`` belongs to."""
    docnum = searcher.document_number(id=article_id)
    if docnum is None or not cols.live[docnum]:
        raise QueryError(f"story: no article with id {article_id[:80]!r}", param="story")
    return cols.stories == cols.stories[docnum]


def _one_per_story(first, labels: np.ndarray, depth: int, total: int) -> list[tuple[int, float]]:
    """The first ``depth`` hits of ``first(n)`` (the best n of the set) that each open a story:
    copies are skipped. Most stories have one article, so twice the depth usually suffices."""
    wanted = 2 * depth
    while True:
        shown, seen = [], set()
        candidates = first(wanted)
        for docnum, score in candidates:
            label = int(labels[docnum])
            if label not in seen:
                seen.add(label)
                shown.append((docnum, score))
                if len(shown) == depth:
                    return shown
        if len(candidates) < wanted or wanted >= total:
            return shown
        wanted *= 4


def _counted(found: list[Hit], shown, cols, story_sizes) -> list[Hit]:
    """Hits with the number of other articles of their story in the set."""
    if story_sizes is None:
        return found
    return [
        dataclasses.replace(hit, same_story=int(story_sizes[cols.stories[d]]) - 1)
        for hit, (d, _) in zip(found, shown, strict=True)
    ]


def _ranked(cols, found, depth: int, stored, parsed, tuning: query.Tuning) -> list[tuple[int, float]]:
    """The first ``depth`` by relevance, the first ``RERANK_DEPTH`` re-ranked by the phrase bonus."""
    top = matching.top(cols, found, max(depth, RERANK_DEPTH), "relevance")
    if query.phrase_bonus_applies(parsed, tuning):
        top = _reranked(stored, top, parsed, tuning)
    return top[:depth]


def similar(searcher, wq, n: int, source: int) -> list[Hit]:
    """The best ``n`` hits of a query built by the caller (related articles), unmarked, one per
    story and none of the story of ``source`` (its copies are not other coverage)."""
    cols = matching.columns(searcher)
    found = matching.match(cols, wq, cols.live & (cols.stories != cols.stories[source]))
    shown = _one_per_story(lambda k: matching.top(cols, found, k, "relevance"), cols.stories, n, len(found))
    return hits(searcher, [], shown)


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
    """Articles whose text holds the key."""

    def count(key: str, folded: bool) -> int:
        return searcher.doc_frequency(query.TEXT + (FOLDED_SUFFIX if folded else ""), key)

    return count


def _facet(name: str, counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=_facet_order(name)))


def _facet_order(name: str):
    if name == "categories":
        return lambda kv: (-kv[1], kv[0] or "")
    return lambda kv: kv[0] or ""


def hits(searcher, marks: list, shown: list[tuple[int, float]], stored=None) -> list[Hit]:
    """Hits from (docnum, score) pairs (score 0 when sorted by date), with ``marks`` (see
    ``query.Plan.marks``) highlighted where they matched; ``stored`` reads stored fields."""
    stored = stored or searcher.stored_fields
    matched = matching.marked(searcher.reader(), marks, [d for d, _ in shown])
    return [_hit(stored(d), matched[d], score) for d, score in shown]


def _hit(stored: dict, matched: list, score: float) -> Hit:
    texts = {f: stored.get(f, "") for f in TEXT_FIELDS}
    spans = highlight.spans(joined(texts), increasing_array(stored["starts"]), matched)
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
