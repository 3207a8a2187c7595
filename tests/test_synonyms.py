"""Abbreviations, spelling variants, renamed places and the user's synonyms file."""

import os
import time
from pathlib import Path

import pytest
from factories import article

import search
from search.synonyms import BUILTIN, Synonyms, SynonymsError, read

ARTICLES = [
    article("hcm1", "Giá nhà TP.HCM tăng", "Giá nhà ở TP.HCM tăng mạnh trong quý ba."),
    article("hcm2", "TPHCM mở tuyến buýt mới", "Sở Giao thông TPHCM mở thêm tuyến xe buýt."),
    article("hcm3", "Thành phố Hồ Chí Minh đón khách", "Thành phố Hồ Chí Minh đón nhiều khách quốc tế."),
    article("hcm4", "Chợ Bến Thành", "Chợ ở TP HCM đông khách; TP.HCM có nhiều chợ."),
    article("hcm5", "Tp. Hồ Chí Minh và Hà Nội", "Hai đô thị lớn: Tp. Hồ Chí Minh và Hà Nội."),
    article("other", "Hà Nội mưa lớn", "Mưa lớn ở Hà Nội, đường ngập."),
    article("ub1", "UBND tỉnh họp", "UBND tỉnh Lam Giang họp bàn về giá điện."),
    article("ub2", "Ủy ban nhân dân huyện", "Ủy ban nhân dân huyện công bố kế hoạch."),
    article("hue1", "Thừa Thiên Huế đón Tết", "Tỉnh Thừa Thiên Huế tổ chức lễ hội."),
    article("hue2", "Thành phố Huế có sân bay mới", "Thành phố Huế khánh thành nhà ga."),
    article("ev1", "Xe điện giá rẻ", "Xe điện đang bán chạy."),
    article("ev2", "Ô tô điện VinFast", "Ô tô điện của VinFast ra mắt."),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = search.Index(tmp_path_factory.mktemp("syn") / "ix", workers=1, synonyms=Synonyms())
    with index.new_generation() as gen:
        gen.add_many(ARTICLES)
    return index


def ids(res: search.Results) -> list[str]:
    return [h.id for h in res.hits]


def test_every_form_of_one_name_returns_the_same_total_and_top_hit(ix):
    forms = ["TP.HCM", "tphcm", "TPHCM", "TP HCM", "tp hcm", "Tp. Hồ Chí Minh", "thành phố Hồ Chí Minh",
             "thanh pho ho chi minh"]  # fmt: skip
    results = [ix.search(q) for q in forms]
    assert {r.total for r in results} == {5}
    assert len({tuple(ids(r)) for r in results}) == 1  # same top hit, same order
    assert all(r.searched == "TP.HCM" for r in results)


def test_abbreviation_and_spelled_out_name_find_each_other(ix):
    assert ids(ix.search("UBND")) == ids(ix.search("Ủy ban nhân dân")) == ids(ix.search("uy ban nhan dan"))
    assert set(ids(ix.search("ubnd"))) == {"ub1", "ub2"}


def test_a_synonym_word_is_required_with_the_other_words(ix):
    res = ix.search("tphcm xe buýt")
    assert ids(res) == ["hcm2"] and not res.relaxed


def test_a_renamed_place_finds_both_names_and_the_name_typed_ranks_first(ix):
    old, new = ix.search("Thừa Thiên Huế"), ix.search("thành phố Huế")
    assert old.total == new.total == 2
    assert ids(old)[0] == "hue1" and ids(new)[0] == "hue2"
    assert old.rewrites[0]["how"] == "synonyms" and "thành phố Huế" in old.rewrites[0]["also"]


def test_the_synonym_is_highlighted_where_it_matched(ix):
    res = ix.search("UBND")
    titles = {h.id: h.title_html for h in res.hits}
    assert "<mark" in titles["ub2"] and "Ủy ban nhân dân</mark>" in titles["ub2"]


def test_builtin_renames_name_their_legal_source():
    renames = [e for e in read(BUILTIN) if e.kind != "same"]
    assert renames and all(e.source and "/QH15" in e.source for e in renames)


def test_file_format_one_way_two_way_and_multi_word(tmp_path):
    path = tmp_path / "syn.txt"
    path.write_text(
        "# comment\n\nxe điện => ô tô điện, xe máy điện\nbão <=> áp thấp nhiệt đới | gợi ý\nVN = Việt Nam\n",
        encoding="utf-8",
    )
    one, two, same = read(path)
    assert one.kind == "oneway" and one.others(0) == ("ô tô điện", "xe máy điện") and one.others(1) == ()
    assert two.kind == "both" and two.others(1) == ("bão",) and two.source == "gợi ý"
    assert same.kind == "same" and same.origin.endswith(":5")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("xe điện ô tô điện", "expected"),
        ("xe điện => ", "missing"),
        ("a = " + ", ".join("b" * 40), "more than 32 forms"),
        ("a = " + " ".join("c" * 9), "1 to 8 words"),
    ],
)
def test_a_bad_line_is_reported_with_its_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.txt"
    path.write_text("ok => fine\n" + line + "\n", encoding="utf-8")
    with pytest.raises(SynonymsError, match=rf"bad.txt:2: .*{message}"):
        read(path)


def test_a_one_way_user_synonym_applies_at_query_time_without_reindex(tmp_path, make_index):
    user = tmp_path / "mine.txt"
    user.write_text("# empty\n", encoding="utf-8")
    index = make_index(ARTICLES)
    index.synonyms = Synonyms(user)
    assert ids(index.search("xe điện")) == ["ev1"]
    user.write_text("xe điện => ô tô điện\n", encoding="utf-8")
    os.utime(user, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime even on a coarse clock
    res = index.search("xe điện")
    assert ids(res) == ["ev1", "ev2"]  # the form typed ranks above its synonym
    assert ids(index.search("ô tô điện")) == ["ev2"]  # one-way


def test_a_broken_edit_keeps_the_last_good_table(tmp_path, make_index):
    user = tmp_path / "mine.txt"
    user.write_text("xe điện <=> ô tô điện\n", encoding="utf-8")
    index = make_index(ARTICLES)
    index.synonyms = Synonyms(user)
    assert index.search("ô tô điện").total == 2
    user.write_text("nonsense line\n", encoding="utf-8")
    os.utime(user, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert index.search("ô tô điện").total == 2


def test_the_environment_names_the_user_file(tmp_path, monkeypatch):
    user = tmp_path / "env.txt"
    user.write_text("xe điện <=> ô tô điện\n", encoding="utf-8")
    monkeypatch.setenv("VNSEARCH_SYNONYMS", str(user))
    index = search.Index(tmp_path / "ix", workers=1)
    with index.new_generation() as gen:
        gen.add_many(ARTICLES)
    assert index.search("ô tô điện").total == 2
    monkeypatch.setenv("VNSEARCH_SYNONYMS", str(tmp_path / "absent.txt"))
    with pytest.raises(SynonymsError, match="absent.txt"):
        search.Index(Path(tmp_path / "ix2"))


def test_a_name_no_article_holds_in_any_form_relaxes_like_its_words(make_index):
    index = make_index([article("y", "Bảo hiểm y tế", "Bảo hiểm bắt buộc cho người lao động.")])
    res = index.search("bảo hiểm xã hội")  # a form of BHXH: neither form is in the index
    assert ids(res) == ["y"] and res.relaxed and res.required == ["bảo hiểm"] and res.dropped == ["xã hội"]
    assert "<mark" in res.hits[0].title_html
