"""Legacy Vietnamese encodings and mojibake: detect them, decode them, repair text they garbled.

Provincial archives still hold TCVN3 (ABC, the .Vn fonts), VNI-Windows (the VNI- fonts) and
Windows-1258 files, and scraped text often arrives as mojibake: UTF-8 read as Windows-1252 and
saved again ("Viá»‡t Nam"). Indexed as is, they are unsearchable.

Two levels:

- a **file** that is not UTF-8 is decoded as each legacy encoding, and the one whose text holds
  the largest share of valid Vietnamese syllables (``search.is_syllable``) wins, when that share
  is at least ``MIN_SHARE`` and ``MARGIN`` above the next one; otherwise the file is reported as
  undecided (``Undecided``), never guessed: ``--encoding`` names it;
- a **record** of a UTF-8 file whose text holds few valid syllables is repaired when one reading
  of it holds far more: mojibake (``ftfy.fix_encoding``), or TCVN3/VNI text shown through
  Windows-1252 ("ViÖt Nam", "Vieät Nam"). Clean text is never touched: a repair must raise the
  share from under ``REPAIR_BELOW`` to ``MIN_SHARE`` and ``MARGIN`` above it.

Windows-1258 writes tone marks as combining characters after the letter: its text is NFC'd.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ftfy
import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-1252 codec)

from search import is_syllable

UTF8 = "utf-8"
CP1258 = "windows-1258"
TCVN3 = "tcvn3"
VNI = "vni-windows"
MOJIBAKE = "utf-8-as-windows-1252"
LEGACY = (CP1258, TCVN3, VNI)  # what a file that is not UTF-8 may be
ENCODINGS = (UTF8, *LEGACY)  # what --encoding may force
SAMPLE_BYTES = 1 << 20  # a file's encoding is decided on its first MiB
MIN_WORDS = 20  # fewer words than this decide nothing
MIN_SHARE = 0.6  # a decoding wins with at least this share of valid syllables ...
MARGIN = 0.2  # ... this far above the next one (or above the text as it was)
REPAIR_BELOW = 0.5  # a UTF-8 record is examined only below this share
DECIDE_CHARS = 4_000  # a record's repair is decided on this much of its text (~800 words)
# Latin-1 characters Vietnamese does not use: mojibake ("á»‡", "Ä‘"), TCVN3 ("§", "®", "¸") and VNI
# ("ö", "ø", "ä") shown as Windows-1252 are full of them, clean text has few or none.
_SUSPECT = re.compile(
    "[" + "".join(chr(c) for c in range(0x80, 0x100) if chr(c) not in "àáâãèéêìíòóôõùúýÀÁÂÈÉÊÌÍÒÓÔÕÙÚÝ") + "]"
)
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_LETTER = re.compile(r"[^\W\d_]")

# TCVN3 (TCVN 5712:1993, VN3): one byte per letter, lowercase only for letters with a tone (the
# capitals are the same bytes in the .VnTimeH fonts).
_TCVN3 = dict(
    zip(
        [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE],
        "ĂÂÊÔƠƯĐăâêôơưđ",
        strict=True,
    )
)
_TCVN3_TONED = {  # byte of each toned letter: à ả ã á ạ order, per base vowel
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TONES = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # huyền, hỏi, ngã, sắc, nặng
for _base, _codes in _TCVN3_TONED.items():
    for _tone, _code in zip(_TONES, _codes, strict=True):
        _TCVN3[_code] = unicodedata.normalize("NFC", _base + _tone)
TCVN3_DECODE = {code: ch for code, ch in _TCVN3.items()}
TCVN3_ENCODE = {ch: bytes([code]) for code, ch in _TCVN3.items()}

# VNI-Windows: the letter, then a second byte for its marks (as Windows-1252 shows them); a few
# letters are one byte of their own.
_VNI_MARKS = {  # second byte → (vowel mark, tone); lowercase, the capitals' bytes are their upper()
    "ù": ("", "\u0301"),
    "ø": ("", "\u0300"),
    "û": ("", "\u0309"),
    "õ": ("", "\u0303"),
    "ï": ("", "\u0323"),
    "â": ("\u0302", ""),
    "á": ("\u0302", "\u0301"),
    "à": ("\u0302", "\u0300"),
    "å": ("\u0302", "\u0309"),
    "ã": ("\u0302", "\u0303"),
    "ä": ("\u0302", "\u0323"),
    "ê": ("\u0306", ""),
    "é": ("\u0306", "\u0301"),
    "è": ("\u0306", "\u0300"),
    "ú": ("\u0306", "\u0309"),
    "ü": ("\u0306", "\u0303"),
    "ë": ("\u0306", "\u0323"),
}
_VNI_SINGLE = {"í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "ô": "ơ", "ö": "ư", "î": "ỵ", "ñ": "đ"}
_VNI_SINGLE |= {k.upper(): v.upper() for k, v in _VNI_SINGLE.items()}
_VNI_BASES = "aeouyAEOUY" + "ôöÔÖ"  # letters a mark byte may follow (ô, ö: ơ, ư)
PAIR_STARTS = frozenset(_VNI_BASES.encode("cp1252"))  # bytes a VNI mark byte may follow
_VNI_MARK_CHARS = "".join(_VNI_MARKS) + "".join(_VNI_MARKS).upper()
_VNI = re.compile(f"([{_VNI_BASES}])([{_VNI_MARK_CHARS}])|[{''.join(_VNI_SINGLE)}]")
_HAT, _BREVE = "\u0302", "\u0306"


def vni_text(text: str) -> str:
    """Unicode from VNI-Windows text as Windows-1252 shows it ("Vieät Nam" → "Việt Nam")."""
    return _VNI.sub(_vni_letter, text)


def _vni_letter(m: re.Match) -> str:
    if m.group(1) is None:
        return _VNI_SINGLE[m.group()]
    base, mark = m.group(1), m.group(2)
    quality, tone = _VNI_MARKS[mark.lower()]
    lower = base.lower()
    if quality == _HAT and lower not in "aeo" or quality == _BREVE and lower != "a":
        return _VNI_SINGLE.get(base, base) + mark  # no such letter: not a VNI pair
    return unicodedata.normalize("NFC", _VNI_SINGLE.get(base, base) + quality + tone)


def tcvn3_text(text: str) -> str:
    """Unicode from TCVN3 text as Windows-1252/Latin-1 shows it ("ViÖt Nam" → "Việt Nam")."""
    return "".join(TCVN3_DECODE.get(ord(c), c) if ord(c) < 256 else c for c in text)


def decode(data: bytes, encoding: str) -> str:
    """Text (NFC) from bytes in one of ``ENCODINGS``; undecodable bytes become U+FFFD."""
    if encoding == UTF8:
        text = data.decode("utf-8", "replace")
    elif encoding == CP1258:
        text = data.decode("cp1258", "replace")
    elif encoding == TCVN3:
        text = tcvn3_text(data.decode("latin-1"))
    elif encoding == VNI:
        text = vni_text(data.decode("cp1252", "replace"))
    else:
        raise ValueError(f"unknown encoding {encoding!r}; one of {', '.join(ENCODINGS)}")
    return unicodedata.normalize("NFC", text)


def syllable_share(text: str) -> tuple[float, int]:
    """(share of the words that are valid Vietnamese syllables, words counted). A word is what
    spaces separate, without the punctuation around it: mojibake's "lá»\x9di" is one word, not
    the valid "l", "á", "i"."""
    words = [w for w in (_EDGES.sub("", t) for t in text.split()) if _LETTER.search(w)]
    if not words:
        return 0.0, 0
    return sum(map(is_syllable, words)) / len(words), len(words)


@dataclass(frozen=True)
class Detected:
    """How a file reads: its ``encoding`` and the share of valid syllables as read (UTF-8, bytes
    replaced) and as decoded."""

    encoding: str
    before: float = 1.0
    after: float = 1.0

    def __str__(self) -> str:
        if self.encoding == UTF8:
            return UTF8
        return f"{self.encoding} (Vietnamese syllables {self.before:.0%} as read, {self.after:.0%} decoded)"


@dataclass(frozen=True)
class Undecided:
    """A file no encoding reads clearly: the shares each gave, for the report."""

    shares: dict[str, float]

    def __str__(self) -> str:
        tried = ", ".join(f"{name} {share:.0%}" for name, share in self.shares.items())
        return f"valid Vietnamese syllables: {tried}; name it with --encoding"


def detect(sample: bytes) -> Detected | Undecided:
    """The encoding of a file from its first bytes: UTF-8 when they are (a character cut at the
    end of the sample aside), else the legacy encoding whose text is clearly most Vietnamese."""
    try:
        sample.decode("utf-8")
        return Detected(UTF8)
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return Detected(UTF8)
    as_read = sample.decode("utf-8", "replace")
    bad = as_read.count("\ufffd")
    if sum(ord(c) > 0x7F for c in as_read) - bad >= bad:  # UTF-8 with a few bad lines: reported by line
        return Detected(UTF8)
    before, _ = syllable_share(as_read)
    shares = {}
    for encoding in LEGACY:
        shares[encoding], words = syllable_share(decode(sample, encoding))
        if words < MIN_WORDS:
            return Undecided({name: 0.0 for name in LEGACY})
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    (best, share), (_, second) = ranked[0], ranked[1]
    if share >= MIN_SHARE and share - second >= MARGIN:
        return Detected(best, before, share)
    return Undecided(shares)


def repair(text: str) -> tuple[str, str | None]:
    """(text, how it was repaired or None) for one record's text of a UTF-8 file; decided on its
    first ``DECIDE_CHARS`` characters (a 10 MB body costs no more to judge than a news story)
    and only when it holds a character a repair would read differently (``_SUSPECT``)."""
    how = repair_needed(text[:DECIDE_CHARS])
    if how is None:
        return text, None
    fixed = dict(_TEXT_REPAIRS)[how](text)
    return (text, None) if fixed is None else (unicodedata.normalize("NFC", fixed), how)


def repair_needed(text: str) -> str | None:
    """Which repair makes the text clearly Vietnamese, if one does (see the module's doc)."""
    if not _SUSPECT.search(text):
        return None  # no character any of the repairs reads differently: nothing to judge
    before, words = syllable_share(text)
    if words < 3 or before >= REPAIR_BELOW:
        return None
    how, best_share = None, before
    for name, fix in _TEXT_REPAIRS:
        fixed = fix(text)
        if fixed is None or fixed == text:
            continue
        share, _ = syllable_share(fixed)
        if share > best_share:
            how, best_share = name, share
    if how is None or best_share < MIN_SHARE or best_share - before < MARGIN:
        return None
    return how


def _as_cp1252(text: str) -> str | None:
    """The text's characters as the Windows-1252 (else Latin-1) bytes they show, read back as Latin-1."""
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("latin-1")
        except UnicodeEncodeError:
            continue
    return None


def _tcvn3_shown(text: str) -> str | None:
    shown = _as_cp1252(text)
    return None if shown is None else tcvn3_text(shown)


def _vni_shown(text: str) -> str | None:
    shown = _as_cp1252(text)
    return None if shown is None else vni_text(shown.encode("latin-1").decode("cp1252", "replace"))


_TEXT_REPAIRS = (
    (MOJIBAKE, ftfy.fix_encoding),
    (TCVN3, _tcvn3_shown),
    (VNI, _vni_shown),
    (CP1258, lambda text: unicodedata.normalize("NFC", text)),
)


def repair_fields(fields: dict, names: tuple[str, ...]) -> tuple[dict, str | None]:
    """The record's text fields repaired together: decided on all of them, applied to each."""
    texts = [fields[n][:DECIDE_CHARS] for n in names if isinstance(fields.get(n), str)]
    how = repair_needed("\n".join(texts)[:DECIDE_CHARS])
    if how is None:
        return fields, None
    fix = dict(_TEXT_REPAIRS)[how]
    out = dict(fields)
    for name in names:
        value = fields.get(name)
        if isinstance(value, str):
            fixed = fix(value)
            out[name] = unicodedata.normalize("NFC", fixed) if fixed is not None else value
    return out, how


# --- writing them (the benchmark and the tests round-trip real text) -------------------------------


def encode(text: str, encoding: str) -> bytes:
    """Bytes of NFC text in a legacy encoding, as the old tools wrote them (capitals with a tone
    become lowercase in TCVN3, which has none; characters an encoding lacks become "?")."""
    if encoding == CP1258:
        return "".join(_cp1258_char(c) for c in text).encode("cp1258", "replace")
    if encoding == TCVN3:
        return b"".join(_tcvn3_char(c) for c in text)
    if encoding == VNI:
        return "".join(_VNI_ENCODE.get(c, c) for c in text).encode("cp1252", "replace")
    if encoding == MOJIBAKE:
        return text.encode("utf-8").decode("sloppy-windows-1252").encode("utf-8")  # as browsers show it
    raise ValueError(f"cannot encode to {encoding!r}")


def _cp1258_char(c: str) -> str:
    try:
        c.encode("cp1258")
        return c
    except UnicodeEncodeError:
        decomposed = unicodedata.normalize("NFD", c)
        base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in _TONES))
        return base + "".join(m for m in decomposed if m in _TONES)


def _tcvn3_char(c: str) -> bytes:
    if c in TCVN3_ENCODE:
        return TCVN3_ENCODE[c]
    if c.lower() in TCVN3_ENCODE:
        return TCVN3_ENCODE[c.lower()]
    return c.encode("latin-1", "replace")


def _vni_table() -> dict[str, str]:
    table = {v: k for k, v in _VNI_SINGLE.items()}
    for base in "aeouy":
        for mark, (quality, tone) in _VNI_MARKS.items():
            letter = unicodedata.normalize("NFC", base + quality + tone)
            if len(letter) == 1 and letter not in table:
                table[letter] = base + mark
                table[letter.upper()] = base.upper() + mark.upper()
    for horn, single in (("ơ", "ô"), ("ư", "ö")):
        for mark, (quality, tone) in _VNI_MARKS.items():
            if not quality:
                letter = unicodedata.normalize("NFC", horn + tone)
                table[letter] = single + mark
                table[letter.upper()] = single.upper() + mark.upper()
    return table


_VNI_ENCODE = _vni_table()
