"""Writers: build a new generation, or upsert/delete in the current one.

Segmentation (pyvi) and filing postings are the cost of indexing, so a new generation is written
by one worker process per core, each into its own Whoosh segment (``write_segments``); the commit
lists the segments together. Upserts need one writer that sees every segment (to delete the old
version), so ``prepare_many`` segments and encodes in workers and that writer only files postings.
"""

import contextlib
import ctypes
import datetime as dt
import functools
import itertools
import multiprocessing
import os
import queue
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from search import generations
from search.analysis import Analyzed, joined, segment_article, text_boosts
from search.codec import CompactCodec, pack_increasing
from search.errors import IndexCorruptError
from search.schema import FOLDED_SUFFIX, Postings, build_schema
from search.text import nfc

Progress = Callable[[int], None] | None
WRITER_LIMIT_MB = 256
CHUNK = 16
IN_FLIGHT_PER_WORKER = 4
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def prepare_many(articles: Iterable[Mapping], workers: int | None = None) -> Iterator[dict]:
    """Whoosh documents in input order, segmented and turned into postings on every core.

    At most a few chunks per worker are in flight, so memory stays bounded for any input size.
    """
    workers = _workers(workers)
    if workers == 1:
        yield from map(document, articles)
        return
    ctx = multiprocessing.get_context("fork")  # workers inherit pyvi's model already in memory
    with ctx.Pool(workers, initializer=_exit_with, initargs=(os.getpid(),)) as pool:
        in_flight: deque = deque()
        for chunk in _batches(articles, CHUNK):
            in_flight.append(pool.apply_async(_segment_chunk, (chunk,)))
            if len(in_flight) >= IN_FLIGHT_PER_WORKER * workers:
                yield from in_flight.popleft().get()
        while in_flight:
            yield from in_flight.popleft().get()


def _workers(asked: int | None) -> int:
    """Worker processes to use: as asked, else one per core."""
    return asked or os.cpu_count() or 1


def _batches(items: Iterable, size: int) -> Iterator[tuple]:
    it = iter(items)
    while batch := tuple(itertools.islice(it, size)):
        yield batch


def _segment_chunk(chunk: tuple[Mapping, ...]) -> list[dict]:
    return [document(art) for art in chunk]


@functools.cache
def _schema():
    return build_schema()


def _postings(field: str, value: Analyzed) -> Postings:
    return Postings(list(_schema()[field].index(value)))


def document(article: Mapping) -> dict:
    """Whoosh field values for one article: the expensive part (pyvi, postings) of indexing."""
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
    }
    texts = seg["texts"]
    doc.update(texts)
    whole, boosts = joined(texts), text_boosts(texts)
    doc["starts"] = pack_increasing(seg["starts"])
    doc["text"] = _postings("text", Analyzed(whole, seg["text"], boosts))
    doc["text" + FOLDED_SUFFIX] = _postings("text" + FOLDED_SUFFIX, Analyzed(whole, seg["text_f"], boosts))
    doc["title_words"] = _postings("title_words", Analyzed(texts["title"], seg["title"]))
    doc["title_words" + FOLDED_SUFFIX] = _postings(
        "title_words" + FOLDED_SUFFIX, Analyzed(texts["title"], seg["title_f"])
    )
    return {k: v for k, v in doc.items() if v is not None}


def _required_id(article: Mapping) -> str:
    value = article.get("id")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"article without an id: {str(article.get('title'))[:80]!r}")
    return value.strip()


def _as_datetime(value: object) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


def _file_all(write: Callable, articles: Iterable[Mapping], workers: int | None, progress: Progress) -> int:
    """Hand each prepared document to the Whoosh writer; returns how many."""
    n = 0
    for doc in prepare_many(articles, workers):
        write(**doc)
        n += 1
        if progress:
            progress(1)
    return n


def write_segments(
    path: Path, articles: Iterable[Mapping], workers: int, progress: Progress
) -> tuple[list, int]:
    """Index articles in ``workers`` processes that each write their own Whoosh segment of ``path``.

    The whole cost of indexing then spreads over every core; this process only reads the input
    and hands out chunks (a bounded queue keeps memory flat). Returns (segments, articles added).
    """
    ctx = multiprocessing.get_context("fork")  # workers inherit pyvi's model already in memory
    jobs, results = ctx.Queue(IN_FLIGHT_PER_WORKER * workers), ctx.Queue()
    args = (str(path), jobs, results, os.getpid())
    procs = [ctx.Process(target=_segment_worker, args=args) for _ in range(workers)]
    for proc in procs:
        proc.start()
    reports = _Reports(results, procs, progress)
    try:
        for chunk in itertools.chain(_batches(articles, CHUNK), [None] * workers):
            reports.put(jobs, chunk)
        return reports.segments(), reports.added
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # only after a failure: a finished worker has exited
            proc.join()


