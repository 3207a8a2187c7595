"""Index generations: atomic switch, readers undisturbed, one writer, clear errors."""

import contextlib
import multiprocessing
import os
import random
import threading

import pytest
from factories import article

import search
from search import generations


def build(ix, articles):
    with ix.new_generation() as gen:
        gen.add_many(articles)


def test_rebuild_switches_generation_and_removes_the_old_one(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin một", "Nội dung một.")])
    first = ix.generation
    build(ix, [article("b", "Tin hai", "Nội dung hai.")])
    assert ix.generation != first
    assert [p.name for p in (tmp_path / "generations").iterdir()] == [ix.generation]
    assert ix.get("a") is None and ix.get("b") is not None


def test_open_searcher_keeps_working_across_a_swap_then_sees_the_new_generation(tmp_path):
    reader = search.Index(tmp_path, workers=1)
    build(search.Index(tmp_path, workers=1), [article("old", "Tin cũ", "Chuyện cũ.")])
    assert [h.id for h in reader.search("chuyện").hits] == ["old"]
    old_searcher = reader.searcher()
    build(search.Index(tmp_path, workers=1), [article("new", "Tin mới", "Chuyện mới.")])
    assert old_searcher.doc_count() == 1  # files of the replaced generation stay readable while open
    assert [h.id for h in reader.search("chuyện").hits] == ["new"]


def test_failed_build_leaves_the_current_generation(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("keep", "Giữ lại", "Nội dung.")])
    current = ix.generation
    with pytest.raises(RuntimeError), ix.new_generation() as gen:
        gen.add(article("lost", "Mất", "Nội dung."))
        raise RuntimeError("source failed")
    assert ix.generation == current and ix.get("keep") and ix.get("lost") is None
    assert [p.name for p in (tmp_path / "generations").iterdir()] == [current]


def test_aborted_build_is_discarded(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("keep", "Giữ lại", "Nội dung.")])
    with ix.new_generation() as gen:
        gen.add(article("lost", "Mất", "Nội dung."))
        gen.abort()
    assert ix.get("lost") is None and ix.doc_count() == 1


