"""The query language and its translation into a Whoosh query.

Syntax: plain words, ``"quoted phrases"``, ``-exclusion`` (of a word or a phrase), ``OR`` between
two words or phrases, and ``title:word`` / ``title:"phrase"``. Plain text between operators is
segmented with pyvi as a whole (Whoosh's own parser would split on spaces first and break
multi-syllable words). No wildcard, fuzzy or regex syntax exists, so no query can expand over the
whole term list.

Matching: plain words are *should* clauses scored with BM25F and a coordination factor (an article
with every word ranks first, one missing a word still appears); phrases and ``title:`` clauses are
required; exclusions remove. A query typed with any diacritic searches the exact fields, with the
folded fields as a low-weight fallback (so "bán" ranks "bán" above "bạn"); a query typed without
any searches the folded fields only (mixing exact fields in hurts: measured in
``shared/notes/relevance-experiments.md``).
"""

import re
from dataclasses import dataclass, field

from whoosh import query as Q

from search.analysis import compound_key
from search.errors import QueryError
from search.schema import FOLDED_SUFFIX
from search.segment import Unit, segment, units
from search.text import exact_key, fold, has_diacritics, nfc

MAX_QUERY_CHARS = 500
MAX_WORDS = 32  # words beyond this are dropped: hundreds of terms would only cost time
FIELDS = ("title", "summary", "body")
FIELD_PREFIXES = {"title": "title", "tieude": "title", "tiêu_đề": "title"}

_LEXEME = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[^\W\d]\w*):)?(?:"(?P<phrase>[^"]*)"?|(?P<bare>[^\s"]+))'
)


@dataclass(frozen=True)
class Tuning:
    """Ranking weights; the values are the ones ``benchmarks/token_scheme.py`` chose."""

    title: float = 2.0
    summary: float = 1.5
    body: float = 1.0
    word: float = 1.0  # extra weight of a multi-syllable word's own token
    phrase: float = 0.0  # extra weight of the syllable phrase (0 = not used)
    coord: float = 0.5  # Or(scale=…): share of the score that depends on how many words matched
    fallback: float = 0.1  # weight of folded matches under a query typed with diacritics

    def weight(self, name: str) -> float:
        return getattr(self, name)


DEFAULT_TUNING = Tuning()


@dataclass
class Clause:
    """One unit of the query: a word, a phrase, or a field-restricted word/phrase."""

    words: list[list[Unit]]
    phrase: bool = False
    fields: tuple[str, ...] = FIELDS


@dataclass
class ParsedQuery:
    groups: list[list[Clause]] = field(
        default_factory=list
    )  # OR-alternatives, each a should-clause
    required: list[Clause] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)
    folded: bool = False

    def is_empty(self) -> bool:
        return not (self.groups or self.required or self.excluded)


def parse(text: str) -> ParsedQuery:
    """Parse a user query; raises QueryError with a readable message when it cannot be used."""
    text = nfc(text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"Truy vấn quá dài ({len(text)} ký tự, tối đa {MAX_QUERY_CHARS}). "
            f"Query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})."
        )
    parsed = ParsedQuery(folded=not has_diacritics(text))
    run: list[str] = []
    join_next = False
    for m in _LEXEME.finditer(text):
        bare, phrase, prefix, neg = m["bare"], m["phrase"], m["field"], m["neg"]
        if bare == "OR" and not prefix and not neg:
            _flush(run, parsed, join_next)
            join_next = bool(parsed.groups)
            continue
        fields = _fields_for(prefix)
        if fields is None:  # "foo:bar" with an unknown field is plain text
            bare, phrase = m.group(0).lstrip("-"), None
            fields = FIELDS
        if prefix and fields is not FIELDS and not (bare or phrase):
            raise QueryError(f"“{prefix}:” cần một từ hoặc cụm từ phía sau, ví dụ {prefix}:Huế.")
        if not neg and phrase is None and fields is FIELDS:
            run.append(bare)
            continue
        _flush(run, parsed, join_next)
        join_next = False
        clause = Clause(_words(phrase if phrase is not None else bare), phrase is not None, fields)
        if not clause.words:
            continue
        if neg:
            parsed.excluded.append(clause)
        elif phrase is not None or fields is not FIELDS:
            parsed.required.append(clause)
    _flush(run, parsed, join_next)
    if text and parsed.is_empty():
        raise QueryError("Truy vấn không có từ nào để tìm. The query has no words to search for.")
    parsed.groups = parsed.groups[:MAX_WORDS]
    return parsed