def _segment_worker(path: str, jobs, results, parent: int) -> None:
    """Add every chunk of articles to one new segment; report progress, then the segment."""
    _exit_with(parent)
    try:
        writer = SegmentWriter(
            whoosh_index.open_dir(path), _lk=False, limitmb=WRITER_LIMIT_MB, codec=CompactCodec()
        )
        while (chunk := jobs.get()) is not None:
            for article in chunk:
                writer.add_document(**document(article))
            results.put(("added", len(chunk)))
        # As Whoosh's own multi-process writer does: write the segment, let the parent list it.
        results.put(("segment", writer._finalize_segment() if writer._added else None))
    except BaseException as exc:
        results.put(("error", exc))


def _exit_with(parent: int) -> None:
    """A worker must not outlive a killed indexer: it holds the inherited write lock (an flock)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class _Reports:
    """What the segment workers report: progress, finished segments, or the error that stops all."""

    def __init__(self, results, procs: list, progress: Progress):
        self.results, self.procs, self.progress = results, procs, progress
        self.added, self.done = 0, []

    def put(self, jobs, chunk) -> None:
        """Queue a chunk, taking reports while the queue is full (a failed worker stops the feed)."""
        while True:
            self._take(block=False)
            try:
                jobs.put(chunk, timeout=0.2)
                return
            except queue.Full:
                continue

    def segments(self) -> list:
        while len(self.done) < len(self.procs):
            self._take(block=True)
        return [s for s in self.done if s is not None]

    def _take(self, block: bool) -> None:
        while True:
            try:
                kind, value = self.results.get(timeout=1.0) if block else self.results.get_nowait()
            except queue.Empty:
                self._check_alive()
                if not block:
                    return
                continue
            if kind == "error":
                raise value
            if kind == "added":
                self.added += value
                if self.progress:
                    self.progress(value)
            else:
                self.done.append(value)
            if block:
                return

    def _check_alive(self) -> None:
        dead = [p.exitcode for p in self.procs if p.exitcode not in (None, 0)]
        if dead:
            raise RuntimeError(f"an indexing worker died (exit code {dead[0]}); nothing was switched in")


def _writer(ix):
    """A Whoosh writer whose new and merged segments use the compact posting blocks."""
    return ix.writer(limitmb=WRITER_LIMIT_MB, codec=CompactCodec())


def _formats(schema) -> dict[str, type]:
    # Workers encode postings with build_schema()'s formats, whatever the open index says.
    return {name: type(field.format) for name, field in schema.items() if field.format}


class GenerationBuilder:
    """Writes a complete new generation; ``commit`` switches it in, ``abort`` discards it."""

    def __init__(self, root: Path, workers: int | None = None):
        self.root = root
        self.workers = workers
        generations.remove_unfinished(root)  # leftovers of a killed or failed build
        self.name = generations.next_name(root)
        self.path = generations.generations_dir(root) / (self.name + generations.BUILDING)
        self.path.mkdir(parents=True)
        self._writer = _writer(whoosh_index.create_in(str(self.path), build_schema()))
        self._segments: list = []  # written by worker processes, listed at commit
        self.aborted = False

    def add(self, article: Mapping) -> None:
        self._writer.add_document(**document(article))

    def add_many(self, articles: Iterable[Mapping], progress: Progress = None) -> int:
        """Add articles (segmented and written on every core); returns how many were added."""
        workers = _workers(self.workers)
        if workers == 1:
            return _file_all(self._writer.add_document, articles, 1, progress)
        segments, added = write_segments(self.path, articles, workers, progress)
        self._segments += segments
        return added

    def abort(self) -> None:
        """Leave the current generation as it is."""
        self.aborted = True

    def finish(self, ok: bool) -> None:
        """Switch the new generation in, or discard it; a failed switch discards it too."""
        if ok and not self.aborted:
            try:
                self._writer.segments = self._writer.segments + self._segments
                self._writer.commit(merge=False)  # big segments stay apart: merging is one core's work
                os.rename(self.path, self.path.with_name(self.name))
                generations.switch(self.root, self.name)
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
    """Upserts and deletes by id in the current generation, committed together at the end."""

    def __init__(self, root: Path, workers: int | None = None):
        name = generations.current(root)
        if name is None:
            raise FileNotFoundError(f"no index at {root} yet: build one with a full reindex first")
        self.workers = workers
        ix = whoosh_index.open_dir(str(generations.generations_dir(root) / name))
        if _formats(ix.schema) != _formats(build_schema()):
            raise IndexCorruptError(
                f"the index at {root} was built by an older vnsearch that encodes postings differently; "
                "rebuild it with 'vnsearch reindex'"
            )
        self._writer = _writer(ix)

    def upsert(self, article: Mapping) -> None:
        self._writer.update_document(**document(article))

    def upsert_many(self, articles: Iterable[Mapping], progress: Progress = None) -> int:
        return _file_all(self._writer.update_document, articles, self.workers, progress)

    def delete(self, article_id: str) -> int:
        return self._writer.delete_by_term("id", article_id)

    def finish(self, ok: bool) -> None:
        if ok:
            self._writer.commit()
        else:
            self._writer.cancel()