def test_upsert_and_delete_are_seen_by_an_open_reader(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin một", "Nội dung gốc."), article("b", "Tin hai", "Nội dung hai.")])
    assert ix.search("gốc").total == 1
    with ix.updating() as w:
        w.upsert(article("a", "Tin một", "Nội dung đã sửa."))
        assert w.delete("b") == 1
        assert w.delete("missing") == 0
    assert ix.search("gốc").total == 0 and ix.search("sửa").total == 1
    assert ix.get("b") is None and ix.doc_count() == 1


def test_updating_an_empty_index_creates_its_first_generation(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    with ix.updating() as w:
        w.upsert_many([article("a", "Tin", "Nội dung.")])
    assert ix.generation == "g000001" and ix.doc_count() == 1


def _hold_lock(path, ready, release):
    with generations.write_lock(path):
        ready.set()
        release.wait(10)


def test_second_writer_fails_at_once_naming_the_lock(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with (
            pytest.raises(search.IndexLockedError, match="write.lock") as err,
            search.Index(tmp_path).updating(),
        ):
            pass
        assert str(holder.pid) in str(err.value)
    finally:
        release.set()
        holder.join()
    with search.Index(tmp_path).updating():  # the lock is free again
        pass


def test_corrupt_pointer_is_a_clear_error_naming_the_path(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin", "Nội dung.")])
    (tmp_path / "CURRENT").write_text("g999999\n")
    with pytest.raises(search.IndexCorruptError, match=str(tmp_path / "CURRENT")):
        search.Index(tmp_path).search("tin")


def test_empty_index_answers_with_no_results(tmp_path):
    res = search.Index(tmp_path / "never-built").search("khoa học")
    assert res.total == 0 and res.hits == []


def test_parallel_build_gives_the_same_index_as_one_process(tmp_path):
    arts = [
        article(f"a{i}", f"Tin khoa học số {i}", "Nội dung nghiên cứu khoa học. " * (i + 1))
        for i in range(40)
    ]
    one, two = search.Index(tmp_path / "one", workers=1), search.Index(tmp_path / "two", workers=2)
    build(one, arts)
    build(two, arts)
    a, b = one.search("khoa học", per_page=40), two.search("khoa học", per_page=40)
    assert [h.id for h in a.hits] == [h.id for h in b.hits]
    assert [h.snippet_html for h in a.hits] == [h.snippet_html for h in b.hits]


def test_article_without_id_is_refused(tmp_path):
    with (
        pytest.raises(ValueError, match="without an id"),
        search.Index(tmp_path, workers=1).new_generation() as gen,
    ):
        gen.add({"title": "Không có mã", "body": "x"})


def test_parallel_build_writes_one_segment_per_worker(tmp_path):
    ix = search.Index(tmp_path, workers=2)
    build(ix, [article(f"a{i}", f"Tin số {i}", "Nội dung.") for i in range(100)])
    assert len(ix.searcher().reader().leaf_readers()) == 2
    assert ix.doc_count() == 100 and ix.search("nội dung").total == 100


def test_an_error_in_a_worker_stops_the_build_and_keeps_the_old_generation(tmp_path):
    ix = search.Index(tmp_path, workers=2)
    build(ix, [article("old", "Tin cũ", "Chuyện cũ.")])
    before = ix.generation
    arts = [article(f"a{i}", f"Tin {i}", "Nội dung.") for i in range(200)]
    arts[150] = {"title": "Không có mã", "body": "x"}
    with pytest.raises(ValueError, match="without an id"):
        build(ix, arts)
    assert ix.generation == before and [h.id for h in ix.search("chuyện").hits] == ["old"]
    assert not list((tmp_path / "generations").glob("*.building"))


# --- nothing lost: shrinking, empty generations, format, leftovers --------------------------------


def test_a_generation_with_fewer_than_the_share_asked_is_refused_and_the_old_one_stays(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article(f"a{i}", "Tin", "Nội dung.") for i in range(4)])
    before = ix.generation
    with (
        pytest.raises(search.IndexShrinkError, match="4 articles .* one of 1 "),
        ix.new_generation(min_share=0.5) as gen,
    ):
        gen.add_many([article("b", "Tin", "Nội dung.")])
    assert ix.generation == before and ix.doc_count() == 4
    assert [p.name for p in (tmp_path / "generations").iterdir()] == [before]


def test_an_empty_generation_is_refused_unless_allowed(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin", "Nội dung.")])
    with (
        pytest.raises(search.IndexShrinkError, match="empty generation"),
        ix.new_generation(allow_empty=False),
    ):
        pass
    assert ix.doc_count() == 1
    with ix.new_generation(allow_empty=True):
        pass
    assert ix.doc_count() == 0


def test_an_empty_generation_answers_searches_and_stats(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [])
    assert ix.generation == "g000001"
    for sort in ("relevance", "newest", "oldest"):
        res = ix.search("khoa học", sort=sort, category="Thời sự", date_from="2020-01-01")
        assert res.total == 0 and res.hits == []
    assert ix.search("").total == 0
    stats = ix.stats()
    assert stats["articles"] == 0 and stats["categories"] == {} and stats["date_min"] is None


def test_a_generation_of_another_format_version_is_refused_naming_both_and_the_fix(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin", "Nội dung.")])
    (tmp_path / "generations" / ix.generation / "FORMAT").write_text("99\n")
    message = f"format version 99, but this vnsearch reads version {generations.FORMAT_VERSION}"
    with pytest.raises(search.IndexFormatError, match=message) as err:
        search.Index(tmp_path).search("tin")
    assert "vnsearch reindex" in str(err.value)
    with pytest.raises(search.IndexFormatError), search.Index(tmp_path).updating():
        pass


def test_a_generation_without_a_format_version_is_refused(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin", "Nội dung.")])
    (tmp_path / "generations" / ix.generation / "FORMAT").unlink()
    with pytest.raises(search.IndexFormatError, match="format version none"):
        search.Index(tmp_path).search("tin")


def test_the_next_writer_removes_what_a_killed_one_left(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin một", "Nội dung.")])
    live = tmp_path / "generations" / ix.generation
    kept = sorted(p.name for p in live.iterdir())
    (live / "MAIN.tmp").mkdir()  # what a SIGKILLed add leaves: Whoosh's temporary storage
    (live / "MAIN.tmp" / "x.tmp").write_bytes(b"")
    (live / "MAIN_orphan0000000.seg").write_bytes(b"")
    (tmp_path / "generations" / "g000007.building").mkdir()
    # Whoosh's own commit clears unused segment files too; a writer that commits nothing must as well.
    with pytest.raises(RuntimeError), ix.updating():
        raise RuntimeError("the source failed")
    assert not (live / "MAIN.tmp").exists() and not (live / "MAIN_orphan0000000.seg").exists()
    assert not list((tmp_path / "generations").glob("*.building"))
    assert ix.doc_count() == 1 and set(kept) <= set(os.listdir(live))


def test_leftovers_are_not_touched_without_the_lock(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    build(ix, [article("a", "Tin", "Nội dung.")])
    leftover = tmp_path / "generations" / "g000007.building"
    leftover.mkdir()
    ix.search("tin"), ix.stats()  # readers never clean
    assert leftover.exists()


# --- durability: the order of fsync and rename ------------------------------------------------------


class SyncLog:
    """os.fsync/os.rename/os.replace wrapped in-process: which paths were made durable, and when."""

    def __init__(self, monkeypatch):
        self.renames: list[tuple[str, str, bool, list[str], int]] = []  # src, dst, a dir?, below, at
        self.events: list[tuple[str, str]] = []
        real_fsync, real_rename, real_replace = os.fsync, os.rename, os.replace

        def fsync(fd):
            real_fsync(fd)
            self.events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))

        def renamer(real):
            def rename(src, dst, *args, **kwargs):
                src, dst = os.path.abspath(src), os.path.abspath(dst)
                is_dir = os.path.isdir(src)
                below = [src, *files_below(src)] if is_dir else [src]
                self.renames.append((src, dst, is_dir, below, len(self.events)))
                real(src, dst, *args, **kwargs)
                self.events.append(("rename", dst))

            return rename

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "rename", renamer(real_rename))
        monkeypatch.setattr(os, "replace", renamer(real_replace))

    def check(self) -> None:
        """Every rename comes after the files it makes reachable were fsync'd (a file's directory
        too: the entries of the files a table of contents or pointer names), and its new directory
        entry is fsync'd before anything else is renamed."""
        assert self.renames, "nothing was renamed"
        for n, (src, dst, is_dir, below, at) in enumerate(self.renames):
            synced_before = {path for kind, path in self.events[:at] if kind == "fsync"}
            late = [p for p in below if p not in synced_before]
            assert not late, f"{dst} renamed in before {late} were fsync'd"
            assert is_dir or os.path.dirname(src) in synced_before, f"{src}'s directory not fsync'd"
            upto = self.renames[n + 1][4] if n + 1 < len(self.renames) else len(self.events)
            synced_after = {path for kind, path in self.events[at:upto] if kind == "fsync"}
            assert os.path.dirname(dst) in synced_after, f"{os.path.dirname(dst)} not fsync'd after {dst}"


def files_below(path: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(path):
        found += [os.path.join(root, d) for d in dirs] + [os.path.join(root, f) for f in files]
    return found


def test_a_new_generation_is_durable_before_the_pointer_names_it(tmp_path, monkeypatch):
    log = SyncLog(monkeypatch)
    ix = search.Index(tmp_path / "ix", workers=1)
    build(ix, [article(f"a{i}", "Tin", "Nội dung.") for i in range(5)])
    build(ix, [article(f"b{i}", "Tin", "Nội dung.") for i in range(5)])
    log.check()
    pointer = str(tmp_path / "ix" / "CURRENT")
    assert [dst for _src, dst, *_ in log.renames].count(pointer) == 2
    assert log.events[-1] == ("fsync", str(tmp_path / "ix"))  # the switch itself, made durable


def test_an_incremental_commit_is_durable_before_its_table_of_contents_names_it(tmp_path, monkeypatch):
    ix = search.Index(tmp_path / "ix", workers=1)
    build(ix, [article("a", "Tin", "Nội dung.")])
    log = SyncLog(monkeypatch)
    with ix.updating() as w:
        w.upsert(article("b", "Tin hai", "Nội dung hai."))
    with ix.updating() as w:
        w.delete("a")
    log.check()
    tocs = [dst for _src, dst, *_ in log.renames if dst.endswith(".toc")]
    assert len(tocs) == 2 and ix.doc_count() == 1


def test_a_parallel_build_is_durable_before_the_pointer_names_it(tmp_path, monkeypatch):
    log = SyncLog(monkeypatch)
    build(search.Index(tmp_path / "ix", workers=2), [article(f"a{i}", "Tin", "Nội dung.") for i in range(50)])
    log.check()  # the workers' segment files are fsync'd by the parent before any rename


# --- threads searching while generations switch ------------------------------------------------------


def test_threads_search_while_generations_switch(tmp_path):
    writer = search.Index(tmp_path, workers=1)
    build(writer, [article(f"a{i}", "Khoa học", f"Nội dung số {i}.") for i in range(20)])
    reader = search.Index(tmp_path)
    errors, done = [], threading.Event()

    def search_until_done():
        while not done.is_set():
            try:
                res = reader.search("khoa học", sort=random.choice(["relevance", "newest"]))
                assert res.total == 20 and len(res.hits) == 10
                reader.get(res.hits[0].id)  # None when a switch came between: no error either way
                with contextlib.suppress(KeyError):  # gone when a switch came between
                    reader.related(res.hits[0].id)
                reader.search("", category="Thời sự", per_page=3)
            except Exception as exc:  # any failure in a thread is the test's failure
                errors.append(exc)
                done.set()

    threads = [threading.Thread(target=search_until_done) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        for n in range(12):
            build(writer, [article(f"g{n}-{i}", "Khoa học", f"Nội dung số {i}.") for i in range(20)])
            with writer.updating() as w:
                w.upsert(article(f"g{n}-0", "Khoa học", "Nội dung đã sửa."))
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[:3]


def test_the_result_cache_is_bounded_in_bytes(tmp_path):
    ix = search.Index(tmp_path, workers=1, cache_size=1000, cache_bytes=200_000)
    long_body = "Khoa học và đời sống ở Huế. " * 400
    build(ix, [article(f"a{i}", f"Khoa học {i}", long_body) for i in range(100)])
    for page in range(1, 11):  # one story (the same body), so every copy shown: group=False
        ix.search("khoa học", page=page, per_page=10, group=False)
        ix.search("đời sống", page=page, per_page=10, group=False)
    assert 0 < ix._cached_bytes <= 200_000
    assert ix._cached_bytes == sum(size for _res, size in ix._cache.values())
    assert len(ix._cache) < 20


# --- one article that cannot be analysed is one failure, not the end of the build ------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_an_article_that_cannot_be_analysed_is_reported_and_the_rest_indexed(tmp_path, workers):
    ix = search.Index(tmp_path, workers=workers)
    arts = [article(f"a{i}", f"Tin {i}", "Nội dung.") for i in range(40)]
    arts[7] = {**arts[7], "title": "Tin \ud800 lỗi", "origin": "src.jsonl:8"}
    arts[30] = {**arts[30], "body": "Nội \x00 dung"}
    failed = []
    with ix.new_generation() as gen:
        assert gen.add_many(arts, on_error=lambda art, reason: failed.append((art["origin"], reason))) == 38
    assert sorted(failed, key=str) == [
        ("src.jsonl:8", "ValueError: invalid Unicode in title: surrogates not allowed at 4"),
        (None, "ValueError: invalid Unicode in body: NUL character at 4"),
    ]
    assert ix.doc_count() == 38 and ix.get("a7") is None and ix.get("a8") is not None
    failed.clear()
    with ix.updating() as w:
        arts = [article("u1", "Tin", "Nội dung."), {**article("u2", "Tin", "Nội dung."), "url": "x\udc80"}]
        assert w.upsert_many(arts, on_error=lambda art, reason: failed.append(art["id"])) == 1
    assert failed == ["u2"] and ix.doc_count() == 39


def test_without_a_handler_an_article_that_cannot_be_analysed_is_an_error(tmp_path):
    ix = search.Index(tmp_path, workers=1)
    with (
        pytest.raises(ValueError, match="'bad' cannot be indexed: .*invalid Unicode"),
        ix.new_generation() as gen,
    ):
        gen.add_many([article("bad", "Tin \ud800", "Nội dung.")])
    assert ix.generation is None
