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
    false one adds nothing to any label's score). ``tests/test_analysis.py`` checks these are
    pyvi's features and the labels pyvi's labels.
    """
    lower = [w.lower() for w in sent]
    title = [w.istitle() for w in sent]
    upper = [w.isupper() for w in sent]
    # Each neighbour pair and triple is looked up once (pyvi does it from both ends).
    pair = [f"{a} {b}".lower() in _BI_GRAMS for a, b in itertools.pairwise(sent)]
    triple = [f"{a} {b} {c}".lower() in _TRI_GRAMS for a, b, c in zip(sent, sent[1:], sent[2:], strict=False)]
    n = len(sent)
    out = []
    for i, word in enumerate(sent):
        item = ["bias", "word.lower():" + lower[i]]
        if upper[i]:
            item.append("word.isupper()")
        if title[i]:
            item.append("word.istitle()")
        if word.isdigit():
            item.append("word.isdigit()")
        if i > 0:
            item.append("-1:word.lower():" + lower[i - 1])
            if title[i - 1]:
                item.append("-1:word.istitle()")
            if upper[i - 1]:
                item.append("-1:word.isupper()")
            if pair[i - 1]:
                item.append("-1:word.bi_gram()")
            if i > 1 and triple[i - 2]:
                item.append("-2:word.tri_gram()")
        if i < n - 1:
            item.append("+1:word.lower():" + lower[i + 1])
            if title[i + 1]:
                item.append("+1:word.istitle()")
            if upper[i + 1]:
                item.append("+1:word.isupper()")
            if pair[i]:
                item.append("+1:word.bi_gram()")
            if i < n - 2 and triple[i]:
                item.append("+2:word.tri_gram()")
        out.append(item)
    return out


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
