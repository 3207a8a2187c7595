"""Vietnamese typed with the input method off: Telex ("tieengs vieetj") and VNI ("tie61ng vie65t").

A query word is searched as the syllable it decodes to only when it is not plausible as typed:

1. it is plain ASCII letters (Telex) or letters with digits (VNI), no other mark or punctuation;
2. it is not, folded, a Vietnamese syllable already ("an", "tin", "viet" stay as typed);
3. it has no capital after its first letter ("iPhone", "UBND", "COVID", "TPHCM" are names);
4. it decodes to a valid Vietnamese syllable (initial, rhyme and tone that go together, spelled
   as Vietnamese spells them: "ngh"/"k"/"gh" before e, ê, i only, a stop final with sắc or nặng);
5. a word of two characters ("as" → "á", "is" → "í", "of" → "ò"), of one letter with VNI digits
   ("U17" → "ứ", "o73" → "ở"), or capitalised with a tone key as its only Telex ("Hari" → "Hải",
   "Car" → "Cả") is decoded only when another word of the query was (one residue word makes the
   others likely): alone, it is an English word, a name or a code;
6. it is not a word seen typed so in the other corpora (``data/real_words.txt``: "taxi", "gas",
   "visa", "Laos" decode to "tãi", "gá", "vía", "Lào" but are real as typed; listed when seen at
   least 3 times and at least 1% as often as the syllable it decodes to, so that "sex" (Telex "sẽ")
   is not listed);
7. (``search.query``) the index does not hold the word as typed in as many articles as the
   decoded syllable ("bitcoin"-like words of an archive's own are real as typed there).

Why this rule (``benchmarks/typing_residue.py``, the don't-touch set and the Telex/VNI-typed headlines):
see the table in ``benchmarks/results/typing_residue.md``. English words, brands and names are rarely a
Vietnamese syllable once decoded because Telex tone keys (s f r x j) and VNI digits stand after
a vowel where English has a consonant cluster ("team", "Messi", "sport") or no vowel before them.
The work per query is bounded: at most ``MAX_WORDS`` words are examined, each decoded once.
"""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from search.limits import MAX_WORDS
from search.text import _canonical_tone, fold

_INITIAL_TEXT = "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x"
_INITIALS = sorted(_INITIAL_TEXT.split(), key=len, reverse=True)
_OPEN = "a e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iu oa oe oi ôi ơi ua uê ui uy ưa ưi ưu uơ"
_OPEN += " iêu yêu oai oay oao oeo uây uôi ươi ươu uya uyu"
_CLOSED = {  # nucleus → finals it takes
    "a": "m n ng nh p t c ch",
    "ă": "m n ng p t c",
    "â": "m n ng p t c",
    "e": "m n ng p t c",
    "ê": "m n nh p t ch",
    "i": "m n nh p t ch",
    "o": "m n ng p t c",
    "oo": "ng c",
    "ô": "m n ng p t c",
    "ơ": "m n p t",
    "u": "m n ng p t c",
    "ư": "m n ng t c",
    "iê": "m n ng p t c",
    "yê": "m n t",
    "oa": "m n ng nh p t c ch",
    "oă": "m n ng t c",
    "oe": "m n t",
    "uâ": "n ng t",
    "uê": "nh ch",
    "uô": "m n ng t c",
    "ươ": "m n ng p t c",
    "uy": "n nh t ch",
    "uyê": "n t",
}
RHYMES = frozenset(_OPEN.split()) | {n + f for n, finals in _CLOSED.items() for f in finals.split()}
# "oong", "ooc" ("xoong", "soóc") are left out: "coong", "khoong" are "công", "không" in Telex.
_FOLDED_RHYMES = frozenset(fold(r) for r in RHYMES if not r.startswith("oo"))
_STOPS = ("p", "t", "c", "ch")
_FRONT = ("e", "ê", "i", "y")  # k, gh, ngh stand before these only; c, g, ng never do
_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_TONE_MARKS = frozenset(_TONES.values())
_VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
_HAT = {"a": "â", "e": "ê", "o": "ô"}
_HORN = {"u": "ư", "o": "ơ"}
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_TELEX_MARK = re.compile(r"aa|ee|oo|^dd|w")
REAL_WORDS = frozenset(
    line
    for line in (Path(__file__).with_name("data") / "real_words.txt").read_text(encoding="utf-8").split("\n")
    if line and not line.startswith("#")
)


