"""Indexing on a Dask cluster: segmentation and posting preparation as ``dask.distributed`` tasks.

Why: pyvi's segmentation is the cost of indexing and needs nothing but the article, so it spreads
over any number of machines; what stays on the writer is reading the sources and filing the
prepared postings into the new generation under the index's lock (``GenerationBuilder`` with a
``scheduler``). The workers need vnsearch installed (they import this module); they never see
the index directory, so they need no shared disk.

Tasks hand back their chunk in input order, a few per worker in flight at a time, so memory stays
bounded for any archive. A worker that dies is Dask's to handle: its tasks run again on another
worker (``distributed.scheduler.allowed-failures``), and a task that kills workers too often, or a
cluster left with no worker for ``NO_WORKER_SECONDS``, ends the build with ``IndexingError``: the
half-built generation is removed and the current one keeps serving.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping

from search.writing import CHUNK, Failed, IndexingError, _batches, _describe, _document_or_failure

TASK_ARTICLES = 4 * CHUNK  # per task: big enough that scheduling costs little beside pyvi
IN_FLIGHT_PER_WORKER = 4
CONNECT_SECONDS = 30
NO_WORKER_SECONDS = 60
POLL_SECONDS = 1.0


def prepare_chunk(articles: tuple[Mapping, ...]) -> list[dict | Failed]:
    """What a Dask worker runs: each article segmented and turned into postings, or its failure."""
    return [_document_or_failure(article) for article in articles]


def prepare_on_cluster(scheduler: str, articles: Iterable[Mapping]) -> Iterator[dict | Failed]:
    """Prepared documents in input order, computed by the workers of the Dask cluster at
    ``scheduler`` (``tcp://HOST:PORT``); ``IndexingError`` when the cluster cannot finish them."""
    from distributed import Client  # only a build on a cluster needs it

    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except OSError as exc:
        raise IndexingError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        pending: deque = deque()
        try:
            for chunk in _batches(articles, TASK_ARTICLES):
                pending.append(client.submit(prepare_chunk, chunk, pure=False))
                while len(pending) >= IN_FLIGHT_PER_WORKER * _workers(client, scheduler):
                    yield from _result(client, scheduler, pending.popleft())
            while pending:
                yield from _result(client, scheduler, pending.popleft())
        finally:
            client.cancel(list(pending))


def _result(client, scheduler: str, future) -> list[dict | Failed]:
    """A task's documents, waiting as long as the cluster has workers to run it."""
    from distributed import TimeoutError as DaskTimeout

    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except (DaskTimeout, TimeoutError):
            _workers(client, scheduler)
        except IndexingError:
            raise
        except Exception as exc:  # KilledWorker, a lost scheduler, an error in the task
            raise IndexingError(
                f"indexing on the Dask cluster at {scheduler} failed: {_describe(exc)}; "
                "nothing was switched in"
            ) from None


def _workers(client, scheduler: str) -> int:
    """Workers the cluster has now; waits up to ``NO_WORKER_SECONDS`` for one before giving up."""
    deadline = time.monotonic() + NO_WORKER_SECONDS
    while not (count := len(client.scheduler_info().get("workers", {}))):
        if time.monotonic() > deadline:
            raise IndexingError(
                f"the Dask cluster at {scheduler} has had no worker for {NO_WORKER_SECONDS} s; "
                "nothing was switched in"
            )
        time.sleep(POLL_SECONDS)
    return count
