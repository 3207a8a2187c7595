"""pyvi word segmentation with exact character offsets into the (NFC) text.

pyvi returns a re-spaced string with no offsets. We cut the text into syllables ourselves with
``re.finditer`` (so every unit keeps its span), ask pyvi's CRF model for the begin/inside label of
each unit, and join units into words with the rule ``ViTokenizer.tokenize`` applies. Offsets
therefore come straight from the regex and are right across newlines, repeated spaces, URLs and
numbers by construction.

Units are richer than pyvi's own: "TP.HCM", "13/11/2023", "COVID-19", "3,2" and
"thuathienhue.gov.vn" stay one unit (a *compound*), so they are searchable as typed; their parts
are indexed too (see ``search.analysis``).

pyvi's model and word lists are read from the pyvi package's files without importing
``pyvi.ViTokenizer``: that module unpickles the model through sklearn-crfsuite, which imports
scikit-learn and SciPy — 2 s at every start of a command and about 60 MB in every process, for a
model that python-crfsuite (what sklearn-crfsuite runs underneath) tags with alone.
"""

import importlib.resources
import io
import itertools
import pickle
import re
import string
from typing import NamedTuple

import pycrfsuite

# A compound: word characters joined by . / - , @ _ with no space around the joiner.
_UNIT = re.compile(r"\w+(?:[./\-,@_:']\w+)*|[^\w\s]")
JOINERS = re.compile(r"[./\-,@_:']")
PART = re.compile(r"[^\W_]+")
MAX_UNITS = 1000  # pyvi's CRF runs per chunk of units, so a 10 MB body costs memory linearly


class Unit(NamedTuple):
    """One syllable, compound or punctuation mark, with its span in the text (a named tuple: made
    for every syllable indexed, at under half a frozen dataclass's cost)."""

    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()

    @property
    def is_compound(self) -> bool:
        return self.is_word and JOINERS.search(self.text) is not None

    def parts(self) -> list["Unit"]:
        """The alphanumeric runs inside a compound ("COVID-19" → "COVID", "19")."""
        return [
            Unit(m.group(), self.start + m.start(), self.start + m.end()) for m in PART.finditer(self.text)
        ]


def units(text: str) -> list[Unit]:
    """Cut text into units with their character spans."""
    return [Unit(m.group(), m.start(), m.end()) for m in _UNIT.finditer(text)]


def segment(text: str) -> list[list[Unit]]:
    """Group the text's word units into pyvi words; each inner list is one word's syllables."""
    found = units(text)
    words: list[list[Unit]] = []
    for start in range(0, len(found), MAX_UNITS):
        chunk = found[start : start + MAX_UNITS]
        words.extend(_join(chunk, _labels(chunk)))
    return [w for w in words if w[0].is_word]


class _Stub:
    """Stands in for every class in pyvi's pickled model (sklearn-crfsuite's CRF and its file
    resource, numpy scalars): only their state is read, so none of their packages is imported."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state) -> None:
        if isinstance(state, dict):
            self.__dict__.update(state)


class _ModelUnpickler(pickle.Unpickler):
    _REAL = {("_codecs", "encode"), ("copyreg", "_reconstructor"), ("builtins", "object")}

    def find_class(self, module: str, name: str):
        return super().find_class(module, name) if (module, name) in self._REAL else _Stub


def _model_file() -> bytes:
    """pyvi's CRF model: the pickled estimator carries the crfsuite model file's bytes."""
    pickled = (_PYVI_MODELS / "pyvi3.pkl").read_bytes()
    crf = _ModelUnpickler(io.BytesIO(pickled)).load()
    return crf.modelfile.__dict__["__FILE_RESOURCE_DATA__"]


def _load_ngrams() -> tuple[frozenset[str], frozenset[str]]:
    """pyvi's known two- and three-syllable words (``ViTokenizer.bi_grams``, ``tri_grams``)."""
    lines = (_PYVI_MODELS / "words.txt").read_text(encoding="utf-8").split("\n")
    return (
        frozenset(w for w in lines if len(w.split(" ")) == 2),
        frozenset(w for w in lines if len(w.split(" ")) == 3),
    )


_PYVI_MODELS = importlib.resources.files("pyvi") / "models"
_MODEL_FILE = _model_file()  # crfsuite tags from these bytes in place: they live as long as the tagger
_TAGGER = pycrfsuite.Tagger()  # loaded at import: a preloading server loads it once, before forking
_TAGGER.open_inmemory(_MODEL_FILE)
_BI_GRAMS, _TRI_GRAMS = _load_ngrams()


