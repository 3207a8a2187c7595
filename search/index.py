"""``Index``: one object per process that reads, searches and writes one index directory.

Readers keep one Whoosh searcher open and check before each search whether the generation pointer
changed (one ``stat``) or the generation got a new commit (``up_to_date``): a running server sees a
rebuild or an incremental update without a restart, and pays almost nothing when nothing changed.
"""

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring

from search import generations, searching
from search.errors import IndexCorruptError, IndexUnreadableError
from search.query import DEFAULT_TUNING, TEXT, Tuning
from search.results import Hit, Results
from search.synonyms import Synonyms, from_environment
from search.writing import GenerationBuilder, Updater

RELATED_TERMS = 12
OPEN_ATTEMPTS = 5
CACHE_SIZE = 512
# Results kept per process, by their estimated size: ten queries with long snippets and wide facets
# once took a worker from 47 MB to 659 MB when only their count was bounded.
CACHE_BYTES = 64 * 2**20
# BM25F with half the usual length normalisation: a news article's length says how much detail the
# story has, not whether it is on topic. Set A (benchmarks/relevance.py, 199 VMDS topics over
# 23,125 articles), MRR@10 as written / without diacritics: B=0.75 0.926 / 0.933, B=0.5
# 0.938 / 0.939; flat for B 0.3-0.5; K1 0.8-2.0 moved it by less than 0.01.
WEIGHTING = scoring.BM25F(B=0.5, K1=1.2)