def _split(base: str) -> list[tuple[str, str]]:
    """(initial, rhyme) readings of a toneless lowercase syllable."""
    out = [(i, base[len(i) :]) for i in _INITIALS if base.startswith(i)]
    return out + [("", base)]


def _spelled_right(initial: str, rhyme: str, rhymes: frozenset) -> bool:
    if initial == "gi":  # "gì", "giết" (gi + iêt), "già"
        return rhyme == "" or rhyme in rhymes or "i" + rhyme in rhymes
    if initial == "qu":  # "quốc" (uôc), "quân" (uân), "quang" (oang), "quen" (oen)
        return bool(rhyme) and rhyme[0] not in "uư" and ("u" + rhyme in rhymes or "o" + rhyme in rhymes)
    if rhyme not in rhymes:
        return False
    front = rhyme.startswith(_FRONT) or fold(rhyme).startswith(_FRONT)
    if initial in ("k", "gh", "ngh"):
        return front
    if initial in ("c", "g", "ng"):
        return not front
    return True


@lru_cache(maxsize=200_000)
def is_syllable(word: str) -> bool:
    """A Vietnamese syllable, marks and tone checked (one tone at most; ``p t c ch`` take sắc or nặng)."""
    letters = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in letters if c in _TONE_MARKS]
    if len(tones) > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in letters if c not in _TONE_MARKS))
    for initial, rhyme in _split(base):
        if not _spelled_right(initial, rhyme, RHYMES):
            continue
        if rhyme.endswith(_STOPS) and (not tones or tones[0] not in ("\u0301", "\u0323")):
            continue
        return True
    return False


def could_be_syllable(word: str) -> bool:
    """Some marks would make this word, typed without them, a Vietnamese syllable ("viet", "tin")."""
    base = fold(word)
    return base.isalpha() and any(_spelled_right(i, r, _FOLDED_RHYMES) for i, r in _split(base))


def telex(word: str) -> str | None:
    """The syllable a word typed in Telex stands for, or None when it is not Telex.

    "aa" "ee" "oo" → â ê ô; "w" after a, o, u (or "uo") → ă, ơ, ư (ươ), alone → ư; "dd" → đ;
    s f r x j after the first vowel → sắc, huyền, hỏi, ngã, nặng (one of them).
    """
    s, out, tone = word.lower(), [], None
    i = 0
    while i < len(s):
        c = s[i]
        seen_vowel = any(ch in "aăâeêioôơuưy" for ch in out)
        if c in _TONES and seen_vowel:
            if tone is not None:
                return None
            tone = _TONES[c]
        elif c == "d" and not out and s[i + 1 : i + 2] == "d":
            out.append("đ")
            i += 1
        elif c in _HAT and out and out[-1] == c:
            out[-1] = _HAT[c]
        elif c == "w":
            if not _horn(out, breve=True) and not _hook_bare_w(out):
                return None
        elif c.isalpha():
            out.append(c)
        else:
            return None
        i += 1
    return _finish(out, tone, word)


def vni(word: str) -> str | None:
    """The syllable a word typed in VNI stands for: digits 1–5 tones, 6 â ê ô, 7 ơ ư (ươ), 8 ă, 9 đ."""
    out, tone = [], None
    for c in word.lower():
        if c.isalpha():
            out.append(c)
        elif c in _VNI_TONES and out:
            if tone is not None:
                return None
            tone = _VNI_TONES[c]
        elif c == "6":
            at = _last(out, "aeo")
            if at is None:
                return None
            out[at] = _HAT[out[at]]
        elif c in "78":
            if not _horn(out, breve=c == "8", horn=c == "7"):
                return None
        elif c == "9" and out[:1] == ["d"]:
            out[0] = "đ"
        else:
            return None
    return _finish(out, tone, word)


