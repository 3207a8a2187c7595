"""Normalisation: tone placement, folding, NFC."""

import unicodedata

import pytest

from search.text import exact_key, fold, has_diacritics, nfc


@pytest.mark.parametrize(
    ("a", "b"),
    [("hoà", "hòa"), ("thuỷ", "thủy"), ("Hoá", "Hóa"), ("khoẻ", "khỏe"), ("Thuý", "Thúy"), ("loà", "lòa")],
)
def test_both_tone_placements_give_one_key(a, b):
    assert exact_key(a) == exact_key(b)


@pytest.mark.parametrize("word", ["hoàng", "quỳnh", "giữa", "người", "khuyến", "thuở", "gì", "Đảng"])
def test_canonical_tone_keeps_words_that_have_one_spelling(word):
    assert exact_key(word) == word.lower()


def test_distinct_tones_stay_distinct():
    assert len({exact_key(w) for w in ["ban", "bán", "bạn", "bàn", "bản", "bãn"]}) == 6


def test_fold_removes_marks_and_d_stroke():
    assert fold("Đảng ủy tỉnh") == "dang uy tinh"
    assert fold("ĐÀ NẴNG") == "da nang"


def test_nfd_input_normalises_to_the_nfc_key():
    decomposed = unicodedata.normalize("NFD", "Khoa học")
    assert decomposed != "Khoa học"
    assert nfc(decomposed) == "Khoa học"
    assert exact_key(decomposed) == exact_key("khoa học")


def test_has_diacritics_tells_typed_accents():
    assert has_diacritics("khoa học")
    assert has_diacritics("dđ")
    assert not has_diacritics("khoa hoc TP.HCM 13/11/2023")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("bác sỹ", "bác sĩ"),
        ("kỹ", "kĩ"),
        ("Lý", "lí"),
        ("tỷ", "tỉ"),
        ("quý", "quí"),
        ("kỳ", "kì"),
        ("Mỹ", "mĩ"),
    ],
)
def test_final_y_and_i_after_a_consonant_are_one_spelling(a, b):
    assert [exact_key(w) for w in a.split()] == [exact_key(w) for w in b.split()]
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("y", "i"), [("tay", "tai"), ("thủy", "thủi"), ("y", "i"), ("ý", "í")])
def test_y_that_is_not_the_only_vowel_after_a_consonant_stays_y(y, i):
    assert exact_key(y) != exact_key(i)
    assert fold(y) != fold(i)


def test_i_y_unification_applies_to_each_syllable_of_a_word_key():
    assert fold("bác_sỹ") == fold("bac si").replace(" ", "_") == "bac_si"
    assert exact_key("Mỹ") == exact_key("mĩ") == "mĩ"


def test_accentless_y_is_not_a_diacritic():
    assert not has_diacritics("bac sy my")
