"""Ranked search: Vietnamese matching, query syntax, filters, sorting, facets, highlighting."""

import contextlib
import unicodedata

import pytest
from factories import article

import search

ARTICLES = [
    article(
        "word",
        "Hội nghị khoa học toàn quốc",
        "Các nhà khoa học trình bày kết quả nghiên cứu.",
        "2023-11-13",
        category="Khoa học",
    ),
    article(
        "apart",
        "Ngày hội trường làng",
        "Khoa cấp cứu mở lớp; học viên đến đông.",
        "2023-11-14",
        category="Y tế",
    ),
    article(
        "ban", "Giá bán lúa tăng mạnh", "Nông dân bán lúa được giá cao.", "2022-01-02", category="Kinh tế"
    ),
    article("ban2", "Bạn đọc hỏi đáp", "Bạn đọc gửi câu hỏi về bạn bè.", "2022-06-30", category="Bạn đọc"),
    article(
        "dang",
        "Đảng ủy tỉnh họp phiên thường kỳ",
        "Đảng ủy tỉnh Thừa Thiên Huế họp.",
        "2021-12-31",
        category="Thời sự",
    ),
    article("hoa", "Hòa bình và phát triển", "Thông điệp về hoà bình.", "2024-01-01", category="Thời sự"),
    article(
        "xss",
        "Tin <script>alert(1)</script> lạ",
        "Nội dung <img src=x onerror=alert(1)> và <b>đậm</b>.",
        "2024-02-02",
        category="Khác",
    ),
    article("nodate", "Bài không ngày tháng", "Chuyện khoa học không rõ ngày.", None, category="Khoa học"),
]


@pytest.fixture
def ix(make_index):
    return make_index(ARTICLES)


def ids(res):
    return [h.id for h in res.hits]


def test_accentless_query_finds_accented_words_and_marks_the_original(ix):
    res = ix.search("dang uy tinh")
    assert ids(res)[0] == "dang"
    assert "<mark>Đảng ủy tỉnh</mark>" in res.hits[0].title_html


def test_syllable_query_finds_it_inside_a_word(ix):
    assert "word" in ids(ix.search("học"))


def test_a_word_matches_only_where_its_syllables_stand_together(ix):
    assert "apart" not in ids(ix.search("khoa học")) and "word" in ids(ix.search("khoa học"))
    assert "apart" in ids(ix.search("khoa"))


def test_accent_exact_match_ranks_first(ix):
    assert ids(ix.search("bán"))[0] == "ban"
    assert ids(ix.search("bạn"))[0] == "ban2"


def test_tone_placement_variants_match_each_other(ix):
    assert ids(ix.search("hoà bình"))[0] == "hoa"
    assert ids(ix.search("hòa bình"))[0] == "hoa"


@pytest.mark.parametrize("q", ["bác sỹ", "bác sĩ", "bac sy", "bac si", '"bác sỹ"', '"bac sy"'])
def test_final_i_and_y_spellings_match_each_other(make_index, q):
    ix = make_index(
        [
            article("si", "Bác sĩ trực đêm", "Bác sĩ khám cho bệnh nhân."),
            article("other", "Sỹ tử dự thi", "Thí sinh vào phòng thi."),
        ]
    )
    assert ids(ix.search(q))[0] == "si"


def test_nfd_query_matches_like_nfc(ix):
    assert ids(ix.search(unicodedata.normalize("NFD", "Đảng ủy")))[0] == "dang"


def test_quoted_phrase_is_required_and_exact(ix):
    assert set(ids(ix.search('"khoa học"'))) == {"word", "nodate"}


def test_exclusion_removes_articles(ix):
    res = ix.search("khoa học -hội")
    assert "word" not in ids(res) and "nodate" in ids(res)


def test_minus_before_a_number_is_part_of_the_text_not_an_exclusion(make_index):
    ix = make_index([article("jet", "Tiêm kích F-15 gặp sự cố", "Máy bay F -15 hạ cánh an toàn.")])
    assert ids(ix.search("tiêm kích F -15")) == ["jet"]
    assert ids(ix.search("tiêm kích -F")) == []


def test_when_no_article_holds_every_word_the_least_selective_are_dropped_visibly(make_index):
    arts = [article(f"gold{i}", "Giá vàng tăng", "Giá vàng trong nước tăng mạnh.") for i in range(12)]
    arts.append(article("date", "Tin ngày 22/10/2013", "Ngày 22/10/2013 trời nắng."))
    arts.append(article("other", "Tin khác", "Không liên quan."))
    ix = make_index(arts)
    res = ix.search("Giá vàng ngày 22/10/2013", per_page=20)
    assert ids(res) == ["date"] and res.total == 1
    assert res.relaxed and res.required == ["ngày", "22/10/2013"] and res.min_words == 2
    assert sorted(res.dropped) == ["Giá", "vàng"]
    long = ix.search("Giá vàng tăng ngày 22/10/2013", per_page=20)  # five words: three suffice
    assert not long.relaxed and long.min_words == 3 and long.total == 12


def test_title_field_restricts_to_titles(ix):
    assert ids(ix.search("title:khoa")) == ["word"]


def test_or_accepts_alternatives(ix):
    assert {"ban", "dang"} <= set(ids(ix.search("lúa OR Đảng")))


def test_date_bounds_are_inclusive(ix):
    res = ix.search("", date_from="2023-11-13", date_to="2023-11-14")
    assert set(ids(res)) == {"word", "apart"}
    assert ids(ix.search("", date_from="2021-12-31", date_to="2021-12-31")) == ["dang"]