def _last(out: list[str], letters: str) -> int | None:
    return next((i for i in range(len(out) - 1, -1, -1) if out[i] in letters), None)


def _horn(out: list[str], breve: bool, horn: bool = True) -> bool:
    """Put a horn (ư ơ; "uo" → ươ) or a breve (ă) on the last vowels typed; False when none fits."""
    joined = "".join(out)
    if horn and "uo" in joined:
        at = joined.rindex("uo")
        out[at], out[at + 1] = "ư", "ơ"
        return True
    if horn and "ua" in joined and not joined.endswith(("uan", "uat", "uang", "uanh", "uac", "uach")):
        at = joined.rindex("ua")  # "mua" + w → "mưa"; "quan" + w is "quăn"
        if not (at > 0 and joined[at - 1] == "q"):
            out[at] = "ư"
            return True
    at = _last(out, ("uo" if horn else "") + ("a" if breve else ""))
    if at is None:
        return False
    out[at] = {"a": "ă", **_HORN}[out[at]]
    return True


def _hook_bare_w(out: list[str]) -> bool:
    """A Telex "w" with no vowel before it to mark is the vowel ư ("tw" → "tư", "nhw" → "như")."""
    if any(c in "aăâeêioôơuưy" for c in out):
        return False
    out.append("ư")
    return True


def _finish(out: list[str], tone: str | None, typed: str) -> str | None:
    base = "".join(out)
    if not base:
        return None
    syllable = unicodedata.normalize("NFC", _place(base, tone))
    if syllable == typed.lower() or not is_syllable(syllable):
        return None
    return syllable[0].upper() + syllable[1:] if typed[0].isupper() else syllable


def _place(base: str, tone: str | None) -> str:
    """The tone mark on the vowel the traditional rule picks (``search.text``)."""
    if tone is None:
        return base
    first = next((i for i, c in enumerate(base) if c in "aăâeêioôơuưy"), None)
    if first is None:
        return base + "?"  # never a syllable
    marked = base[: first + 1] + tone + base[first + 1 :]
    return _canonical_tone(unicodedata.normalize("NFC", marked))


def decode(word: str, real: bool = True) -> str | None:
    """The syllable a word stands for when it is Telex or VNI residue (rules 1–4 and 6 of the
    module; ``real=False`` skips the list of real words, which is built with this function)."""
    if len(word) < 2 or not _TOKEN.fullmatch(word) or any(c.isupper() for c in word[1:]):
        return None
    if real and word.lower() in REAL_WORDS:
        return None
    if word.isalpha():
        return None if could_be_syllable(word) else telex(word)
    return vni(word)


_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$")


def needs_company(word: str) -> bool:
    """Weak evidence, decoded only beside another decoded word: two characters, one letter with
    VNI digits ("as", "is", "U17", "E5"), or a capitalised word whose only Telex is a tone key
    ("Hari", "Car", "Cats": names and titles; "Vieetj", "Ddaif" have a mark of their own)."""
    if len(word) <= 2 or sum(c.isalpha() for c in word) == 1:
        return True
    return word[0].isupper() and word.isalpha() and not _TELEX_MARK.search(word.lower())


def core(word: str) -> str:
    """The word without the punctuation around it ("vieetj," → "vieetj")."""
    return _EDGE.match(word).group(2)


def decode_words(words: list[str]) -> dict[int, str]:
    """Index → decoded syllable for the words of a query that are Telex or VNI residue.

    Words are taken whole or with their surrounding punctuation stripped ("vieetj," →
    "việt,"); two-character words only beside another decoded one (rule 5).
    """
    found: dict[int, str] = {}
    short: list[int] = []
    for i, word in enumerate(words[:MAX_WORDS]):
        lead, core, tail = _EDGE.match(word).groups()
        syllable = decode(core)
        if syllable is None:
            continue
        if needs_company(core):
            short.append(i)
        found[i] = lead + syllable + tail
    if len(short) == len(found):
        return {}
    return found
