"""Vietnamese text normalisation: NFC, one canonical tone placement, lowercase and accent folding.

Stored text is only ever NFC-normalised (so character offsets computed on it are the offsets a
reader sees). The functions here turn one *token* into its search key; they never change how the
stored text reads.

Both keys also spell a syllable whose only vowel is a final i/y after a consonant with "i":
"sỹ"/"sĩ", "kỹ"/"kĩ", "lý"/"lí", "tỷ"/"tỉ", "quý"/"quí" are one syllable written two ways (the
choice is a house style: VMDS writes "bác sỹ" where VietNews writes "bác sĩ"), unlike "ai"/"ay" or
"ui"/"uy", which are different vowels and stay apart. Measured with ``benchmarks/relevance.py``
(set A, 199 VMDS topics over 23,125 articles): MRR@10 0.924 → 0.926 as written, 0.931 → 0.933
without diacritics ("Vụ bác sỹ vứt xác…" now finds its "bác sĩ" article first); set B unchanged.
"""

import re
import unicodedata
from functools import lru_cache

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
QUALITY_MARKS = frozenset("\u0302\u0306\u031b")  # â ê ô (circumflex), ă (breve), ơ ư (horn)
VOWELS = frozenset("aeiouy")
_LETTERS = re.compile(r"[^\W\d_]+")  # a run of letters: one syllable, or one part of a compound
_FINAL_Y = re.compile(r"(?:qu|[^\W\d_aeiouy]+)y")  # consonant initial ("qu" included), then only y


def nfc(text: str) -> str:
    """NFC, so that input which arrived decomposed (NFD) reads and indexes like everything else."""
    return unicodedata.normalize("NFC", text)


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese tone/vowel mark or đ: the user typed accents."""
    lower = text.lower()
    return _strip_marks(lower) != lower


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """Lowercase with every mark removed, đ→d and final y→i: the key accentless queries match on."""
    return _strip_marks(_unify_i_y(nfc(token.lower())))


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def exact_key(token: str) -> str:
    """Lowercase NFC, the tone mark on one canonical vowel ("hoà" and "hòa" alike), final y→i."""
    return _unify_i_y(_canonical_tone(nfc(token.lower())))


def _unify_i_y(text: str) -> str:
    """Each lowercase NFC syllable of the text whose only vowel is a final y after a consonant, with i.

    "sỹ"→"sĩ", "quý"→"quí", "mỹ"→"mĩ"; "y tế", "tay", "thủy", "yêu" keep their y (no consonant
    before it, or another vowel with it: a different vowel, or the only spelling there is).
    """
    return _LETTERS.sub(_final_y_as_i, text) if "y" in text or not text.isascii() else text


def _final_y_as_i(m: re.Match) -> str:
    syllable = unicodedata.normalize("NFD", m.group())
    if not _FINAL_Y.fullmatch(_strip_marks(syllable)):
        return m.group()
    y = syllable.rindex("y")  # the base letter; only its tone mark can follow it
    return unicodedata.normalize("NFC", syllable[:y] + "i" + syllable[y + 1 :])


def _canonical_tone(syllable: str) -> str:
    """Put the syllable's tone mark on the vowel the traditional rule picks.

    Both spellings in use ("hoà"/"hòa", "thuỷ"/"thủy", "Hoá"/"Hóa") strip to the same base and
    tone, so placing the tone by one deterministic rule makes them one key.
    """
    letters = [unicodedata.normalize("NFD", c) for c in syllable]
    tones = [m for parts in letters for m in parts[1:] if m in TONE_MARKS]
    if len(tones) != 1:
        return syllable
    bases = ["".join(m for m in parts if m not in TONE_MARKS) for parts in letters]
    target = _tone_vowel(bases)
    if target is None:
        return syllable
    bases[target] += tones[0]
    return unicodedata.normalize("NFC", "".join(bases))


def _tone_vowel(bases: list[str]) -> int | None:
    """Index of the vowel that carries the tone: marked vowel first, then the nucleus rule."""
    vowels = [i for i, b in enumerate(bases) if b[:1] in VOWELS]
    if not vowels:
        return None
    first = bases[0][:1]
    # "qu" and "gi" (before another vowel) belong to the initial consonant, not the nucleus.
    if (
        len(vowels) > 1
        and vowels[0] == 1
        and (first == "q" and bases[1][:1] == "u" or first == "g" and bases[1][:1] == "i")
    ):
        vowels = vowels[1:]
    marked = [i for i in vowels if any(m in QUALITY_MARKS for m in bases[i][1:])]
    if marked:
        return marked[-1]
    if len(vowels) == 1:
        return vowels[0]
    closed = vowels[-1] < len(bases) - 1
    if closed:
        return vowels[-1]
    return vowels[-2]
