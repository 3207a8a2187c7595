"""Search-as-you-type: completions of what a reader is typing, from the index's own phrases.

Candidates, gathered once per generation (``write``, called when a generation is built; an
incremental update keeps them, since gathering reads the whole lexicon and every title) into a
file of the generation (``FILE``):

* the multi-syllable words of the ``text`` field's lexicon ("thành_phố", "hồ_chí_minh"), scored by
  how many articles hold them;
* phrases of titles: two words side by side ("thành phố Hồ Chí Minh", "thành phố Huế", "giá
  vàng"), the titles cut into words greedily with the lexicon's words, neither a function word,
  scored by how many titles hold them.

Each keeps a surface as titles spell it (capitals included), else its lexicon key. They are sorted
by their folded key (no marks, đ→d), so a request is two bisections for the range of candidates
that start with the folded text and a numpy selection of the best of that range: no lexicon scan,
a few hundred microseconds at 201k articles (``benchmarks/suggest_latency.py``).

A request completes the last, possibly partial, word after the words already typed: the longest
tail of the typed words that starts a candidate is completed, the words before it stay as typed.
Marks typed are respected: a typed syllable with marks only matches itself (any tone placement),
a partial one only syllables with the same tone and the same marked letters, so "bão" never
becomes "báo chí".
"""

from __future__ import annotations

import bisect
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from search import generations
from search.query import STOPWORDS, TEXT
from search.text import TONE_MARKS, exact_key, fold, has_diacritics, nfc

FILE = generations.COMPLETIONS
MAX_COMPLETIONS = 8  # what a request returns at most
MIN_CHARS = 2  # a tail shorter than this (folded, spaces aside) is not completed
MAX_TYPED_CHARS = 200  # longer input is not completed: nobody types a query that long
TAIL_WORDS = 4  # the last words tried as the start of a candidate, longest first
WORD_SYLLABLES = 4  # the longest word the title segmentation looks for
EXAMINED = 256  # candidates of each kind checked for marks per tail, best first: the bound of a request
WORD, PHRASE = 0, 1
_SYLLABLE = re.compile(r"[^\W\d_]+")
_OPENERS = "\"'“‘«([{"
_CLOSERS = "\"'”’»)]}.,:;!?…"


def min_count(articles: int) -> int:
    """Holders a candidate needs: any in a small index, 3 in a large one (once is chance)."""
    return 1 if articles < 1000 else 3


# --- building --------------------------------------------------------------------------------


def write(gen_dir: str | Path) -> Path:
    """Gather the candidates of the index in ``gen_dir`` into its ``FILE`` (replaced atomically)."""
    gen_dir = Path(gen_dir)
    ix = whoosh_index.open_dir(str(gen_dir))
    with ix.reader() as reader:
        floor = min_count(reader.doc_count())
        found: Counter = Counter()
        # Segment by segment: Whoosh's merged view of the segments' lexicons costs ten times more.
        for leaf, _offset in reader.leaf_readers():
            found.update({key: info.doc_frequency() for key, info in leaf.iter_field(TEXT) if b"_" in key})
        words = {
            text: df for key, df in found.items() if df >= floor and _is_word(text := key.decode("utf-8"))
        }
        titles = (stored.get("title") or "" for _docnum, stored in reader.iter_docs())
        phrases, surfaces = _title_phrases(titles, words)
    entries = [(key.replace("_", " "), df, WORD) for key, df in words.items()]
    entries += [(key, n, PHRASE) for key, n in phrases.items() if n >= floor]
    rows = sorted((fold(text), surfaces.get(text, text), score, kind) for text, score, kind in entries)
    path = gen_dir / FILE
    tmp = gen_dir / (FILE + ".tmp.npz")
    np.savez(
        tmp,
        keys=_blob(row[0] for row in rows),
        surfaces=_blob(row[1] for row in rows),
        scores=np.array([row[2] for row in rows], dtype=np.int32),
        kinds=np.array([row[3] for row in rows], dtype=np.uint8),
    )
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    generations.fsync_dir(gen_dir)  # the rename is durable too
    return path


def _is_word(key: str) -> bool:
    """A lexicon word of letters only ("thành_phố"), not a compound or a number."""
    return all(part.isalpha() for part in key.split("_"))


def _blob(texts: Iterator[str]) -> np.ndarray:
    return np.frombuffer("\n".join(texts).encode("utf-8"), dtype=np.uint8)


