"""What a reader gets back: every word typed, honest counts, one set whatever the page or sort."""

import pytest
from factories import article

ARTICLES = [
    article("gold", "Giá vàng hôm nay tăng mạnh", "Giá vàng SJC tăng 500.000 đồng mỗi lượng.", "2024-05-02"),
    article("expert", "Chuyên gia nói về đồ trang sức", "Nhẫn vàng và bạc được ưa chuộng.", "2024-06-01"),
    article("ring", "Đồ trang sức", "Nhẫn vàng và bạc được ưa chuộng.", "2024-06-02"),
    article("storm", "Bão lũ gây thiệt hại ở Quảng Nam", "Mưa bão làm ngập nhiều nhà dân.", "2023-10-10"),
    article("paper", "Báo chí đưa tin về bảo tàng", "Tờ báo giới thiệu bảo tàng lữ hành.", "2024-07-07"),
    article("flood", "Bão lụt miền Trung", "Bão lụt kéo dài nhiều ngày ở Huế.", "2022-09-09"),
    article("ball", "Đội bóng đá trẻ vào bán kết", "Giải bóng đá U17 khu vực miền Trung.", "2025-01-01"),
    article("fans", "Cổ động viên đã đến sân", "Bóng bay và cờ đã được chuẩn bị.", "2025-02-01"),
    article(
        "portal", "Ra mắt cổng dịch vụ công", "Người dân nộp hồ sơ trên cổng dịch vụ công.", "2024-03-03"
    ),
    article(
        "weather", "Thời tiết Hà Nội chuyển lạnh", "Hà Nội đón không khí lạnh, thời tiết rét.", "2024-12-12"
    ),
]
ARTICLES += [
    article(f"ball{i}", f"Tin bóng đá số {i}", "Trận bóng đá diễn ra sôi nổi.", f"2020-01-{i + 1:02d}")
    for i in range(14)
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    import search

    index = search.Index(tmp_path_factory.mktemp("reader") / "ix", workers=1)
    with index.new_generation() as gen:
        gen.add_many(ARTICLES)
    return index


def ids(res) -> set[str]:
    return {h.id for h in res.hits}


@pytest.mark.parametrize("q", ["gia vang", "giá vàng"])
def test_a_two_word_query_never_returns_an_article_holding_only_one(ix, q):
    res = ix.search(q, per_page=100)
    assert "ring" not in ids(res) and "gold" in ids(res) and not res.relaxed
    assert res.total == len(res.hits) == (2 if q == "gia vang" else 1)  # "chuyên gia … vàng" holds both


def test_accented_words_are_compared_with_their_marks(ix):
    assert ids(ix.search("bão lũ", per_page=100)) == {"storm"}
    assert ids(ix.search("báo", per_page=100)) == {"paper"}
    assert "paper" not in ids(ix.search("bão", per_page=100))


def test_a_syllable_typed_without_marks_next_to_marked_ones_is_folded_when_the_index_lacks_it(ix):
    assert ids(ix.search("ha Nội", per_page=100)) == {"weather"}


def test_highlights_mark_the_words_where_they_matched_as_typed(ix):
    hits = {h.id: h for h in ix.search("gia vang").hits}
    assert "<mark>Giá vàng</mark>" in hits["gold"].title_html
    assert "<mark>" not in hits["gold"].title_html.replace("<mark>Giá vàng</mark>", "")
    assert "<mark>gia</mark>" in hits["expert"].title_html  # no "giá vàng" there: each word as it stands
    assert "<mark>" not in ix.search("bão lũ").hits[0].snippet_html.replace("<mark>bão</mark>", "")


def test_relaxation_is_flagged_and_names_the_words_it_required(ix):
    res = ix.search("bão lũ xyzzyq")
    assert res.relaxed and res.dropped == ["xyzzyq"] and res.required == ["bão", "lũ"]
    assert ids(res) == {"storm"} and res.total == 1
    strict = ix.search("bão lũ")
    assert not strict.relaxed and strict.dropped == []


@pytest.mark.parametrize("q", ["bong da", "bóng đá", "bao lut", "gia vang"])
def test_total_facets_and_suggestion_are_the_same_for_every_size_page_and_sort(ix, q):
    views = [
        ix.search(q, per_page=size, page=page, sort=sort)
        for size in (1, 10, 100)
        for page in (1, 2)
        for sort in ("relevance", "newest", "oldest")
    ]
    first = views[0]
    for res in views[1:]:
        assert (res.total, res.facets, res.suggestion, res.relaxed) == (
            first.total,
            first.facets,
            first.suggestion,
            first.relaxed,
        )


@pytest.mark.parametrize(
    ("typed", "restored"),
    [("bao lut", "bão lụt"), ("bong da", "bóng đá"), ("cong dich vu cong", "cổng dịch vụ công")],
)
def test_accentless_queries_suggest_the_accented_words_the_matches_hold(ix, typed, restored):
    for page, sort in ((1, "relevance"), (2, "newest"), (1, "oldest")):
        assert ix.search(typed, page=page, sort=sort).suggestion == restored


def test_thoi_tiet_ha_noi_is_restored(ix):
    assert ix.search("thoi tiet ha noi").suggestion == "thời tiết hà nội"


def test_bong_da_folded_is_the_word_not_bong_and_the_function_word_da(ix):
    res = ix.search("bong da", per_page=100)
    assert "fans" not in ids(res) and "ball" in ids(res) and res.total == 15


def test_newest_first_lists_the_newest_article_holding_every_word(ix):
    assert ix.search("bong da", sort="newest").hits[0].id == "ball"


def test_an_or_query_returns_the_union(ix):
    either = ids(ix.search("bão lũ OR giá vàng", per_page=100))
    assert either == ids(ix.search("bão lũ", per_page=100)) | ids(ix.search("giá vàng", per_page=100))
    assert either == {"storm", "gold"}


def test_function_words_do_not_decide_matching_but_content_words_do(ix):
    res = ix.search("giá vàng của hôm nay", per_page=100)
    assert ids(res) == {"gold"} and "của" not in res.required


def test_past_the_work_deadline_word_order_is_taken_on_trust_and_flagged(ix):
    from search import matching, query, searching

    searcher = ix.searcher()
    cols = matching.columns(searcher)
    plan = query.plan(query.parse('"bạc vàng"'), searching._doc_freq(searcher))
    rushed = matching.select(matching.Holders(cols, seconds=-1), plan, cols.live, 4, 0.6)
    checked = matching.select(matching.Holders(cols, seconds=1), plan, cols.live, 4, 0.6)
    assert rushed.approximate and len(rushed.docnums) == 2  # "vàng và bạc": both syllables, apart
    assert not checked.approximate and len(checked.docnums) == 0


def test_a_long_query_keeps_only_the_word_candidates_of_the_words_it_keeps(ix):
    from search import query

    parsed = query.parse(" ".join(f"a{i}" for i in range(120)))
    assert len(parsed.words) == query.MAX_WORDS
    assert sum(len(run) for run in parsed.runs) == sum(len(w) for w in parsed.words) < 40
    many = query.parse(" ".join(f'"c {i}"' for i in range(40)))
    assert len(many.required) == query.MAX_CLAUSES


def test_an_approximate_result_is_not_cached_and_the_next_request_checks_on(ix, monkeypatch):
    from search import searching

    monkeypatch.setattr(searching, "MATCH_SECONDS", -1.0)
    assert ix.search('"vàng và"', per_page=5).approximate
    monkeypatch.setattr(searching, "MATCH_SECONDS", 1.0)
    exact = ix.search('"vàng và"', per_page=5)
    assert not exact.approximate and {h.id for h in exact.hits} == {"expert", "ring"}


def test_in_a_small_index_two_articles_saying_bong_da_make_it_a_word(make_index):
    small = make_index(
        [
            article("ball", "Giải bóng đá trẻ", "Đội bóng đá của tỉnh vào bán kết.", "2024-01-01"),
            article("ball2", "Bóng đá học đường", "Sân bóng đá mới.", "2024-02-01"),
            article("volley", "Bóng chuyền hơi", "Các cụ đã tập bóng chuyền.", "2024-03-01"),
        ]
    )
    res = small.search("bong da", per_page=10)
    assert {h.id for h in res.hits} == {"ball", "ball2"} and res.required == ["bong da"]