def _labels(chunk: list[Unit]) -> list[str]:
    if not chunk:
        return []
    return _TAGGER.tag(features([u.text for u in chunk]))


def features(sent: list[str]) -> list[list[str]]:
    """The CRF attributes of ``ViTokenizer.sent2features``, as the strings crfsuite scores.

    pyvi builds a dict per syllable, recomputing each syllable's lowercase and case tests for every
    neighbour that looks at it, and python-crfsuite then turns each dict into attribute strings
    ("word.lower():hà" for a text value, the name alone for a true flag): two thirds of tagging
    time. Here the strings are built once, straight: a text feature is "name:value" and a flag is
    its name when true and left out when false (crfsuite weighs an attribute by its value, so a
    false one adds nothing to any label's score). What a syllable contributes as itself and as a
    neighbour is made once per distinct syllable (``_attributes``). ``tests/test_analysis.py``
    checks these are pyvi's features and the labels pyvi's labels.
    """
    attrs = [_ATTRIBUTES.get(w) or _attributes(w) for w in sent]
    lower = [a.lower for a in attrs]
    # Each neighbour pair and triple is looked up once (pyvi does it from both ends).
    pair = [f"{a} {b}" in _BI_GRAMS for a, b in itertools.pairwise(lower)]
    triple = [f"{a} {b} {c}" in _TRI_GRAMS for a, b, c in zip(lower, lower[1:], lower[2:], strict=False)]
    last = len(sent) - 1
    out = []
    for i, own in enumerate(attrs):
        item = list(own.itself)
        if i > 0:
            item += attrs[i - 1].before
            if pair[i - 1]:
                item.append("-1:word.bi_gram()")
            if i > 1 and triple[i - 2]:
                item.append("-2:word.tri_gram()")
        if i < last:
            item += attrs[i + 1].after
            if pair[i]:
                item.append("+1:word.bi_gram()")
            if i < last - 1 and triple[i]:
                item.append("+2:word.tri_gram()")
        out.append(item)
    return out


class _Attributes(NamedTuple):
    """A syllable's CRF attributes: its own, and those it gives the syllable after and before it."""

    lower: str
    itself: tuple[str, ...]
    before: tuple[str, ...]  # as the previous syllable ("-1:…")
    after: tuple[str, ...]  # as the next syllable ("+1:…")


_ATTRIBUTES: dict[str, _Attributes] = {}
# Distinct syllables remembered, about 640 bytes each (10 MB a process, whatever it segments):
# 5,000 VietNews articles hold 22,415 distinct units, of which the 16,384 most frequent are 99.8 %
# of the 2.9 million occurrences, and the common ones come early in any text.
ATTRIBUTES_KEPT = 1 << 14


def _attributes(word: str) -> _Attributes:
    lower, title, upper = word.lower(), word.istitle(), word.isupper()
    flags = [("word.isupper()", upper), ("word.istitle()", title), ("word.isdigit()", word.isdigit())]
    neighbour = [("word.istitle()", title), ("word.isupper()", upper)]
    made = _Attributes(
        lower,
        ("bias", "word.lower():" + lower, *(name for name, on in flags if on)),
        ("-1:word.lower():" + lower, *("-1:" + name for name, on in neighbour if on)),
        ("+1:word.lower():" + lower, *("+1:" + name for name, on in neighbour if on)),
    )
    if len(_ATTRIBUTES) < ATTRIBUTES_KEPT:
        _ATTRIBUTES[word] = made
    return made


def _join(chunk: list[Unit], labels: list[str]) -> list[list[Unit]]:
    """Apply ``ViTokenizer.tokenize``'s joining rule to labelled units."""
    words: list[list[Unit]] = []
    for i, (unit, label) in enumerate(zip(chunk, labels, strict=True)):
        if i and label == "I_W" and _joinable(chunk[i - 1], unit):
            words[-1].append(unit)
        else:
            words.append([unit])
    return words


def _joinable(prev: Unit, unit: Unit) -> bool:
    return (
        unit.text not in string.punctuation
        and prev.text not in string.punctuation
        and unit.is_word
        and prev.is_word
        and not unit.is_compound
        and not prev.is_compound
        and not unit.text[0].isdigit()
        and not prev.text[0].isdigit()
        and not (unit.text[0].istitle() and not prev.text[0].istitle())
        and prev.end < unit.start  # syllables of one word are separated by space
    )
