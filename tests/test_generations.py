"""Index generations: atomic switch, readers undisturbed, one writer, clear errors."""

import multiprocessing

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
