"""The compact posting blocks (search.codec): what is written reads back, searches are unchanged."""

import itertools
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from factories import article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import fields
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions

import search
import search.schema
import search.writing
from search import generations
from search.analysis import Analyzed, VietnameseTokenizer, segment_article
from search.codec import CompactCodec, CompactLeafMatcher, CompactPositions, term_arrays
from search.errors import IndexCorruptError

MAX_ID = 2**32 - 1  # Whoosh buffers docnums in array("I")

# --- postings written straight through the codec -------------------------------------------------

PositionList = list[int]


@st.composite
def position_lists(draw, max_size: int = 6) -> PositionList:
    """Positions as an analyzer yields them: ascending, sometimes far apart, sometimes none (the
    format keeps none for a word or compound token)."""
    steps = st.one_of(st.integers(0, 40), st.integers(0, 200_000), st.integers(0, 2**32 - 1))
    out, pos = [], 0
    for i in range(draw(st.integers(0, max_size))):
        pos = min(pos + draw(steps) + (1 if i else 0), 2**32 - 1)
        out.append(pos)
    return sorted(set(out))


@st.composite
def postings(draw) -> tuple[list[int], list[float], list[PositionList]]:
    """Ascending docnums (1-400 of them: several blocks) with weights of every kind the codec tells
    apart: all 1.0, one constant, half-units (uint8/uint16) and arbitrary float32."""
    ids = sorted(draw(st.sets(st.integers(0, MAX_ID) | st.integers(0, 3000), min_size=1, max_size=400)))
    n = len(ids)
    kind = draw(st.sampled_from(["ones", "constant", "halves", "big halves", "floats"]))
    if kind == "ones":
        weights = [1.0] * n
    elif kind == "constant":
        weights = [draw(st.sampled_from([0.5, 3.0, 4.5, 1e-3]))] * n
    elif kind in ("halves", "big halves"):
        top = 400 if kind == "halves" else 0xFFFF
        weights = [h / 2 for h in draw(st.lists(st.integers(0, top), min_size=n, max_size=n))]
    else:
        weights = draw(st.lists(st.floats(0, 1e6, width=32), min_size=n, max_size=n))
    positions = draw(st.lists(position_lists(), min_size=n, max_size=n))
    return ids, weights, positions


def _write_term(storage, codec, postings_: tuple, fieldobj):
    """One term's postings through the codec's field writer, as a commit files them; the segment."""
    segment = codec.new_segment(storage, "t")
    writer = codec.field_writer(storage, segment)
    writer.start_field("f", fieldobj)
    writer.start_term(b"term")
    for docnum, weight, positions in zip(*postings_, strict=True):
        writer.add(docnum, weight, fieldobj.format.encode(positions), len(positions))
    writer.finish_term()
    writer.finish_field()
    writer.close()
    return segment


def _compact_text() -> fields.TEXT:
    field = fields.TEXT()
    field.format = CompactPositions()
    return field


def _read_back(postings_: tuple, check) -> None:
    codec, fieldobj = CompactCodec(), _compact_text()
    with tempfile.TemporaryDirectory() as tmp:
        storage = FileStorage(tmp)
        segment = _write_term(storage, codec, postings_, fieldobj)
        terms = codec.terms_reader(storage, segment)
        try:
            check(lambda: terms.matcher("f", b"term", fieldobj.format))
        finally:
            terms.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(postings())
def test_random_postings_read_back_as_written(p):
    ids, weights, positions = p
    float32 = np.array(weights, dtype=np.float32).astype(np.float64).tolist()

    def check(matcher):
        m = matcher()
        assert isinstance(m, CompactLeafMatcher)
        got = []
        while m.is_active():
            got.append((m.id(), m.weight(), m.value_as("positions")))
            assert m.value_as("frequency") == len(got[-1][2])
            m.next()
        assert [g[0] for g in got] == ids
        assert [g[1] for g in got] == float32
        assert [g[2] for g in got] == positions
        arr_ids, arr_weights = matcher().arrays()
        assert arr_ids.tolist() == ids and arr_weights.tolist() == float32

    _read_back(p, check)