def _title_phrases(titles: Iterator[str], words: dict[str, int]) -> tuple[Counter, dict[str, str]]:
    """Titles holding each phrase of two words (or syllables) side by side, neither a function word,
    and how titles write each phrase and word (inside a title rather than at its start, when seen)."""
    counts: Counter = Counter()
    surfaces: dict[str, str] = {}
    inner: set[str] = set()
    for title in titles:
        seen = set()
        for chunk in _chunks(nfc(title)):
            units = _words(chunk, words)
            for i, (key, surface) in enumerate(units):
                if "_" in key:
                    _remember(surfaces, inner, key.replace("_", " "), surface, i > 0)
                if key in STOPWORDS or i + 1 == len(units) or units[i + 1][0] in STOPWORDS:
                    continue
                nxt_key, nxt_surface = units[i + 1]
                phrase = key.replace("_", " ") + " " + nxt_key.replace("_", " ")
                seen.add(phrase)
                _remember(surfaces, inner, phrase, surface + " " + nxt_surface, i > 0)
        counts.update(seen)
    return counts, surfaces


def _remember(surfaces: dict[str, str], inner: set[str], key: str, surface: str, is_inner: bool) -> None:
    """Keep how a title writes the key: inside a title when it does, else at a start, where a
    capital only says "first word" unless the words after it are capitalised too ("Hà Nội")."""
    if not is_inner and surface.split(" ", 1)[1].islower():
        surface = surface[0].lower() + surface[1:]
    if key not in surfaces or (is_inner and key not in inner):
        surfaces[key] = surface
        if is_inner:
            inner.add(key)


def _chunks(title: str) -> Iterator[list[str]]:
    """Runs of plain syllables, cut where punctuation, numbers or compounds stand between them."""
    run: list[str] = []
    for token in title.split():
        core = token.lstrip(_OPENERS)
        syllable = core.rstrip(_CLOSERS)
        plain = _SYLLABLE.fullmatch(syllable) is not None
        if run and (core != token or not plain):
            yield run
            run = []
        if plain:
            run.append(syllable)
        if run and (syllable != core or not plain):
            yield run
            run = []
    if run:
        yield run


def _words(syllables: list[str], words: dict[str, int]) -> list[tuple[str, str]]:
    """(key, surface) of each word, the longest lexicon word at each step (a syllable otherwise)."""
    keys = [exact_key(s) for s in syllables]
    out, i = [], 0
    while i < len(keys):
        for n in range(min(WORD_SYLLABLES, len(keys) - i), 0, -1):
            key = "_".join(keys[i : i + n])
            if n == 1 or key in words:
                out.append((key, " ".join(syllables[i : i + n])))
                i += n
                break
    return out


# --- answering -------------------------------------------------------------------------------


@dataclass
class Completions:
    """One generation's candidates, sorted by folded key."""

    keys: list[str]
    surfaces: list[str]
    scores: np.ndarray
    kinds: np.ndarray

    @classmethod
    def load(cls, path: Path) -> Completions:
        with np.load(path) as data:
            keys = data["keys"].tobytes().decode("utf-8")
            surfaces = data["surfaces"].tobytes().decode("utf-8")
            scores, kinds = data["scores"], data["kinds"]
        split = (lambda blob: blob.split("\n")) if len(scores) else (lambda blob: [])
        return cls(split(keys), split(surfaces), scores, kinds)

    def complete(self, typed: str, limit: int = MAX_COMPLETIONS) -> list[str]:
        """Up to ``limit`` completions of ``typed``, best first (module doc)."""
        typed = nfc(typed)
        if len(typed) > MAX_TYPED_CHARS:
            return []
        words = typed.split()
        trailing = typed[-1:].isspace()
        for start in range(max(0, len(words) - TAIL_WORDS), len(words)):
            tail = words[start:]
            prefix = fold(" ".join(tail)) + (" " if trailing else "")
            if len(prefix.replace(" ", "")) < MIN_CHARS:
                continue
            lo = bisect.bisect_left(self.keys, prefix)
            hi = bisect.bisect_left(self.keys, prefix + "\U0010ffff", lo)
            if lo == hi:
                continue
            found = self._best(lo, hi, tail, trailing, limit)
            if found:
                return [" ".join([*words[:start], surface]) for surface in found]
        return []

    def _best(self, lo: int, hi: int, tail: list[str], trailing: bool, limit: int) -> list[str]:
        """Words and phrases in turn, each by score, that fit the typed marks."""
        typed = " ".join(tail).lower()
        check = marks_check(tail, trailing)
        picks: list[list[str]] = []
        for kind in (WORD, PHRASE):
            chosen: list[str] = []
            for i in self._ranked(lo, hi, kind):
                surface = self.surfaces[i]
                if surface.lower() != typed and (check is None or check(surface.split())):
                    chosen.append(surface)
                    if len(chosen) == limit:
                        break
            picks.append(chosen)
        out: list[str] = []
        seen: set[str] = set()
        for pair in zip(*(chosen + [""] * (limit - len(chosen)) for chosen in picks), strict=True):
            for surface in pair:
                if surface and surface.lower() not in seen:
                    seen.add(surface.lower())
                    out.append(surface)
        return out[:limit]

    def _ranked(self, lo: int, hi: int, kind: int) -> np.ndarray:
        """Indexes of the range's candidates of ``kind``, best first, at most ``EXAMINED``."""
        (mine,) = np.nonzero(self.kinds[lo:hi] == kind)
        if len(mine) > EXAMINED:
            mine = mine[np.argpartition(-self.scores[lo:hi][mine], EXAMINED - 1)[:EXAMINED]]
        order = np.argsort(-self.scores[lo:hi][mine], kind="stable")
        return (mine[order] + lo).tolist()


