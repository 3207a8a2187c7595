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


@pytest.mark.parametrize("word", ["hoàng", "quý", "giữa", "người", "khuyến", "thuở", "gì", "Đảng"])
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