@settings(max_examples=40, deadline=None)
@given(postings(), st.lists(st.integers(0, MAX_ID), min_size=1, max_size=5))
def test_skip_to_lands_on_the_first_id_at_or_after_the_target(p, targets):
    ids = p[0]

    def check(matcher):
        m = matcher()
        for target in sorted(targets):
            if not m.is_active() or target <= m.id():
                continue
            m.skip_to(target)
            expected = next((i for i in ids if i >= target), None)
            assert (m.id() if m.is_active() else None) == expected

    _read_back(p, check)


def test_a_block_with_gaps_over_65535_reads_back_through_uint32_deltas():
    ids = [0, 5, 70_000, 3_000_000_000, MAX_ID]
    p = (ids, [1.0, 2.5, 3.0, 1.5, 1.0], [[0, 3]] * 5)

    def check(matcher):
        m = matcher()
        m._read_data()
        assert m._data.deltas.dtype == np.dtype("<u4")
        assert list(m.all_ids()) == ids
        assert matcher().arrays()[0].tolist() == ids

    _read_back(p, check)


@given(position_lists(max_size=30))
def test_compact_positions_decode_what_whoosh_positions_would(positions):
    compact, pickled = CompactPositions(), Positions()
    value = compact.encode(positions)
    assert compact.decode_positions(value) == pickled.decode_positions(pickled.encode(positions))
    assert compact.decode_frequency(value) == len(positions)


def test_word_and_compound_tokens_keep_their_weight_but_no_positions():
    toks = [("khoa", 0, 0, 4), ("học", 1, 5, 8), ("khoa_học", 0, 0, 8), ("tp.hcm", 2, 9, 15)]
    toks += [("tp", 2, 9, 11), ("hcm", 3, 12, 15), ("khoa", 4, 16, 20)]
    text = Analyzed("Khoa học TP.HCM khoa", toks, [(8, 3.0)])
    fmt = CompactPositions()
    got = {
        key: (freq, weight, fmt.decode_positions(value))
        for key, freq, weight, value in fmt.word_values(text, VietnameseTokenizer())
    }
    assert got == {
        "khoa": (2, 4.0, [0, 4]),
        "học": (1, 3.0, [1]),
        "khoa_học": (1, 3.0, []),  # the title's weight, so BM25 ranks the word as before
        "tp.hcm": (1, 1.0, []),
        "tp": (1, 1.0, [2]),
        "hcm": (1, 1.0, [3]),
    }


# --- real indexes through search.writing ---------------------------------------------------------

N_ARTICLES = 200
QUERIES = [
    "biểu tình",
    "bieu tinh",
    "giá vàng tăng",
    '"thủ tướng"',
    "title:bão",
    "kinh tế -vàng",
    "Hà Nội OR Sài Gòn",
    "và",
]