def fits(tail: list[str], trailing: bool, candidate: list[str]) -> bool:
    """Whether the candidate's syllables keep the marks of the typed ones (the folded letters
    already agree): whole syllables typed with marks compare by their exact key, the last one,
    when partial, by its tone and its marked letters."""
    check = marks_check(tail, trailing)
    return check is None or check(candidate)


def marks_check(tail: list[str], trailing: bool) -> Callable[[list[str]], bool] | None:
    """``fits`` for one typed tail, the typed side worked out once; None when nothing was typed
    with marks (the folded prefix already says it all)."""
    whole: list[tuple[int, str]] = []  # (position, exact key) of whole syllables typed with marks
    partial: tuple[int, str, list[tuple[int, str]]] | None = None  # (position, tone, marked letters)
    for i, typed in enumerate(tail):
        if not has_diacritics(typed):
            continue
        if i < len(tail) - 1 or trailing:
            whole.append((i, exact_key(typed)))
        else:
            tone, bases = _toned(typed.lower())
            partial = (i, tone, [(j, b) for j, b in enumerate(bases) if b != fold(b)])
    if not whole and partial is None:
        return None

    def check(candidate: list[str]) -> bool:
        if len(candidate) < len(tail) or any(exact_key(candidate[i]) != key for i, key in whole):
            return False
        if partial is None:
            return True
        i, tone, marked = partial
        found_tone, bases = _toned(candidate[i].lower())
        if tone and found_tone != tone:
            return False
        return all(j < len(bases) and bases[j] == b for j, b in marked)

    return check


@lru_cache(maxsize=100_000)
def _toned(syllable: str) -> tuple[str, list[str]]:
    """(tone marks, each letter without its tone mark: vowel marks and đ kept)."""
    tone = "".join(c for c in unicodedata.normalize("NFD", syllable) if c in TONE_MARKS)
    return tone, [_without_tone(ch) for ch in syllable]


def _without_tone(letter: str) -> str:
    decomposed = unicodedata.normalize("NFD", letter)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))


# --- per generation, per process ----------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[str, tuple[tuple[int, int], Completions]] = {}  # path → (file stamp, completions)
LOADED = 4  # generations' completions kept per process (the current one, and a few other indexes)


def for_generation(gen_dir: Path) -> Completions | None:
    """The completions of a generation, loaded once per file version (a stat per call); None when
    the generation has none."""
    path = gen_dir / FILE
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp, key = (st.st_ino, st.st_mtime_ns), str(path)
    with _lock:
        held = _loaded.get(key)
    if held is not None and held[0] == stamp:
        return held[1]
    completions = Completions.load(path)
    with _lock:
        _loaded.pop(key, None)
        _loaded[key] = (stamp, completions)
        while len(_loaded) > LOADED:
            del _loaded[next(iter(_loaded))]
    return completions
