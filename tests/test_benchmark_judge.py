"""The precision benchmark's judge (``benchmarks/judge.py``): marks compared for accented queries,
any tone placement accepted, folded comparison for accentless ones, whole tokens only."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from judge import Judge, same_syllable  # noqa: E402

DOCS = [
    {"id": "old-style", "title": "Giá vàng ở Khánh Hoà", "body": "Thuỷ điện xả lũ."},
    {"id": "new-style", "title": "Khánh Hòa: thủy điện", "body": "Gia đình ở vùng lũ."},
    {"id": "prefix", "title": "Giá vàngxx", "body": "thuỷđiện"},
]


def test_tone_placement_does_not_matter_but_marks_do():
    judge = Judge(DOCS)
    assert judge.satisfying("Khánh Hòa") == {"old-style", "new-style"}
    assert judge.satisfying("thủy điện") == {"old-style", "new-style"}
    assert judge.satisfying("gia đình") == {"new-style"}  # "giá" is not "gia" when marks are typed


def test_accentless_queries_compare_folded_whole_tokens():
    judge = Judge(DOCS)
    assert judge.satisfying("gia vang") == {"old-style"}
    assert judge.satisfying("thuy dien") == {"old-style", "new-style"}
    assert judge.satisfying("") == set()


def test_same_syllable_ignores_case_and_tone_placement():
    assert same_syllable("Hoà", "hòa") and same_syllable("THUỶ", "thủy")
    assert not same_syllable("hoa", "hòa")


def test_words_reading_wants_each_joined_word_as_adjacent_syllables():
    judge = Judge(
        [
            {"id": "city", "title": "Cảng Hải Phòng mở rộng"},
            {"id": "apart", "title": "Hải quân diễn tập, phòng không trực chiến"},
        ]
    )
    assert judge.satisfying("Hải_Phòng") == {"city", "apart"}
    assert judge.holding_words("Hải_Phòng") == {"city"}
    assert judge.holding_words("hai_phong cang") == {"city"}
