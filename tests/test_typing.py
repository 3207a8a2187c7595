"""Telex and VNI residue in queries: decoded when implausible as typed, real words left alone."""

from pathlib import Path

import pytest
from factories import article

from search import query
from search.typing import could_be_syllable, decode, decode_words, is_syllable, telex, vni
from web import create_app

ARTICLES = [
    article("tv", "Tiếng Việt trong trường học", "Dạy tiếng Việt cho học sinh ở Hà Nội."),
    article("dh", "Đại học mở rộng tuyển sinh", "Trường đại học công bố điểm chuẩn."),
    article("ng", "Người dân đổi đời", "Nhiều người dân ở nông thôn có việc làm mới."),
    article(
        "en", "Messi và iPhone", "Messi dùng iPhone; team COVID-19 năm 2023, taxi chạy bằng gas, as usual."
    ),
    article("ta", "Bầu trời Châu Á", "Các nước châu Á hợp tác."),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    import search

    index = search.Index(tmp_path_factory.mktemp("typing") / "ix", workers=1)
    with index.new_generation() as gen:
        gen.add_many(ARTICLES)
    return index


@pytest.mark.parametrize(
    ("typed", "decoded"),
    [
        ("tieengs", "tiếng"),
        ("vieetj", "việt"),
        ("ddaij", "đại"),
        ("hocj", "học"),
        ("nguowif", "người"),
        ("dduowngf", "đường"),
        ("muwa", "mưa"),
        ("thuongw", "thương"),  # the w typed after the word
        ("khoong", "không"),  # "oong" is a rhyme ("xoong"), but "khoong" is Telex
        ("Vieetj", "Việt"),
        ("quoocs", "quốc"),
        ("giuwax", "giữa"),
    ],
)
def test_telex_words_decode_to_their_syllable(typed, decoded):
    assert decode(typed) == decoded


@pytest.mark.parametrize(
    ("typed", "decoded"),
    [("tie61ng", "tiếng"), ("vie65t", "việt"), ("d9a5i", "đại"), ("ngu7o72i", "người"), ("Vie65t", "Việt")],
)
def test_vni_words_decode_to_their_syllable(typed, decoded):
    assert decode(typed) == decoded


@pytest.mark.parametrize(
    "word",
    [
        "team", "Messi", "iPhone", "COVID", "2023", "as", "is", "of", "UBND", "TPHCM", "Google",
        "taxi", "gas", "visa", "Laos", "U23", "U17", "G7", "F1", "H5N1", "an", "tin", "viet", "nam",
        "Hari", "Car", "Cats", "Sex",
    ],
)  # fmt: skip
def test_real_words_and_unaccented_vietnamese_are_left_as_typed(word):
    assert decode_words([word]) == {}


def test_a_short_word_is_decoded_only_beside_another_decoded_word():
    assert decode_words(["such", "as"]) == {}
    assert decode_words(["chaau", "as"]) == {0: "châu", 1: "á"}
    assert decode_words(["o73", "Binh2", "Du7o7ng"]) == {0: "ở", 1: "Bình", 2: "Dương"}
    assert decode_words(["Hocj"]) == {} and decode_words(["Hocj", "sinhf"]) == {0: "Học", 1: "sình"}
    assert decode_words(["Vieetj"]) == {0: "Việt"}  # a mark of its own: strong enough alone


def test_punctuation_around_a_word_is_kept():
    assert decode_words(["vieetj,", "(namw)"]) == {0: "việt,", 1: "(năm)"}


@pytest.mark.parametrize("word", ["nghiêng", "quốc", "giết", "khuyến", "thuở", "gì", "ấy", "ươn"])
def test_valid_syllables_pass_the_syllable_check(word):
    assert is_syllable(word)


@pytest.mark.parametrize("word", ["ngiêng", "kà", "ghă", "tapf", "tàp", "tieengs", "hello", "cả̀"])
def test_invalid_spellings_fail_the_syllable_check(word):
    assert not is_syllable(word)


def test_stop_finals_take_only_sac_or_nang():
    assert is_syllable("tập") and is_syllable("tấp") and not is_syllable("tầp") and not is_syllable("tap")
    assert could_be_syllable("tap")  # typed without marks it still is one


def test_decoders_refuse_what_is_not_their_method():
    assert telex("messi") is None  # two tone keys
    assert vni("u23") is None  # two tones
    assert telex("xyz") is None


def test_a_telex_query_finds_what_the_accented_query_finds(ix):
    typed, accented = ix.search("tieengs vieetj"), ix.search("tiếng việt")
    assert typed.total == accented.total == 1
    assert [h.id for h in typed.hits] == [h.id for h in accented.hits] == ["tv"]
    assert typed.searched == "tiếng việt"
    assert typed.rewrites[0] == {"typed": "tieengs", "searched": "tiếng", "how": "telex", "also": []}
    assert "<mark" in typed.hits[0].title_html


def test_a_vni_query_finds_what_the_accented_query_finds(ix):
    res = ix.search("ngu7o72i da6n")
    assert [h.id for h in res.hits] == ["ng"] and res.searched == "người dân"


def test_the_decoded_syllable_is_required_as_decoded(ix):
    # "ddaij" is "đại", so "Đài" or "dai" articles would not do; only the "đại học" article matches
    res = ix.search("ddaij hocj")
    assert [h.id for h in res.hits] == ["dh"] and not res.relaxed


def test_the_issue_examples_are_searched_as_typed(ix):
    for q in ("team", "Messi", "iPhone", "COVID-19", "2023", "as", "taxi", "gas"):
        res = ix.search(q)
        assert res.searched is None and res.rewrites == [], q
        assert [h.id for h in res.hits] == ["en"], q


def test_a_word_the_index_holds_as_typed_more_often_stays(ix):
    counts = {("gooi", True): 5, ("gôi", False): 1}
    parsed = query.parse("gooi", lambda key, folded: counts.get((key, folded), 0))
    assert parsed.rewrites == [] and parsed.searched == "gooi"
    assert query.parse("gooi").searched == "gôi"  # no counts: the rule alone decodes it


def test_quoted_phrases_are_searched_as_typed(ix):
    assert ix.search('"tieengs vieetj"').searched is None


def test_the_page_and_the_json_say_what_was_searched(ix):
    client = create_app({"INDEX": str(Path(ix.path)), "TESTING": True}).test_client()
    page = client.get("/", query_string={"q": "tieengs vieetj"}).get_data(as_text=True)
    assert "Đang tìm: «tiếng việt»" in page
    data = client.get("/api/search", query_string={"q": "tieengs vieetj"}).get_json()
    assert data["searched"] == "tiếng việt" and [r["how"] for r in data["rewrites"]] == ["telex", "telex"]
    plain = client.get("/api/search", query_string={"q": "tiếng việt"}).get_json()
    assert plain["searched"] is None and plain["rewrites"] == []
    assert "Đang tìm" not in client.get("/", query_string={"q": "tiếng việt"}).get_data(as_text=True)