def _fields_for(prefix: str | None) -> tuple[str, ...] | None:
    if not prefix:
        return FIELDS
    name = FIELD_PREFIXES.get(fold(prefix)) or FIELD_PREFIXES.get(prefix.lower())
    return (name,) if name else None


def _flush(run: list[str], parsed: ParsedQuery, join_first: bool) -> None:
    """Segment a run of plain text as a whole; each word becomes a should-clause."""
    if not run:
        return
    words = _words(" ".join(run))
    run.clear()
    for i, word in enumerate(words):
        clause = Clause([word])
        if i == 0 and join_first and parsed.groups:
            parsed.groups[-1].append(clause)
        else:
            parsed.groups.append([clause])


def _words(text: str) -> list[list[Unit]]:
    """pyvi words of a query text (single units when pyvi finds no word at all)."""
    return segment(text) or [[u] for u in units(text) if u.is_word]


def build(parsed: ParsedQuery, tuning: Tuning = DEFAULT_TUNING) -> Q.Query:
    """The Whoosh query for a parsed user query (``Every`` when it has only exclusions)."""
    should = [_group(g, parsed.folded, tuning) for g in parsed.groups]
    required = [_clause(c, parsed.folded, tuning) for c in parsed.required]
    main: Q.Query
    if should:
        main = Q.Or(should, scale=tuning.coord) if len(should) > 1 else should[0]
        if required:
            main = Q.AndMaybe(Q.And(required), main)
    elif required:
        main = Q.And(required)
    else:
        main = Q.Every()
    if parsed.excluded:
        banned = [_clause(c, parsed.folded, tuning, fallback=False) for c in parsed.excluded]
        main = Q.AndNot(main, Q.Or(banned))
    return main


def _group(group: list[Clause], folded: bool, tuning: Tuning) -> Q.Query:
    parts = [_clause(c, folded, tuning) for c in group]
    return parts[0] if len(parts) == 1 else Q.Or(parts)


def _clause(clause: Clause, folded: bool, tuning: Tuning, fallback: bool = True) -> Q.Query:
    """A clause over its fields: folded fields only, or exact ones plus a weak folded fallback."""
    if folded:
        return _over_fields(clause, True, tuning)
    exact = _over_fields(clause, False, tuning)
    if not fallback or not tuning.fallback:
        return exact
    return Q.Or([exact, _over_fields(clause, True, tuning, boost=tuning.fallback)])


def _over_fields(clause: Clause, folded: bool, tuning: Tuning, boost: float = 1.0) -> Q.Query:
    per_field = []
    for name in clause.fields:
        fieldname = name + FOLDED_SUFFIX if folded else name
        key = fold if folded else exact_key
        if clause.phrase:
            q = _phrase(fieldname, [u for w in clause.words for u in w], key)
        else:
            q = _word(fieldname, clause.words[0], key, tuning)
        q.boost = tuning.weight(name) * boost
        per_field.append(q)
    return per_field[0] if len(per_field) == 1 else Q.Or(per_field)


def _word(fieldname: str, word: list[Unit], key, tuning: Tuning) -> Q.Query:
    """One query word: its syllables for recall, its whole-word token and phrase for precision."""
    if len(word) == 1:
        return _unit(fieldname, word[0], key)
    syllables = Q.Or([_unit(fieldname, u, key) for u in word])
    parts: list[Q.Query] = [syllables]
    if tuning.word:
        parts.append(Q.Term(fieldname, "_".join(key(u.text) for u in word), boost=tuning.word))
    if tuning.phrase:
        parts.append(_phrase(fieldname, word, key, boost=tuning.phrase))
    return Q.Or(parts)


def _unit(fieldname: str, unit: Unit, key) -> Q.Query:
    if not unit.is_compound:
        return Q.Term(fieldname, key(unit.text))
    whole = key(compound_key(unit.text)) if key is fold else compound_key(unit.text)
    return Q.Or([Q.Term(fieldname, whole), _phrase(fieldname, unit.parts(), key)])


def _phrase(fieldname: str, seq: list[Unit], key, boost: float = 1.0) -> Q.Query:
    """Consecutive syllables (compounds contribute their parts)."""
    flat = [p for u in seq for p in (u.parts() if u.is_compound else [u])]
    if len(flat) == 1:
        return Q.Term(fieldname, key(flat[0].text), boost=boost)
    return Q.Phrase(fieldname, [key(u.text) for u in flat], boost=boost)
