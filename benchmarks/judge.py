"""An independent judge of "does this article hold every word the reader typed?".

Deliberately not vnsearch's tokenizer (``search.text``, pyvi): a regex over NFC text, lowercased,
so a bug shared by the engine and its judge cannot hide. Two readings of a query:

- *syllables* (issue 11's definition): every query syllable occurs in the article as a whole token;
- *words*: besides, every word the query's author joined with ``_`` ("Hải_Phòng", "điểm_chuẩn")
  occurs as adjacent syllables, so "hải" in one word and "phòng" in another do not make "Hải Phòng".

A syllable is compared

- *marked* (query typed with diacritics): base letters with their vowel marks (â ă ê ô ơ ư đ) plus
  the tone mark, wherever the tone was placed: "hoà" = "hòa", "thuỷ" = "thủy";
- *folded* (query typed without): every mark dropped, đ→d.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

TOKEN = re.compile(r"[^\W_]+")  # "_" joins the syllables of an annotated word: a separator here
# The five Vietnamese tone marks as combining characters: grave, acute, tilde, hook above, dot below.
TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def tokens(text: str) -> list[str]:
    """Whole word tokens of NFC text, lowercased."""
    return TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def marked(token: str) -> str:
    """A syllable with its tone moved to the end: equal for every tone placement of one spelling."""
    decomposed = unicodedata.normalize("NFD", token)
    tone = "".join(sorted(c for c in decomposed if c in TONES))
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
    return base + tone


def folded(token: str) -> str:
    """A syllable without any mark, đ→d."""
    decomposed = unicodedata.normalize("NFD", token.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_marks(text: str) -> bool:
    """Typed with diacritics: folding would change it."""
    return folded(text) != text


def same_syllable(a: str, b: str) -> bool:
    """Equal up to case and tone placement."""
    return marked(a.lower()) == marked(b.lower())


class Judge:
    """Which articles of a collection hold every syllable of a query (an inverted list per key)."""

    def __init__(self, docs: Iterable[dict], fields: tuple[str, ...] = ("title", "summary", "body")):
        self.marked: dict[str, set[str]] = defaultdict(set)
        self.folded: dict[str, set[str]] = defaultdict(set)
        self.dates: dict[str, str | None] = {}
        self.texts: dict[str, str] = {}
        for doc in docs:
            self.dates[doc["id"]] = doc.get("date")
            self.texts[doc["id"]] = text = " ".join(doc.get(f) or "" for f in fields)
            for token in set(tokens(text)):
                self.marked[marked(token)].add(doc["id"])
                self.folded[folded(token)].add(doc["id"])

    def satisfying(self, query: str) -> set[str]:
        """Ids of the articles that hold every syllable of the query (none for a query without words).

        Marks are compared when the query has any, so "gia đình" does not accept "giá"."""
        postings, key = (self.marked, marked) if has_marks(query) else (self.folded, folded)
        lists = sorted((postings.get(key(t), set()) for t in tokens(query)), key=len)
        return set.intersection(*lists) if lists else set()

    def holding_words(self, query: str) -> set[str]:
        """Ids of the articles that hold every syllable, each ``_``-joined word as adjacent syllables."""
        key = marked if has_marks(query) else folded
        phrases = [[key(t) for t in tokens(word)] for word in query.split() if len(tokens(word)) > 1]
        return {
            i
            for i in self.satisfying(query)
            if all(_holds([key(t) for t in tokens(self.texts[i])], p) for p in phrases)
        }


def _holds(sequence: list[str], phrase: list[str]) -> bool:
    """The phrase occurs in the sequence as consecutive items."""
    n = len(phrase)
    return any(sequence[i : i + n] == phrase for i, key in enumerate(sequence) if key == phrase[0])