class Index:
    def __init__(
        self,
        path: str | Path,
        tuning: Tuning = DEFAULT_TUNING,
        workers: int | None = None,
        cache_size: int = CACHE_SIZE,
        cache_bytes: int = CACHE_BYTES,
        synonyms: Synonyms | None = None,
    ):
        self.path = Path(path)
        self.synonyms = synonyms or from_environment()  # the built-in set and VNSEARCH_SYNONYMS
        self._table = self.synonyms.table
        self.cache_size = cache_size
        self.cache_bytes = cache_bytes
        self.tuning = tuning
        self.workers = workers
        self._lock = threading.RLock()
        self._stamp: tuple[int, int] | None = None
        self._name: str | None = None
        self._searcher = None
        self._retired = None  # the searcher before last: closed one swap later, when no request uses it
        self._cache: dict[searching.Request, tuple[Results, int]] = {}  # emptied on every reopen
        self._cached_bytes = 0
        self._users: dict[int, int] = {}  # id(searcher) -> searches running on it
        self._open_searchers: dict[int, object] = {}  # replaced searchers not closed yet

    # --- reading -------------------------------------------------------------------------------

    def searcher(self):
        """The current Whoosh searcher (None for an index never built), refreshed if stale."""
        with self._lock:
            stamp = generations.pointer_stamp(self.path)
            if stamp != self._stamp or self._searcher is None:
                self._open_current(stamp)
            elif self._searcher is not None and not self._searcher.up_to_date():
                # Reopen rather than refresh(): Whoosh's refresh reuses segment readers that
                # keep their old deletions.
                self._open_current(stamp)
            return self._searcher

    def _open_current(self, stamp) -> None:
        """Open the generation the pointer names. A rebuild may switch and delete it between our
        reading the pointer and opening it: then the pointer has changed, and we follow it."""
        for _ in range(OPEN_ATTEMPTS - 1):
            try:
                return self._open(generations.current(self.path), stamp)
            except IndexCorruptError:
                now = generations.pointer_stamp(self.path)
                if now == stamp:
                    raise
                stamp = now
        return self._open(generations.current(self.path), stamp)

    def _open(self, name: str | None, stamp) -> None:
        searcher = None
        if name is not None:
            gen_dir = generations.generations_dir(self.path) / name
            generations.check_format(gen_dir)
            try:
                searcher = whoosh_index.open_dir(str(gen_dir)).searcher(weighting=WEIGHTING)
                self._probe(searcher)
            except PermissionError as exc:
                raise IndexUnreadableError(f"cannot read index generation {gen_dir}: {exc}") from exc
            except Exception as exc:  # whoosh reports damage as many types (EOFError, struct.error, ...)
                raise IndexCorruptError(
                    f"cannot open index generation {gen_dir} ({type(exc).__name__}: {exc}); "
                    "rebuild with 'vnsearch reindex'"
                ) from exc
        self._swap(searcher)
        self._name, self._stamp = name, stamp

    def _probe(self, searcher) -> None:
        """One small search before a generation is served: one that cannot be searched is reported
        as unusable (a 503, and /healthz says so) rather than failing every search."""
        try:
            searching.run(searcher, searching.make_request("", None, None, None, "newest", 1, 1), self.tuning)
        except BaseException:
            searcher.close()
            raise

    def _swap(self, searcher) -> None:
        self._retired, self._searcher = self._searcher, searcher
        if self._retired is not None:
            self._open_searchers[id(self._retired)] = self._retired
        self._close_unused()
        self._cache.clear()  # results of the old index must not outlive it
        self._cached_bytes = 0

    def _close_unused(self) -> None:
        """Close replaced searchers no search uses any more; the one before the current stays open
        one swap longer for callers that took ``searcher()`` without a lease."""
        for key, old in list(self._open_searchers.items()):
            if old is not self._retired and not self._users.get(key):
                del self._open_searchers[key]
                old.close()

    @contextlib.contextmanager
    def _using(self):
        """The current searcher, kept open until this search is done even if generations switch
        meanwhile (gthread workers search from several threads)."""
        with self._lock:
            s = self.searcher()
            if s is not None:
                self._users[id(s)] = self._users.get(id(s), 0) + 1
        try:
            yield s
        finally:
            if s is not None:
                with self._lock:
                    self._users[id(s)] -= 1
                    if not self._users[id(s)]:
                        del self._users[id(s)]
                        self._close_unused()

    @property
    def generation(self) -> str | None:
        self.searcher()
        return self._name

    def doc_count(self) -> int:
        with self._using() as s:
            return s.doc_count() if s else 0

    def search(
        self,
        q: str = "",
        date_from=None,
        date_to=None,
        category: str | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 10,
        group: bool = True,
        story: str | None = None,
    ) -> Results:
        """Ranked, filtered, faceted and highlighted search; see ``search.query`` for the syntax.

        ``group``: one hit per story, copies counted on it (``Hit.same_story``); ``story``: an
        article id, to list every article of its story.
        """
        started = time.perf_counter()
        req = searching.make_request(q, date_from, date_to, category, sort, page, per_page, group, story)
        table = self.synonyms.current()
        with self._using() as s:
            with self._lock:
                if table is not self._table:  # the synonyms file changed: results made with the old one go
                    self._table = table
                    self._cache.clear()
                    self._cached_bytes = 0
                cached = self._cache.get(req) if s is self._searcher else None
            if cached is not None:
                res = cached[0]
            elif s is None:
                res = Results(req.q, 0, req.page, req.per_page, 0.0, [], {}, None)
            else:
                res = searching.run(s, req, self.tuning, table)
                self._remember(s, req, res)
        return dataclasses.replace(res, took_ms=(time.perf_counter() - started) * 1000)

    def _remember(self, searcher, req: searching.Request, res: Results) -> None:
        """Keep recent results: readers repeat popular queries and page back and forth. Bounded by
        count and by bytes; results of a searcher replaced meanwhile, or approximate ones (the next
        request checks further), are not kept."""
        size = results_bytes(res)
        with self._lock:
            stale = searcher is not self._searcher
            if stale or res.approximate or size > self.cache_bytes or not self.cache_size:
                return
            old = self._cache.pop(req, None)
            self._cached_bytes += size - (old[1] if old else 0)
            self._cache[req] = (res, size)
            while len(self._cache) > self.cache_size or self._cached_bytes > self.cache_bytes:
                self._cached_bytes -= self._cache.pop(next(iter(self._cache)))[1]

    def get(self, article_id: str) -> dict | None:
        with self._using() as s:
            doc = s.document(id=article_id) if s else None
        if doc:
            doc.pop("starts", None)  # the index's own: where positions start, for highlighting
        if doc and doc.get("date"):
            doc["date"] = doc["date"].date()
        return doc

    def related(self, article_id: str, n: int = 5) -> list[Hit]:
        """More like this: the article's most distinctive title and body terms; one article per
        story, none of its own story (itself and its republished copies)."""
        with self._using() as s:
            docnum = s.document_number(id=article_id) if s else None
            if docnum is None:
                raise KeyError(article_id)
            stored = s.stored_fields(docnum)
            text = " ".join([stored.get("title", "")] * 2 + [stored.get("summary", "")])
            terms = s.key_terms_from_text(TEXT, text, numterms=RELATED_TERMS)
            if not terms:
                return []
            return searching.similar(s, Q.Or([Q.Term(TEXT, t, boost=w) for t, w in terms]), n, docnum)

    def stats(self) -> dict:
        """Generation, article count, date range, categories and size on disk."""
        newest = self.search("", sort="newest", per_page=1)
        oldest = self.search("", sort="oldest", per_page=1)
        return {
            "generation": self.generation,
            "articles": self.doc_count(),
            "date_min": oldest.hits[0].date if oldest.hits else None,
            "date_max": newest.hits[0].date if newest.hits else None,
            "categories": newest.facets.get("categories", {}),
            "size_bytes": _size(self.path),
        }

    # --- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def new_generation(self, min_share: float = 0.0, allow_empty: bool = True) -> Iterator[GenerationBuilder]:
        """Build a complete new generation; it becomes current only if the block ends cleanly, and
        only with at least ``min_share`` of the current one's articles (and any, unless
        ``allow_empty``): otherwise ``IndexShrinkError`` and the current generation stays."""
        with generations.write_lock(self.path):
            builder = GenerationBuilder(self.path, self.workers, min_share, allow_empty)
            with _finished(builder) as b:
                yield b

    @contextlib.contextmanager
    def updating(self) -> Iterator[Updater]:
        """Upsert and delete by id in the current generation (created empty if there is none)."""
        with generations.write_lock(self.path):
            if generations.current(self.path) is None:
                GenerationBuilder(self.path, self.workers).finish(True)
            with _finished(Updater(self.path, self.workers)) as updater:
                yield updater


@contextlib.contextmanager
def _finished(writer):
    """Commit the writer if the block ends cleanly, discard its work otherwise."""
    ok = False
    try:
        yield writer
        ok = True
    finally:
        writer.finish(ok)


def results_bytes(res: Results) -> int:
    """An estimate of what a Results holds in memory: its strings and a fixed cost per object."""
    strings = len(res.query) + len(res.suggestion or "")
    for hit in res.hits:
        strings += sum(len(v) for v in (hit.id, hit.title, hit.url, hit.category, hit.source) if v)
        strings += len(hit.title_html) + len(hit.snippet_html)
    facets = sum(len(label) + 100 for counts in res.facets.values() for label in counts)
    # CPython keeps Vietnamese text as 2 bytes a character (4 beyond the BMP); each Hit and its
    # strings cost about 600 bytes of object headers.
    return 500 + 2 * strings + facets + 600 * len(res.hits)


def _size(path: Path) -> int:
    """Bytes on disk; entries a concurrent reindex removes during the walk count as gone."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(root, name)).st_size
    return total