@pytest.fixture(scope="module")
def vmds(shared_dir):
    with open(shared_dir / "corpus" / "vmds-ktlab" / "docs.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in itertools.islice(fh, N_ARTICLES)]


@pytest.fixture
def whoosh_layout(monkeypatch):
    """Build with Whoosh's own W3Codec and pickled Positions (kept for every token), as before
    search.codec."""
    monkeypatch.setattr(search.writing, "CompactCodec", W3Codec)
    monkeypatch.setattr(search.schema, "CompactPositions", Positions)
    search.writing._schema.cache_clear()  # the workers' schema, cached per process
    yield
    search.writing._schema.cache_clear()


def _build(path, articles) -> search.Index:
    ix = search.Index(path, workers=1)
    with ix.new_generation() as gen:
        gen.add_many(articles)
    return ix


def _generation(ix: search.Index):
    return whoosh_index.open_dir(str(generations.generations_dir(ix.path) / ix.generation))


def _answers(ix: search.Index) -> list:
    pages = [ix.search(q, per_page=20) for q in QUERIES] + [ix.search("kinh tế", sort="newest")]
    return [(r.total, r.suggestion, r.facets, [h.to_dict() for h in r.hits]) for r in pages]


def _matches(ix: search.Index) -> list:
    """Every match of each query (all pages) with its highlights, in no order."""
    found = []
    for q in QUERIES:
        pages = itertools.takewhile(
            lambda r: r.hits, (ix.search(q, page=p, per_page=50) for p in itertools.count(1))
        )
        found.append(sorted((h.id, h.title_html, h.snippet_html) for r in pages for h in r.hits))
    return found


def _whoosh_top(ix: search.Index, art: dict) -> list:
    """Whoosh's own top 5, which skips blocks by their quality, and a phrase of the article's title."""
    tokens = segment_article(art)["title"]
    phrase = next([a[0], b[0]] for a, b in itertools.pairwise(tokens) if b[1] == a[1] + 1)
    with _generation(ix).searcher() as s:
        common = [t.decode() for t in _frequent_terms(s.reader(), "text", 2)[:2]]
        queries = [Q.Term("text", common[0]), Q.Or([Q.Term("text", t) for t in common])]
        queries += [Q.Phrase("text", phrase), Q.Phrase("title_words", phrase)]
        return [[(h.docnum, h.score) for h in s.search(q, limit=5)] for q in queries]


def test_compact_index_answers_every_query_as_the_whoosh_layout_did(vmds, tmp_path, request):
    compact = _build(tmp_path / "compact", vmds)
    request.getfixturevalue("whoosh_layout")
    before = _build(tmp_path / "whoosh", vmds)
    with _generation(compact).reader() as r:
        assert {type(s.codec()) for s in r.segments()} == {CompactCodec}
    with _generation(before).reader() as r:
        assert {type(s.codec()) for s in r.segments()} == {W3Codec}
    assert _answers(compact) == _answers(before)
    top = _whoosh_top(compact, vmds[0])
    assert top == _whoosh_top(before, vmds[0])
    assert all(top)
    assert all(a[0] for a in _answers(compact)[:-2])  # the queries do match something


def _frequent_terms(reader, fieldname: str, n: int = 15) -> list[bytes]:
    by_df = sorted(((ti.doc_frequency(), t) for t, ti in reader.iter_field(fieldname)), reverse=True)
    rare = [t for df, t in by_df if df == 1][:3]  # single-posting lists: blocks of one
    return [t for _, t in by_df[:n]] + rare


def _walk(matcher) -> tuple[list, list]:
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


def _matcher_arrays(leaf, fieldname: str, text: bytes) -> tuple[list, list]:
    """What Whoosh's own matcher says, deleted documents included (term_arrays leaves them in)."""
    if (fieldname, text) not in leaf:
        return [], []
    return _walk(leaf._terms.matcher(fieldname, text, leaf.schema[fieldname].format))


def _check_term(leaf, fieldname: str, text: bytes) -> None:
    ids, weights = term_arrays(leaf, fieldname, text)
    assert ids.dtype == np.int64 and weights.dtype == np.float64
    assert (ids.tolist(), weights.tolist()) == _matcher_arrays(leaf, fieldname, text)
    live = np.array([i not in leaf.deleted_docs_set for i in ids.tolist()], dtype=bool)
    if (fieldname, text) in leaf:
        assert (ids[live].tolist(), weights[live].tolist()) == _walk(leaf.postings(fieldname, text))


def _assert_term_arrays_match_the_matchers(ix: search.Index) -> int:
    """Checks frequent and single-posting terms of each field in every segment; returns how many."""
    with _generation(ix).reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        for fieldname in ("text", "text_f", "title_words", "id"):
            for text in _frequent_terms(reader, fieldname):
                for leaf in leaves:
                    _check_term(leaf, fieldname, text)
        return len(leaves)


def test_term_arrays_equal_the_matcher_on_a_fresh_generation(vmds, tmp_path):
    ix = _build(tmp_path / "ix", vmds[:150])
    assert _assert_term_arrays_match_the_matchers(ix) == 1


def test_term_arrays_equal_the_matcher_across_updated_and_merged_segments(vmds, tmp_path):
    ix = _build(tmp_path / "ix", vmds[:150])
    for batch in (vmds[150:170], vmds[170:175]):
        with ix.updating() as w:
            w.upsert_many([{**a, "title": a["title"] + " cập nhật"} for a in vmds[:3]] + batch)
            w.delete(vmds[10]["id"])
    with _generation(ix).reader() as reader:
        assert reader.has_deletions()
        assert {type(s.codec()) for s in reader.segments()} == {CompactCodec}  # merges too
    assert _assert_term_arrays_match_the_matchers(ix) >= 2


@pytest.mark.parametrize("codec", [CompactCodec, W3Codec])
def test_term_arrays_equal_the_matcher_after_optimize(vmds, tmp_path, codec):
    ix = _build(tmp_path / "ix", vmds[:60])
    with ix.updating() as w:
        w.upsert_many(vmds[60:80])
        w.delete(vmds[0]["id"])
    expected = _matches(ix)
    _generation(ix).writer(codec=codec()).commit(optimize=True)
    with _generation(ix).reader() as reader:
        assert [type(s.codec()) for s in reader.segments()] == [codec]
    assert _assert_term_arrays_match_the_matchers(ix) == 1
    assert _matches(search.Index(ix.path)) == expected  # scores move: deleted docs leave the stats


def test_term_arrays_of_a_multi_segment_reader_offset_each_segment(vmds, tmp_path):
    ix = _build(tmp_path / "ix", vmds[:40])
    with ix.updating() as w:
        w.upsert_many(vmds[40:50])
    with _generation(ix).reader() as reader:
        assert not reader.is_atomic()
        for text in _frequent_terms(reader, "text", 5):
            leaves = [(_matcher_arrays(leaf, "text", text), base) for leaf, base in reader.leaf_readers()]
            ids, weights = term_arrays(reader, "text", text)
            assert ids.tolist() == [i + base for (leaf_ids, _), base in leaves for i in leaf_ids]
            assert weights.tolist() == [w for (_, leaf_weights), _ in leaves for w in leaf_weights]


def test_term_arrays_of_a_missing_term_or_field_are_empty(tmp_path):
    ix = _build(tmp_path / "ix", [article("a", "Khoa học", "Hội thảo khoa học.")])
    with _generation(ix).reader() as reader:
        for fieldname, text in (("text", b"kh\xc3\xb4ng_c\xc3\xb3"), ("nope", b"x")):
            ids, weights = term_arrays(reader, fieldname, text)
            assert ids.size == weights.size == 0


def test_updating_an_index_of_the_whoosh_layout_asks_for_a_rebuild(tmp_path, whoosh_layout, monkeypatch):
    ix = _build(tmp_path / "ix", [article("a", "Khoa học", "Hội thảo khoa học.")])
    monkeypatch.undo()
    search.writing._schema.cache_clear()
    with pytest.raises(IndexCorruptError, match="vnsearch reindex"), ix.updating() as w:
        w.upsert(article("b", "Tin mới", "Nội dung."))


def test_term_vectors_keep_whooshs_layout_and_read_back(tmp_path):
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT(vector=True))
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with ix.writer(codec=CompactCodec()) as w:
        w.add_document(id="a", body="alpha beta beta gamma")
    with ix.searcher() as s:
        assert dict(s.vector_as("weight", 0, "body")) == {"alpha": 1.0, "beta": 2.0, "gamma": 1.0}
        assert [h["id"] for h in s.search(Q.Term("body", "beta"))] == ["a"]


