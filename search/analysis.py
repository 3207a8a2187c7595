"""From text to index tokens: syllables, pyvi words and compounds, in an exact and a folded form.

Token scheme, chosen by measurement (``benchmarks/token_scheme.py``: 199 VMDS topics over 628
VMDS + 5,000 VietNews test articles; table in ``benchmarks/results/token_scheme.md``). MRR@10 with
queries as written / without diacritics: syllables only 0.952 / 0.956; + pyvi's words of the query
as word tokens 0.959 / 0.956; + every 2–3 syllable run of the query as a word candidate, a title
bonus and word-covered syllables at half weight (the chosen scheme) 0.964 / 0.965, Recall@10
0.960 / 0.945 (syllables only: 0.947 / 0.911). The index side of the scheme:

* every syllable is a token (so "học" finds "khoa học"), at consecutive positions, so a phrase
  query over syllables matches a multi-syllable word wherever it stands;
* every multi-syllable pyvi word is one more token ("khoa_học") at the position of its first
  syllable, spanning the whole word: a query word becomes one cheap term lookup that only matches
  where pyvi also saw the word, which ranks "khoa học" above "khoa … học" apart;
* a compound ("tp.hcm", "13/11/2023", "covid-19") is a token as typed, and its parts are tokens too;
* the exact field keys tokens by ``text.exact_key`` (lowercase, canonical tone, final y→i), the
  folded field by ``text.fold`` (no marks, đ→d), at the *same* positions, so a highlight found
  through the folded field marks the accented original;
* the postings keep positions, not character offsets: ``position_starts`` is stored once per
  article and maps a position back to its syllable's characters.

Title, summary and body are indexed as one ``text`` field (and its folded twin): title tokens weigh
``TITLE_BOOST`` and summary tokens ``SUMMARY_BOOST`` as term frequency, positions jump by
``POSITION_GAP`` between the parts. ``segment_article`` produces plain tuples (picklable, made in
worker processes); ``Analyzed`` carries them to the Whoosh tokenizer so pyvi never runs twice.
"""

import bisect
from collections.abc import Iterator, Mapping

from whoosh.analysis import Token, Tokenizer

from search.segment import JOINERS, Unit, segment
from search.text import exact_key, fold, nfc

TEXT_FIELDS = ("title", "summary", "body")
SEPARATOR = "\n"
POSITION_GAP = 100  # positions between title, summary and body: phrases never cross parts
TITLE_BOOST = 3.0  # index-time weights; try others with benchmarks/token_scheme.py --title-boost
SUMMARY_BOOST = 1.5

# (key, position, startchar, endchar)
TokenTuple = tuple[str, int, int, int]


def tokens(text: str) -> list[TokenTuple]:
    """Exact-form tokens of an NFC text, with character offsets into it."""
    out: list[TokenTuple] = []
    pos = 0
    for word in segment(text):
        first = pos
        for unit in word:
            pos = _unit_tokens(unit, pos, out)
        if len(word) > 1:
            key = "_".join(exact_key(u.text) for u in word)
            out.append((key, first, word[0].start, word[-1].end))
    return out


def _unit_tokens(unit: Unit, pos: int, out: list[TokenTuple]) -> int:
    if not unit.is_compound:
        out.append((exact_key(unit.text), pos, unit.start, unit.end))
        return pos + 1
    out.append((compound_key(unit.text), pos, unit.start, unit.end))
    for part in unit.parts():
        out.append((exact_key(part.text), pos, part.start, part.end))
        pos += 1
    return pos


def compound_key(text: str) -> str:
    """A compound keeps its joiners; each part gets its exact key."""
    return "".join(exact_key(c) if c.isalnum() else c for c in _split_keep(text))


def _split_keep(text: str) -> list[str]:
    """Split into alphanumeric runs and single joiner characters."""
    pieces: list[str] = []
    for ch in text:
        if pieces and ch.isalnum() and pieces[-1][-1].isalnum():
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces


def is_syllable(key: str) -> bool:
    """A syllable's or a compound part's key: one position of its own. Words ("khoa_học") join
    syllables with "_" and compounds ("tp.hcm") keep their joiners; keying adds no joiner."""
    return JOINERS.search(key) is None


def key_syllables(key: str) -> int:
    """How many positions a token spans, from its key (see ``is_syllable``)."""
    return sum(1 for piece in JOINERS.split(key) if piece)


def syllable_tokens(toks: list[TokenTuple]) -> list[TokenTuple]:
    """The title fields serve ``title:`` and phrases, which are built from syllables alone."""
    return [t for t in toks if is_syllable(t[0])]


def folded(toks: list[TokenTuple]) -> list[TokenTuple]:
    """The same tokens keyed for accentless matching; offsets unchanged."""
    return [(fold(k), p, s, e) for k, p, s, e in toks]


def joined(texts: Mapping[str, str]) -> str:
    """Title, summary and body as one text: the ``text`` field's offsets point into this."""
    return SEPARATOR.join(texts[f] for f in TEXT_FIELDS)


def field_bounds(texts: Mapping[str, str]) -> list[tuple[str, int, int]]:
    """(field, start, end) of each part inside ``joined(texts)``."""
    out, start = [], 0
    for f in TEXT_FIELDS:
        out.append((f, start, start + len(texts[f])))
        start += len(texts[f]) + len(SEPARATOR)
    return out


