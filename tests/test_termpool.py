"""Segment workers hold postings per term (search/termpool.py) and start a new segment when the pool
is full: the index answers as one built in one process, with no sort or merge of every posting."""

from __future__ import annotations

import pytest
from factories import article

import search
from search import whoosh_private, writing
from search.codec import CompactCodec
from search.termpool import TermPool


def build(ix: search.Index, articles: list[dict]) -> search.Index:
    with ix.new_generation() as gen:
        gen.add_many(articles)
    return ix


ARTICLES = [
    article(f"a{i:03d}", f"Tin khoa học số {i}", "Nội dung nghiên cứu khoa học ở Hà Nội. " * (1 + i))
    for i in range(100)
]


def test_a_pool_gives_each_terms_postings_in_whoosh_order_with_ascending_docnums():
    pool = TermPool(limit_bytes=10**9)
    assert pool.add_field("text", 0, [(b"b", 1, 1.0, b"B\x01"), (b"a", 2, 2.0, b"B\x02")]) == 3
    assert pool.add_field("id", 0, [(b"x", 1, 1.0, None)]) == 1
    pool.add_field("text", 1, [(b"b", 1, 3.0, b"B\x05")])
    terms = [(f, t, list(ids), list(w), v) for f, t, ids, w, v in pool.iter_postings().terms()]
    assert terms == [
        ("id", b"x", [0], [1.0], [None]),
        ("text", b"a", [0], [2.0], [b"B\x02"]),
        ("text", b"b", [0, 1], [1.0, 3.0], [b"B\x01", b"B\x05"]),
    ]
    assert list(pool.iter_postings()) == [  # one posting at a time, for another codec's field writer
        ("id", b"x", 0, 1.0, None),
        ("text", b"a", 0, 2.0, b"B\x02"),
        ("text", b"b", 0, 1.0, b"B\x01"),
        ("text", b"b", 1, 3.0, b"B\x05"),
    ]
    assert not pool.full()
    pool.limit_bytes = pool.size
    assert pool.full()


def test_full_pools_make_more_segments_and_the_same_answers_as_one_process(tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "POOL_LIMIT_MB", 0.02)  # the forked workers inherit it
    one = build(search.Index(tmp_path / "one", workers=1), ARTICLES)
    two = build(search.Index(tmp_path / "two", workers=2), ARTICLES)
    assert len(two.searcher().reader().leaf_readers()) > 2
    assert two.doc_count() == one.doc_count() == len(ARTICLES)
    for q in ("khoa học", "ha noi", '"nghiên cứu khoa học"', "số 17"):
        assert one.search(q).total == two.search(q).total > 0
        assert scored(one, q) == scored(two, q)


def scored(ix: search.Index, q: str) -> list[tuple[float, str]]:
    """Every hit's (score, id): ties may stand in another order where docnums differ."""
    return sorted((round(h.score, 6), h.id) for h in ix.search(q, per_page=100).hits)


@pytest.mark.parametrize("limit_mb", [writing.POOL_LIMIT_MB])
def test_the_default_pool_keeps_a_small_build_in_one_segment_per_worker(tmp_path, limit_mb):
    ix = build(search.Index(tmp_path, workers=2), ARTICLES)
    assert len(ix.searcher().reader().leaf_readers()) == 2 and limit_mb >= 256


def test_a_segment_writer_sends_its_postings_to_the_given_pool(tmp_path):
    ix = build(search.Index(tmp_path, workers=1), ARTICLES[:1])
    from whoosh import index as whoosh_index

    gen = whoosh_index.open_dir(str(tmp_path / "generations" / ix.generation))
    pool = TermPool(limit_bytes=10**9)
    writer = whoosh_private.segment_writer(gen, 16, CompactCodec(), pool=pool)
    assert not [a for a in whoosh_private.SEGMENT_WRITER_ATTRS if not hasattr(writer, a)]
    whoosh_private.file_document(writer, writing.document(ARTICLES[1]))
    assert writer.pool is pool and pool.size > 0
    segment = whoosh_private.finish_segment(writer)
    assert segment.doc_count() == 1 and pool.size == 0


def segment_contents(path, segment) -> dict:
    """Everything a reader sees of one finished segment: stored fields, field lengths, columns and
    every posting (docnum, weight, value) of every term."""
    from whoosh import index as whoosh_index
    from whoosh.reading import SegmentReader

    gen = whoosh_index.open_dir(str(path))
    reader = SegmentReader(gen.storage, gen.schema, segment)
    schema = gen.schema
    found = {
        "stored": [reader.stored_fields(d) for d in range(reader.doc_count_all())],
        "lengths": {
            f: [reader.doc_field_length(d, f) for d in range(reader.doc_count_all())]
            for f in schema.scorable_names()
        },
        "columns": {f: list(reader.column_reader(f)) for f in schema.names() if reader.has_column(f)},
        "postings": {},
    }
    for field, term in reader.all_terms():
        m, postings = reader.postings(field, term), []
        while m.is_active():
            postings.append((m.id(), m.weight(), m.value()))
            m.next()
        found["postings"][field, term] = postings
    return found


def test_filing_a_document_at_once_writes_the_segment_whoosh_would(tmp_path):
    """whoosh_private.file_document replaces SegmentWriter.add_document for indexing workers."""
    ix = build(search.Index(tmp_path, workers=1), ARTICLES[:1])
    from whoosh import index as whoosh_index

    path = tmp_path / "generations" / ix.generation
    docs = [writing.document(a) for a in ARTICLES]
    segments = []
    for pool in (None, TermPool(10**9)):  # Whoosh's own pool and add_document, then ours
        writer = whoosh_private.segment_writer(whoosh_index.open_dir(str(path)), 16, CompactCodec(), pool)
        for doc in docs:
            if pool is None:
                writer.add_document(**doc)
            else:
                whoosh_private.file_document(writer, doc)
        segments.append(whoosh_private.finish_segment(writer))
    whoosh_way, at_once = (segment_contents(path, s) for s in segments)
    assert at_once == whoosh_way
    assert len(at_once["stored"]) == len(ARTICLES) and at_once["postings"] and at_once["columns"]