def test_empty_query_with_filters_browses_newest_first(ix):
    res = ix.search("", date_from="2022-01-01")
    dates = [h.date for h in res.hits]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_orders_by_date_with_undated_last(ix, sort):
    res = ix.search("khoa", sort=sort)
    dates = [h.date for h in res.hits]
    assert dates[-1] is None
    assert dates[:-1] == sorted(dates[:-1], reverse=sort == "newest")


def test_facets_count_the_filtered_set(ix):
    res = ix.search("", date_from="2022-01-01", date_to="2022-12-31")
    assert res.facets["years"] == {"2022": 2}
    assert res.facets["months"] == {"2022-01": 1, "2022-06": 1}
    assert res.facets["categories"] == {"Bạn đọc": 1, "Kinh tế": 1}


def test_category_filter(ix):
    assert set(ids(ix.search("khoa", category="Khoa học"))) == {"word", "nodate"}


def test_html_in_articles_is_escaped_in_every_field(ix):
    res = ix.search("alert")
    hit = res.hits[0]
    for html in (hit.title_html, hit.snippet_html):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in hit.title_html


def test_snippet_is_about_200_characters_around_the_match(make_index):
    body = "Mở đầu dài. " * 60 + "Cuối cùng là chuyện khoa học ở đây. " + "Phần kết. " * 60
    ix = make_index([article("long", "Bài dài", body)])
    snippet = ix.search("khoa học").hits[0].snippet_html
    assert "<mark>khoa học</mark>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert 150 <= len(snippet.replace("<mark>", "").replace("</mark>", "")) <= 260


def test_title_only_match_shows_the_lead(make_index):
    ix = make_index(
        [article("t", "Tin bão khẩn cấp", "Nội dung không liên quan.", summary="Tóm tắt ngắn gọn.")]
    )
    assert ix.search("bão").hits[0].snippet_html == "Tóm tắt ngắn gọn."


def test_abbreviations_numbers_and_dates_are_searchable_as_typed(make_index):
    ix = make_index([article("a", "UBND TP.HCM họp", "Ngày 13/11/2023 bàn về COVID-19 và 3,2 tỷ đồng.")])
    for q in ["TP.HCM", "tp.hcm", "UBND", "13/11/2023", "COVID-19", "covid", "3,2"]:
        assert ids(ix.search(q)) == ["a"], q


def test_accentless_query_suggests_the_accented_form_found_in_the_index(ix):
    assert ix.search("dang uy tinh").suggestion == "đảng ủy tỉnh"


def test_misspelled_query_suggests_a_word_that_finds_more(ix):
    assert ix.search("nông dâm").suggestion == "nông dân"


def test_pagination_pages_through_all_hits(make_index):
    ix = make_index(
        [article(f"p{i}", f"Tin số {i} về lúa", "Giá lúa.", f"2023-01-{i + 1:02d}") for i in range(25)]
    )
    seen = [h.id for p in (1, 2, 3) for h in ix.search("lúa", page=p, per_page=10).hits]
    assert len(seen) == 25 == len(set(seen))
    assert ix.search("lúa", page=3, per_page=10).total == 25


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"q": "x" * 501}, "quá dài"),
        ({"q": "a", "date_from": "2023-02-30"}, "date_from"),
        ({"q": "a", "date_from": "2024-01-02", "date_to": "2024-01-01"}, "from > to"),
        ({"q": "a", "sort": "best"}, "sort"),
        ({"q": "a", "page": 0}, "page"),
        ({"q": "a", "per_page": 101}, "per_page"),
        ({"q": "a", "page": 1000, "per_page": 100}, "10000"),
        ({"q": "!!! ---"}, "no words"),
        ({"q": 'title:""'}, "title:"),
    ],
)
def test_bad_queries_and_parameters_raise_query_error_with_a_reason(ix, kwargs, fragment):
    with pytest.raises(search.QueryError, match=fragment):
        ix.search(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"q": "x" * 501}, "q"),
        ({"q": "a", "date_from": "2023-02-30"}, "from"),
        ({"q": "a", "date_to": "31/12/2023"}, "to"),
        ({"q": "a", "date_from": "2024-01-02", "date_to": "2024-01-01"}, "from"),
        ({"q": "a", "sort": "best"}, "sort"),
        ({"q": "a", "page": 0}, "page"),
        ({"q": "a", "page": "two"}, "page"),
        ({"q": "a", "per_page": 101}, "size"),
        ({"q": "a", "page": 1000, "per_page": 100}, "page"),  # too deep: the page asked is refused
    ],
)
def test_query_error_names_the_parameter_as_the_api_and_cli_call_it(ix, kwargs, param):
    with pytest.raises(search.QueryError) as caught:
        ix.search(**kwargs)
    assert caught.value.param == param


def test_the_deepest_page_the_limits_allow_is_served(ix):
    size = search.limits.MAX_PER_PAGE
    page = search.limits.deepest_page(size)
    assert page * size <= search.limits.MAX_DEPTH < (page + 1) * size
    assert ix.search("khoa học", page=page, per_page=size).hits == []  # served, just empty here


@pytest.mark.parametrize(
    "q", ['"unbalanced', "title:", "-", "OR", "a OR OR b", "((", "*", "khoa~2", "ab*", "/re/"]
)
def test_odd_syntax_never_escapes_as_an_internal_error(ix, q):
    with contextlib.suppress(search.QueryError):
        ix.search(q)


def test_get_and_related(ix):
    doc = ix.get("word")
    assert doc["title"] == "Hội nghị khoa học toàn quốc" and doc["date"].isoformat() == "2023-11-13"
    assert ix.get("missing") is None
    related = ix.related("word", n=3)
    assert "word" not in [h.id for h in related] and "nodate" in [h.id for h in related]
    with pytest.raises(KeyError):
        ix.related("missing")
