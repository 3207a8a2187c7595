"""Abbreviations, spelling variants and renamed places: the other forms a query word stands for.

A synonyms file holds one entry a line (``#`` starts a comment; blank lines are skipped)::

    TP.HCM = TPHCM, TP HCM, Tp. Hồ Chí Minh, thành phố Hồ Chí Minh     forms of one name
    Thừa Thiên Huế <=> thành phố Huế | Nghị quyết 175/2024/QH15         two-way synonyms
    xe điện => xe máy điện, ô tô điện                                   one-way: left finds right too

Forms are separated by commas and may have several words. ``=``: the forms are one name, every
form is searched as the first one with the others as alternatives, so whichever is typed the
results (total, order, top hit) are the same. ``<=>``: each form also finds the other forms;
``=>``: a form on the left also finds those on the right, not the reverse. With ``<=>`` and
``=>`` the form typed ranks above its synonyms (their matches score ``Tuning.synonym`` as much).
After ``|``, the entry's source (the legal act of a renamed place). A query word is compared with
a form as typed where it has marks and folded where it has none ("tp hcm", "thanh pho Hue").

The built-in set (``search/data/synonyms.txt``) is read first, then the file named by
``VNSEARCH_SYNONYMS`` (or ``vnsearch search/serve --synonyms FILE``). It is read again when it
changes, at the next query: no reindex and no restart.
"""

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from search.errors import SearchError
from search.text import exact_key, fold, has_diacritics, nfc

BUILTIN = Path(__file__).with_name("data") / "synonyms.txt"
ENV = "VNSEARCH_SYNONYMS"
MAX_ENTRIES = 10_000  # lines of entries in one file
MAX_FORMS = 32  # forms in one entry
MAX_PARTS = 8  # words of one form (a query word cannot be longer, see search.limits.MAX_WORDS)
MAX_FILE_BYTES = 4 * 2**20
_OPERATORS = re.compile(r"\s*(<=>|=>|=)\s*")
_PART = re.compile(r"[^\W_]+")
_log = logging.getLogger(__name__)
KINDS = {"=": "same", "<=>": "both", "=>": "oneway"}


class SynonymsError(SearchError):
    """A synonyms file that cannot be used: which file, which line, why."""


@dataclass(frozen=True)
class Entry:
    forms: tuple[str, ...]  # as written, left side first
    left: int  # how many forms stand left of the operator
    kind: str  # "same", "both" or "oneway"
    source: str | None
    origin: str  # file:line

    def others(self, form: int) -> tuple[str, ...]:
        """The forms that the form at this index also finds."""
        if self.kind == "oneway":
            return self.forms[self.left :] if form < self.left else ()
        return tuple(f for i, f in enumerate(self.forms) if i != form)


@dataclass(frozen=True)
class Found:
    """A form of an entry matched in the query: query words ``start``..``end`` (exclusive)."""

    start: int
    end: int
    entry: Entry
    form: int

    @property
    def searched(self) -> str:
        """What the matched words are searched as: the name's first form for ``=``."""
        return self.entry.forms[0] if self.entry.kind == "same" else ""

    @property
    def also(self) -> tuple[str, ...]:
        if self.entry.kind == "same":
            return self.entry.forms[1:]
        return self.entry.others(self.form)


def parts(text: str) -> list[str]:
    return _PART.findall(nfc(text))


def _same(typed: str, form: str) -> bool:
    """A typed part equals a form's part: with its marks when it has some, folded otherwise."""
    if has_diacritics(typed):
        return exact_key(typed) == exact_key(form)
    return fold(typed) == fold(form)


class Table:
    """Entries indexed by their forms' folded words, so a query costs at most ``MAX_PARTS`` lookups
    a word, however large the file."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self._forms: dict[tuple[str, ...], list[tuple[list[str], Entry, int]]] = {}
        for entry in entries:
            for i, form in enumerate(entry.forms):
                p = parts(form)
                self._forms.setdefault(tuple(fold(x) for x in p), []).append((p, entry, i))

    def find(self, words: list[str]) -> list[Found]:
        """The forms standing in a run of query words (longest first, never overlapping)."""
        flat = [(w, p) for w, word in enumerate(words) for p in parts(word)]
        firsts = {i for i in range(len(flat)) if i == 0 or flat[i][0] != flat[i - 1][0]}
        out, i = [], 0
        while i < len(flat):
            hit = self._at(flat, i, firsts) if i in firsts else None
            if hit is None:
                i += 1
                continue
            size, entry, form = hit
            out.append(Found(flat[i][0], flat[i + size - 1][0] + 1, entry, form))
            i += size
        return out

    def _at(self, flat, i: int, firsts: set[int]) -> tuple[int, Entry, int] | None:
        for size in range(min(MAX_PARTS, len(flat) - i), 0, -1):
            if i + size < len(flat) and i + size not in firsts:
                continue  # a form ends where a query word does
            key = tuple(fold(p) for _w, p in flat[i : i + size])
            for form_parts, entry, form in self._forms.get(key, ()):
                if all(_same(flat[i + k][1], form_parts[k]) for k in range(size)):
                    return size, entry, form
        return None


def read(path: Path) -> list[Entry]:
    """The entries of a synonyms file; a SynonymsError names the line that cannot be used."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SynonymsError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymsError(f"{path}: cannot read the synonyms file: {exc}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = nfc(line.split("#", 1)[0]).strip()
        if line:
            entries.append(_entry(line, f"{path}:{number}"))
        if len(entries) > MAX_ENTRIES:
            raise SynonymsError(f"{path}:{number}: more than {MAX_ENTRIES} entries")
    return entries


def _entry(line: str, origin: str) -> Entry:
    body, _, source = line.partition("|")
    pieces = _OPERATORS.split(body)
    if len(pieces) != 3:
        raise SynonymsError(f"{origin}: expected 'FORMS = FORMS', 'FORMS <=> FORMS' or 'FORMS => FORMS'")
    left, operator, right = pieces
    sides = [[f.strip() for f in side.split(",") if f.strip()] for side in (left, right)]
    if not all(sides):
        raise SynonymsError(f"{origin}: a form is missing on one side of '{operator}'")
    forms = tuple(sides[0] + sides[1])
    if len(forms) > MAX_FORMS:
        raise SynonymsError(f"{origin}: more than {MAX_FORMS} forms")
    for form in forms:
        if not parts(form) or len(parts(form)) > MAX_PARTS:
            raise SynonymsError(f"{origin}: {form!r} must have 1 to {MAX_PARTS} words")
    return Entry(forms, len(sides[0]), KINDS[operator], source.strip() or None, origin)


class Synonyms:
    """The built-in set plus an optional user file, read again when the file changes."""

    def __init__(self, user: Path | str | None = None):
        self.user = Path(user) if user else None
        self._builtin = read(BUILTIN)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self.table = Table(self._builtin)
        if self.user is not None:
            self.table = Table(self._builtin + read(self.user))  # a bad file fails at start
            self._stamp = self._file_stamp()

    def current(self) -> Table:
        """The table, re-read first when the user file changed (a broken edit keeps the last one)."""
        if self.user is None:
            return self.table
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        self.table = Table(self._builtin + read(self.user))
                    except SynonymsError as exc:
                        _log.warning("synonyms: keeping the last good table: %s", exc)
                    self._stamp = stamp
        return self.table

    def _file_stamp(self) -> tuple | None:
        try:
            st = self.user.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino


def from_environment() -> Synonyms:
    """The built-in set and the file ``VNSEARCH_SYNONYMS`` names, if any."""
    return Synonyms(os.environ.get(ENV) or None)
