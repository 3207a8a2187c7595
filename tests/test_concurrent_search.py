"""Threads sharing one search.Index, as the web worker's threads do (web/worker.py, gthread).

A result computed on a searcher that another thread replaced meanwhile is not cached (it would
be served after the change).

Whoosh reads a posting list's header and term infos with ``seek`` then ``read`` on the
segment's memory-mapped file; with one shared position a thread could read where another had
just seeked, which surfaced as "Block tag error" 500s under concurrent phrase queries.
"""

from __future__ import annotations

import threading

from web_fixtures import articles, build_index

import search
from search import searching
from search.codec import _MappedFile

THREADS = 8
ROUNDS = 15


def test_each_thread_reads_a_mapped_file_where_it_seeked():
    data = bytes(range(200))
    shared = _MappedFile(memoryview(data))
    shared.seek(10)
    seen: list[bytes] = []
    other = threading.Thread(target=lambda: (shared.seek(100), seen.append(shared.read(5))))
    other.start()
    other.join()
    assert seen == [data[100:105]]
    assert shared.read(3) == data[10:13]  # not where the other thread left its cursor


def test_threads_searching_one_index_with_phrases_all_succeed(tmp_path):
    ix = search.Index(build_index(tmp_path / "index"), cache_size=0)
    queries = ['"khoa học"', '"bóng đá" "việt nam"', "khoa hoc", '"va co" "khoa hoc"', "Hà Nội -bóng"]
    expected = {q: [h.id for h in ix.search(q).hits] for q in queries}
    start, failures = threading.Barrier(THREADS), []

    def work(k: int) -> None:
        start.wait()
        for n in range(ROUNDS):
            q = queries[(n + k) % len(queries)]
            try:
                got = [h.id for h in ix.search(q).hits]
            except Exception as exc:  # what a 500 would have been
                failures.append(f"{q}: {type(exc).__name__}: {exc}")
                continue
            if got != expected[q]:
                failures.append(f"{q}: {got} != {expected[q]}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_result_computed_on_a_replaced_searcher_is_not_cached(tmp_path):
    """Thread A searches the old generation; thread B's request reopens the index (clearing the
    cache); then A finishes: its old result must not be what later requests get."""
    path = build_index(tmp_path / "index")
    ix = search.Index(path)
    old = ix.searcher()
    req = searching.make_request("cầu treo Sa Pa", None, None, None, "relevance", 1, 10)
    stale = searching.run(old, req, ix.tuning)  # thread A, still on the old generation
    assert "moi-1" not in [h.id for h in stale.hits]
    extra = {"id": "moi-1", "title": "Khánh thành cầu treo Sa Pa", "body": "Cầu treo mới.", "date": None}
    with search.Index(path).new_generation() as gen:
        gen.add_many([*articles(), extra])
    assert ix.search("cầu treo Sa Pa").hits[0].id == "moi-1"  # thread B: reopened, cache cleared
    ix._remember(old, req, stale)  # thread A finishes
    assert ix.search("cầu treo Sa Pa").hits[0].id == "moi-1"