def segment_article(article: Mapping) -> dict:
    """Everything pyvi has to do for one article: the expensive step, run in worker processes.

    Title, summary and body become one ``text`` token stream (offsets into ``joined``, a gap of
    positions between parts so no phrase spans two of them); the title is also a stream alone,
    of syllables only.
    """
    texts = {f: nfc(article.get(f) or "") for f in TEXT_FIELDS}
    parts = {f: tokens(t) for f, t in texts.items()}
    text: list[TokenTuple] = []
    pos_base = 0
    for field, start, _end in field_bounds(texts):
        text += [(k, p + pos_base, s + start, e + start) for k, p, s, e in parts[field]]
        pos_base = (text[-1][1] + POSITION_GAP) if text else pos_base
    return {
        "texts": texts,
        "text": text,
        "starts": position_starts(text),
        "title": syllable_tokens(parts["title"]),
    }


def position_starts(toks: list[TokenTuple]) -> list[int]:
    """The start offset of each position's syllable, for every position up to the last.

    The postings keep positions but no character offsets (``search.codec.CompactPositions``);
    this one list per article, stored with it, turns a matched position back into characters.
    Every token at a position starts where its syllable does (a word or a compound at its first
    syllable), and the positions of the gap between parts repeat the last start.
    """
    at: dict[int, int] = {}
    for _key, pos, start, _end in toks:
        at.setdefault(pos, start)
    starts, last = [], 0
    for pos in range(max(at, default=-1) + 1):
        last = at.get(pos, last)
        starts.append(last)
    return starts


class Analyzed(str):
    """A field value that carries its tokens, so the index writer does not segment it again.

    ``boosts`` lists (end offset, weight): a token starting before the first end gets the first
    weight, and so on; tokens past them all weigh 1.
    """

    boosts: list[tuple[int, float]]

    def __new__(cls, text: str, toks: list[TokenTuple], boosts: list[tuple[int, float]] = ()) -> "Analyzed":
        obj = super().__new__(cls, text)
        obj._tokens = toks
        obj.boosts = list(boosts)
        obj._groups = None
        return obj

    @property
    def tokens(self) -> list[TokenTuple]:
        return self._tokens

    def boost(self, start: int) -> float:
        for end, weight in self.boosts:
            if start < end:
                return weight
        return 1.0

    def groups(self) -> dict[str, tuple[list[int], float]]:
        """Each key's positions in token order and its summed boost: what its posting is made of.

        One pass over the tokens, each token's boost found by bisecting the boosted ranges."""
        if self._groups is None:
            ends = [end for end, _weight in self.boosts]
            weights_of = [weight for _end, weight in self.boosts] + [1.0]
            positions: dict[str, list[int]] = {}
            weights: dict[str, float] = {}
            for key, pos, start, _end in self.tokens:
                boost = weights_of[bisect.bisect_right(ends, start)] if ends else 1.0
                held = positions.get(key)
                if held is None:
                    positions[key] = [pos]
                    weights[key] = boost
                else:
                    held.append(pos)
                    weights[key] += boost
            self._groups = {key: (poslist, weights[key]) for key, poslist in positions.items()}
        return self._groups

    def folded(self) -> "FoldedAnalyzed":
        """The same value keyed for accentless matching (``folded`` tokens)."""
        return FoldedAnalyzed(self)


class FoldedAnalyzed(Analyzed):
    """An ``Analyzed`` value's folded twin. Its groups merge the exact value's (several exact keys
    fold to one key, at distinct positions), so the folded field's postings cost a pass over
    distinct keys instead of a second pass over every token; its tokens are made only when asked
    for."""

    def __new__(cls, exact: Analyzed) -> "FoldedAnalyzed":
        obj = super().__new__(cls, str(exact), [], exact.boosts)
        obj._tokens = None
        obj._exact = exact
        return obj

    @property
    def tokens(self) -> list[TokenTuple]:
        if self._tokens is None:
            self._tokens = folded(self._exact.tokens)
        return self._tokens

    def groups(self) -> dict[str, tuple[list[int], float]]:
        if self._groups is None:
            merged: dict[str, tuple[list[int], float]] = {}
            for key, (positions, weight) in self._exact.groups().items():
                key = fold(key)
                held = merged.get(key)
                merged[key] = (
                    (positions, weight) if held is None else (sorted(held[0] + positions), held[1] + weight)
                )
            self._groups = merged
        return self._groups


def text_boosts(texts: Mapping[str, str]) -> list[tuple[int, float]]:
    """Index-time weights of title and summary tokens in the ``text`` field (BM25 sums them as tf)."""
    bounds = {f: end for f, _start, end in field_bounds(texts)}
    return [(bounds["title"], TITLE_BOOST), (bounds["summary"], SUMMARY_BOOST)]


class VietnameseTokenizer(Tokenizer):
    """Whoosh tokenizer: replays ``Analyzed`` tokens, or segments a plain string with pyvi."""

    def __init__(self, folded: bool = False):
        self.folded = folded

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VietnameseTokenizer) and other.folded == self.folded

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        analyzed = value if isinstance(value, Analyzed) else None
        toks = analyzed.tokens if analyzed else tokens(nfc(value))
        if self.folded and not analyzed:
            toks = folded(toks)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for key, pos, start, end in toks:
            t.text = key
            t.boost = analyzed.boost(start) if analyzed else 1.0
            t.stopped = False
            if keeporiginal:
                t.original = key
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t
