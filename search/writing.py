"""Writers: build a new generation, or upsert/delete in the current one.

Segmentation (pyvi) and filing postings are the cost of indexing, so a new generation is written
by one worker process per core, each into its own Whoosh segment (``write_segments``); the commit
lists the segments together. Upserts need one writer that sees every segment (to delete the old
version), so ``prepare_many`` segments and encodes in workers and that writer only files postings.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import functools
import gc
import itertools
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from whoosh import index as whoosh_index

from search import complete, generations, stories, whoosh_private
from search.analysis import Analyzed, is_syllable, joined, segment_article, text_boosts
from search.codec import CompactCodec, pack_increasing
from search.errors import IndexCorruptError, SearchError
from search.schema import FOLDED_SUFFIX, Postings, build_schema, display_fields
from search.termpool import TermPool
from search.text import nfc
from search.whoosh_private import FileStorage

Progress = Callable[[int], None] | None
# Called with an article that could not be indexed and the reason; the rest is still indexed.
OnError = Callable[[Mapping, str], None] | None
WRITER_LIMIT_MB = 256
# Postings a segment worker holds before it finishes that segment and starts another (TermPool's
# estimate): with pyvi's model and the process itself, a worker stays under 1 GB at any size.
POOL_LIMIT_MB = 512
CHUNK = 16
IN_FLIGHT_PER_WORKER = 4
POLL_SECONDS = 0.5  # how often a parent waiting on its workers checks that they are all alive
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class IndexingError(SearchError):
    """An indexing worker died or failed; nothing was switched in, the lock is released."""


def prepare_many(articles: Iterable[Mapping], workers: int | None = None) -> Iterator[dict | Failed]:
    """Whoosh documents in input order, segmented and turned into postings on every core; an
    article that cannot be analysed comes out as ``Failed``.

    At most a few chunks per worker are in flight, so memory stays bounded for any input size. A
    worker that dies (killed, out of memory) ends this within ``POLL_SECONDS`` with an
    ``IndexingError`` instead of waiting forever for its chunk.
    """
    workers = _workers(workers)
    if workers == 1:
        yield from map(_document_or_failure, articles)
        return
    ctx = multiprocessing.get_context("fork")  # workers inherit pyvi's model already in memory
    jobs, results = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=_prepare_worker, args=(jobs, results, os.getpid()), daemon=True)
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    waiting = _Waiting(results, procs)
    try:
        pending: dict[int, list] = {}
        next_out, sent = 0, 0
        for seq, chunk in enumerate(_batches(articles, CHUNK)):
            jobs.put((seq, chunk))
            sent = seq + 1
            while sent - next_out >= IN_FLIGHT_PER_WORKER * workers:
                next_out = yield from _in_order(waiting, pending, next_out)
        while next_out < sent:
            next_out = yield from _in_order(waiting, pending, next_out)
        for _ in procs:
            jobs.put(None)
    finally:
        _stop(procs, jobs, waiting)


def _in_order(waiting: _Waiting, pending: dict[int, list], next_out: int):
    """Wait for one more prepared chunk; yield every chunk that is now next in input order."""
    seq, docs = waiting.take()
    pending[seq] = docs
    while next_out in pending:
        yield from pending.pop(next_out)
        next_out += 1
    return next_out


def _prepare_worker(jobs, results, parent: int) -> None:
    _exit_with(parent)
    try:
        while (job := jobs.get()) is not None:
            seq, chunk = job
            results.put(("chunk", (seq, [_document_or_failure(art) for art in chunk])))
    except BaseException as exc:
        results.put(("error", _describe(exc)))


def _stop(procs: list, jobs, waiting: _Waiting) -> None:
    """Workers are done or the work failed: none may outlive this call, and no queue's feeder
    thread may keep this process from exiting. The jobs' feeder waits for a reader that is gone;
    the report that wakes the receiver waits for the queue's write lock, which a worker killed in
    the middle of a report holds forever."""
    for proc in procs:
        proc.join(timeout=0 if proc.exitcode is not None else 2)
        if proc.is_alive():
            proc.kill()
            proc.join()
    received = waiting.close()
    for q in (jobs, waiting.results):
        q.cancel_join_thread()
    jobs.close()
    if received:
        waiting.results.close()


class _Waiting:
    """Takes what workers report, noticing within ``POLL_SECONDS`` when one of them is gone.

    A thread receives the reports: a worker killed in the middle of putting one leaves half a
    message in the pipe, and a receive waits for the rest forever, so it must not be this thread
    that waits. ``close`` ends the receiver with a report of its own.
    """

    def __init__(self, results, procs: list):
        self.results, self.procs = results, procs
        self._inbox: queue.Queue = queue.Queue()
        self._receiver = threading.Thread(target=self._receive, daemon=True)
        self._receiver.start()

    def _receive(self) -> None:
        try:
            while (report := self.results.get())[0] != "closed":
                self._inbox.put(report)
        except BaseException:  # a torn message or a closed queue: the work is over
            return

    def close(self) -> bool:
        """Stop the receiver; False when it stays stuck on a torn message (its pipe must stay open,
        or the descriptor could be reused under it)."""
        if self._receiver.is_alive():
            self.results.put(("closed", None))
            self._receiver.join(timeout=1)
        return not self._receiver.is_alive()

    def take(self, block: bool = True) -> tuple[str, object] | tuple[int, list]:
        while True:
            try:
                kind, value = self._inbox.get(timeout=POLL_SECONDS) if block else self._inbox.get_nowait()
            except queue.Empty:
                self.check_alive()
                if not block:
                    return "", None
                continue
            if kind == "error":
                raise IndexingError(f"an indexing worker failed: {value}; nothing was switched in")
            return value if kind == "chunk" else (kind, value)

    def check_alive(self) -> None:
        """Workers here exit only when told to: any exit before that is a death."""
        for proc in self.procs:
            if proc.exitcode is not None:
                raise _died(proc)


def _died(proc) -> IndexingError:
    code = proc.exitcode
    how = f"killed by signal {-code}" if code < 0 else f"exit code {code} without reporting its work"
    return IndexingError(f"an indexing worker (pid {proc.pid}) died ({how}); nothing was switched in")


def _describe(exc: BaseException) -> str:
    """An error as text: whatever the exception holds, text always crosses the process boundary."""
    try:
        return f"{type(exc).__name__}: {exc}"
    except BaseException:  # an exception whose __str__ fails
        return type(exc).__name__


class Failed:
    """An article the analysis could not index, and why (reported as a rejection, not raised)."""

    __slots__ = ("article", "reason")

    def __init__(self, article: Mapping, reason: str):
        self.article, self.reason = article, reason


def _document_or_failure(article: Mapping) -> dict | Failed:
    _required_id(article)  # a caller's bug, not a bad record: raised
    try:
        return document(article)
    except Exception as exc:  # one record's failure must not cost the others theirs
        return Failed({"id": article.get("id"), "origin": article.get("origin")}, _describe(exc))


def _workers(asked: int | None) -> int:
    """Worker processes to use: as asked, else one per core."""
    return asked or os.cpu_count() or 1


def _batches(items: Iterable, size: int) -> Iterator[tuple]:
    it = iter(items)
    while batch := tuple(itertools.islice(it, size)):
        yield batch


@functools.cache
def _schema():
    return build_schema()


def _postings(field: str, value: Analyzed) -> Postings:
    return Postings(list(_schema()[field].index(value)))


def document(article: Mapping) -> dict:
    """Whoosh field values for one article: the expensive part (pyvi, postings) of indexing."""
    _check_unicode(article)
    seg = segment_article(article)
    date = _as_datetime(article.get("date"))
    doc = {
        "id": _required_id(article),
        "url": nfc(article.get("url") or ""),
        "date": date,
        "undated": 0 if date else 1,
        "year": f"{date:%Y}" if date else "",
        "month": f"{date:%Y-%m}" if date else "",
        "category": nfc(article.get("category") or ""),
        "source": nfc(article.get("source") or ""),
        "story": stories.signature([k for k, *_ in seg["text"] if is_syllable(k)]),
    }
    texts = seg["texts"]
    doc.update(texts)
    doc.update(display_fields(article))
    whole, boosts = joined(texts), text_boosts(texts)
    doc["starts"] = pack_increasing(seg["starts"])
    for field, value in (
        ("text", Analyzed(whole, seg["text"], boosts)),
        ("title_words", Analyzed(texts["title"], seg["title"])),
    ):
        doc[field] = _postings(field, value)
        doc[field + FOLDED_SUFFIX] = _postings(field + FOLDED_SUFFIX, value.folded())
    return {k: v for k, v in doc.items() if v is not None}


def _check_unicode(article: Mapping) -> None:
    """Text that is not valid Unicode (a lone surrogate from a JSON escape, NUL) fails here, for this
    article alone, instead of deep in Whoosh halfway through adding it."""
    for name, value in article.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise ValueError(f"invalid Unicode in {name}: NUL character at {value.index(chr(0))}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"invalid Unicode in {name}: {exc.reason} at {exc.start}") from None


def _required_id(article: Mapping) -> str:
    value = article.get("id")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"article without an id: {str(article.get('title'))[:80]!r}")
    return value.strip()


def _checked_ids(articles: Iterable[Mapping]) -> Iterator[Mapping]:
    """Articles, each with an id: checked here, before a worker gets it (a caller's bug is raised)."""
    for article in articles:
        _required_id(article)
        yield article


def _as_datetime(value: object) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


def _file_all(
    write: Callable,
    articles: Iterable[Mapping],
    prepare: Callable[[Iterable[Mapping]], Iterator[dict | Failed]],
    progress: Progress,
    on_error: OnError,
) -> int:
    """Hand each document ``prepare`` made to the Whoosh writer; returns how many."""
    n = 0
    for doc in prepare(_checked_ids(articles)):
        if isinstance(doc, Failed):
            _failed(doc, on_error)
        else:
            write(**doc)
            n += 1
        if progress:
            progress(1)
    return n


def _failed(failure: Failed, on_error: OnError) -> None:
    if on_error is None:
        raise ValueError(f"article {failure.article.get('id')!r} cannot be indexed: {failure.reason}")
    on_error(failure.article, failure.reason)


def write_segments(
    path: Path, articles: Iterable[Mapping], workers: int, progress: Progress, on_error: OnError = None
) -> tuple[list, int]:
    """Index articles in ``workers`` processes that each write their own Whoosh segment of ``path``.

    The whole cost of indexing then spreads over every core; this process only reads the input
    and hands out chunks (a bounded queue keeps memory flat). Returns (segments, articles added).
    A worker that dies or fails ends this within seconds with an ``IndexingError``.
    """
    ctx = multiprocessing.get_context("fork")  # workers inherit pyvi's model already in memory
    jobs, results = ctx.Queue(IN_FLIGHT_PER_WORKER * workers), ctx.Queue()
    args = (str(path), jobs, results, os.getpid())
    procs = [ctx.Process(target=_segment_worker, args=args, daemon=True) for _ in range(workers)]
    for proc in procs:
        proc.start()
    reports = _Reports(results, procs, progress, on_error)
    try:
        for chunk in itertools.chain(_batches(_checked_ids(articles), CHUNK), [None] * workers):
            reports.put(jobs, chunk)
        return reports.segments(), reports.added
    finally:
        _stop(procs, jobs, reports)


def _segment_worker(path: str, jobs, results, parent: int) -> None:
    """Add every chunk of articles to new segments; report progress, then the segments.

    Postings are held per term (``TermPool``) and written in term order when a segment is
    finished: no sort of every posting, no spilled runs to merge. A pool that reaches
    ``POOL_LIMIT_MB`` finishes its segment and the worker starts another, so memory stays bounded
    for any archive.

    What a chunk leaves alive (the pool's postings, until their segment is finished) is frozen out
    of the cyclic garbage collector's reach: its full passes walked the whole growing pool again
    and again (5–11 % of an 8,000-article worker's CPU, two runs) and never found garbage in it.
    Whatever is freed later is still freed by reference counting."""
    _exit_with(parent)
    try:
        segments = PooledSegments(path)
        while (chunk := jobs.get()) is not None:
            failures = []
            for article in chunk:
                doc = _document_or_failure(article)
                if isinstance(doc, Failed):
                    failures.append((doc.article, doc.reason))
                else:
                    segments.add_document(**doc)
            results.put(("added", (len(chunk) - len(failures), failures)))
            gc.freeze()  # see above
        results.put(("segments", segments.finish()))
    except BaseException as exc:  # as text: an exception that cannot be pickled would be lost
        results.put(("error", _describe(exc)))


class PooledSegments:
    """Documents filed into new segments of the generation at ``path`` through a ``TermPool``; a
    full pool finishes its segment and the next document starts another. ``finish`` returns the
    segments for the generation's commit to list.

    A segment writer is opened only for a document to file: Whoosh's writers of one generation
    share a temporary directory, so one must never be cancelled while another writes."""

    def __init__(self, path: str | Path):
        self._ix = whoosh_index.open_dir(str(path))
        self._writer, self._done = None, []

    def add_document(self, **doc) -> None:
        if self._writer is None:
            pool = TermPool(POOL_LIMIT_MB * 2**20)
            self._writer = whoosh_private.segment_writer(self._ix, WRITER_LIMIT_MB, CompactCodec(), pool=pool)
        whoosh_private.file_document(self._writer, doc)
        if self._writer.pool.full():
            self._done.append(whoosh_private.finish_segment(self._writer))
            self._writer = None

    def finish(self) -> list:
        if self._writer is not None:
            self._done.append(whoosh_private.finish_segment(self._writer))
            self._writer = None  # finished: nothing left for close
        return self._done

    def close(self) -> None:
        """Close the open segment's files, when the generation they belong to is discarded."""
        if self._writer is not None:
            whoosh_private.close_segment(self._writer)
            self._writer = None


def _exit_with(parent: int) -> None:
    """A worker must not outlive a killed indexer: it holds the inherited write lock (an flock)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class _Reports(_Waiting):
    """What the segment workers report: progress, finished segments, or the error that stops all."""

    def __init__(self, results, procs: list, progress: Progress, on_error: OnError):
        super().__init__(results, procs)
        self.progress, self.on_error = progress, on_error
        self.added, self.done = 0, []

    def put(self, jobs, chunk) -> None:
        """Queue a chunk, taking reports while the queue is full (a failed worker stops the feed)."""
        while True:
            self._drain(block=False)
            try:
                jobs.put(chunk, timeout=0.2)
                return
            except queue.Full:
                continue

    def segments(self) -> list:
        while len(self.done) < len(self.procs):
            self._drain(block=True)
        return [segment for segments in self.done for segment in segments]

    def _drain(self, block: bool) -> None:
        while True:
            kind, value = self.take(block)
            if kind == "added":
                added, failures = value
                self.added += added
                for article, reason in failures:
                    _failed(Failed(article, reason), self.on_error)
                if self.progress:
                    self.progress(added + len(failures))
            elif kind == "segments":
                self.done.append(value)
            elif not kind:
                return
            if block:
                return

    def check_alive(self) -> None:
        exited = [p for p in self.procs if p.exitcode is not None]
        if len(exited) > len(self.done) or any(p.exitcode != 0 for p in exited):
            raise _died(next((p for p in exited if p.exitcode != 0), exited[0]))


class _DurableStorage(FileStorage):
    """Whoosh's file storage whose one rename (a new table of contents over the segment files it
    names) happens only after those files and the directory are on disk, and is itself made durable
    before the commit returns."""

    def rename_file(self, oldname, newname, safe=False):
        generations.fsync_tree(Path(self.folder))
        super().rename_file(oldname, newname, safe=safe)
        generations.fsync_dir(Path(self.folder))


def _writer(ix):
    """A Whoosh writer whose new and merged segments use the compact posting blocks."""
    return ix.writer(limitmb=WRITER_LIMIT_MB, codec=CompactCodec())


def _formats(schema) -> dict[str, type]:
    # Workers encode postings with build_schema()'s formats, whatever the open index says.
    return {name: type(field.format) for name, field in schema.items() if field.format}


class GenerationBuilder:
    """Writes a complete new generation; ``commit`` switches it in, ``abort`` discards it.

    ``min_share`` and ``allow_empty`` keep a live index from being replaced by less by mistake:
    with fewer articles than ``min_share`` of the current generation's, or none at all, the new
    generation is discarded and ``IndexShrinkError`` raised.
    """

    def __init__(
        self,
        root: Path,
        workers: int | None = None,
        min_share: float = 0.0,
        allow_empty: bool = True,
        scheduler: str | None = None,
    ):
        self.root = root
        self.workers = workers
        self.scheduler = scheduler  # a Dask scheduler's address: articles are prepared on its cluster
        self.min_share, self.allow_empty = min_share, allow_empty
        generations.remove_unfinished(root)  # leftovers of a killed or failed build
        self.name = generations.next_name(root)
        self.path = generations.generations_dir(root) / (self.name + generations.BUILDING)
        self.path.mkdir(parents=True)
        generations.write_format(self.path)
        self._writer = _writer(_DurableStorage(str(self.path)).create_index(build_schema()))
        self._segments: list = []  # written by worker processes, listed at commit
        self.added = 0
        self.aborted = False

    def add(self, article: Mapping) -> None:
        self._writer.add_document(**document(article))
        self.added += 1

    def add_many(
        self, articles: Iterable[Mapping], progress: Progress = None, on_error: OnError = None
    ) -> int:
        """Add articles (segmented and written on every core); returns how many were added.

        An article whose analysis fails is handed to ``on_error`` with the reason (raised as a
        ``ValueError`` without one); the others are still added."""
        workers = _workers(self.workers)
        if self.scheduler or workers == 1:  # prepared on a Dask cluster or here, filed here
            if self.scheduler:
                from search.distributed import prepare_on_cluster

                prepare = functools.partial(prepare_on_cluster, self.scheduler)
            else:
                prepare = functools.partial(prepare_many, workers=1)
            filed = PooledSegments(self.path)
            try:
                added = _file_all(filed.add_document, articles, prepare, progress, on_error)
                self._segments += filed.finish()
            except BaseException:
                filed.close()
                raise
        else:
            segments, added = write_segments(self.path, articles, workers, progress, on_error)
            self._segments += segments
        self.added += added
        return added

    def check_size(self, articles: int) -> None:
        """Raise ``IndexShrinkError`` if a generation of ``articles`` may not replace the current one."""
        generations.check_shrink(self.root, articles, self.min_share, self.allow_empty)

    def abort(self) -> None:
        """Leave the current generation as it is."""
        self.aborted = True

    def finish(self, ok: bool) -> None:
        """Switch the new generation in, or discard it; a failed switch discards it too."""
        if ok and not self.aborted:
            try:
                self.check_size(self.added)
                whoosh_private.list_segments(self._writer, self._segments)
                self._writer.commit(merge=False)  # big segments stay apart: merging is one core's work
                complete.write(self.path)
                generations.write_manifest(self.path, self.name, self.added)
                generations.publish(self.root, self.path, self.name)
            except BaseException:
                with contextlib.suppress(Exception):  # close what the failed commit left open
                    self._writer.cancel()
                generations.remove_unfinished(self.root)
                raise
            generations.remove_all_but(self.root, self.name)
        else:
            try:
                self._writer.cancel()
            finally:  # even when cancelling fails too (a full disk), the half-built generation goes
                generations.remove_unfinished(self.root)


class Updater:
    """Upserts and deletes by id in the current generation, committed together at the end.

    Made while holding the write lock, so it first clears what a killed writer left: unfinished
    generations, and files in the live generation that its table of contents does not name.
    """

    def __init__(self, root: Path, workers: int | None = None):
        name = generations.current(root)
        if name is None:
            raise FileNotFoundError(f"no index at {root} yet: build one with a full reindex first")
        self.workers = workers
        path = generations.generations_dir(root) / name
        generations.check_format(path)
        generations.remove_unfinished(root)
        ix = _DurableStorage(str(path)).open_index()
        if _formats(ix.schema) != _formats(build_schema()):
            raise IndexCorruptError(
                f"the index at {root} was built by an older vnsearch that encodes postings differently; "
                "rebuild it with 'vnsearch reindex'"
            )
        generations.remove_orphans(path, whoosh_private.live_files(ix))
        self._ix, self._path, self._name = ix, path, name
        self._writer = _writer(ix)

    def upsert(self, article: Mapping) -> None:
        self._writer.update_document(**document(article))

    def upsert_many(
        self, articles: Iterable[Mapping], progress: Progress = None, on_error: OnError = None
    ) -> int:
        prepare = functools.partial(prepare_many, workers=self.workers)
        return _file_all(self._writer.update_document, articles, prepare, progress, on_error)

    def delete(self, article_id: str) -> int:
        return self._writer.delete_by_term("id", article_id)

    def finish(self, ok: bool) -> None:
        if not ok:
            self._writer.cancel()
            return
        self._writer.commit()
        with self._ix.reader() as reader:  # the manifest follows the commit: replicas copy both
            articles = reader.doc_count()
        generations.write_manifest(self._path, self._name, articles)
        generations.fsync_dir(self._path)