OPEN_AND_MEASURE = """
import re, sys
import search

def anon_kb():
    return int(re.search(r"RssAnon:\\s+(\\d+)", open("/proc/self/status").read()).group(1))

ix = search.Index(sys.argv[1])
before = anon_kb()
ix.searcher()
print(anon_kb() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_opening_a_searcher_maps_the_postings_instead_of_copying_them(tmp_path):
    import random
    import subprocess
    import sys

    import search

    rng = random.Random(7)
    syllables = [f"{a}{b}" for a in "bcdghklmnpqrstvx" for b in ("a", "ăn", "ôi", "ương", "iêt")]
    articles = [
        {"id": f"a{i}", "title": "tin", "body": " ".join(rng.choices(syllables, k=400))} for i in range(1500)
    ]
    ix = search.Index(tmp_path / "ix", workers=2)
    with ix.new_generation() as gen:
        gen.add_many(articles)
    size_kb = sum(p.stat().st_size for p in (tmp_path / "ix").rglob("*") if p.is_file()) // 1024
    grown_kb = int(subprocess.check_output([sys.executable, "-c", OPEN_AND_MEASURE, str(tmp_path / "ix")]))
    assert size_kb > 3_000  # big enough that a private copy would show
    assert grown_kb < size_kb / 4, (grown_kb, size_kb)
