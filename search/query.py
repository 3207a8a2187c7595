"""The query language and its translation into a Whoosh query.

Syntax: plain words, ``"quoted phrases"``, ``-exclusion`` (of a word or a phrase), ``OR`` (accepted;
plain words are alternatives already) and ``title:word`` / ``title:"phrase"``. Plain text between
operators is segmented with pyvi as a whole (Whoosh's own parser would split on spaces first and
break multi-syllable words). No wildcard, fuzzy or regex syntax exists, so no query can expand
over the whole term list.

Matching: every plain word contributes term leaves (its syllables, compounds and parts, and the
whole-word token) scored with BM25F over title, summary and body; an article with more of them
ranks higher. Terms found in more than ``Tuning.common`` of the articles only add score to
articles that a more selective term matched (Vietnamese function syllables would otherwise match
everything and cost a full scan). Phrases and ``title:`` clauses are required; exclusions remove.
A query typed with any diacritic searches the exact fields, with the folded fields as a
low-weight fallback (so "bán" ranks "bán" above "bạn"); a query typed without any searches the
folded fields only (mixing exact fields in hurts: ``shared/notes/relevance-experiments.md``).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from whoosh import query as Q

from search.analysis import compound_key
from search.errors import QueryError
from search.limits import MAX_QUERY_CHARS, MAX_WORDS
from search.schema import FOLDED_SUFFIX
from search.segment import Unit, segment, units
from search.text import exact_key, fold, has_diacritics, nfc

DocFreq = Callable[[str, bool], float]  # (key, folded) → share of articles holding it
TEXT = "text"  # title, summary and body (see search.schema)
TITLE = "title_words"
FIELDS = (TEXT,)
FIELD_PREFIXES = {"title": TITLE, "tieude": TITLE, "tiêu_đề": TITLE}

# "-word" excludes; "-400" is a number as typed or pasted ("F -15"), never an exclusion.
_LEXEME = re.compile(
    r'(?P<neg>-(?=[^\d\s-]))?(?:(?P<field>[^\W\d]\w*):)?(?:"(?P<phrase>[^"]*)"?|(?P<bare>[^\s"]+))'
)


@dataclass(frozen=True)
class Tuning:
    """Query-time ranking choices, measured by ``benchmarks/token_scheme.py``.

    Title and summary weights are index-time (``search.analysis.TITLE_BOOST``, ``SUMMARY_BOOST``).

    ``lead_phrase``: the lead (summary) of a news story states it; holding a long stretch of the
    query in order there is proximity evidence the bag of terms lacks. Measured with
    ``benchmarks/relevance.py`` (full run), without → with 0.5: set A MRR@10 as written 0.938 →
    0.942, without diacritics 0.939 → 0.936, R@10 0.908 / 0.899 → 0.903 / 0.899; set B (known
    items) MRR@10 0.996 / 0.993 → 0.999 / 0.999. 0.25: set A 0.936 / 0.942; 1.0: set A 0.939 /
    0.933, set B 1.000 / 1.000. The other weights were swept before it (title_phrase 0–3, covered
    0.3–0.7, word 0.7–1.5, common 0.05–0.2, BM25 K1 0.9–1.6 and B 0.3–0.4): none was better on
    every set A figure.
    """

    word: float = 1.0  # weight of a multi-syllable word's own token
    ngrams: bool = True  # adjacent syllables of the query are word candidates too
    covered: float = 0.5  # weight of a syllable inside a query word the index holds as a word
    title_phrase: float = 1.0  # score × (1 + this × share of the query found in order in the title)
    lead_phrase: float = 0.5  # score × (1 + this × share of the query found in order in the lead)
    common: float = 0.10  # a term in more than this share of articles only adds score
    fallback: float = 0.1  # weight of folded matches under a query typed with diacritics


DEFAULT_TUNING = Tuning()


@dataclass
class Clause:
    """One unit of the query: a word, a phrase, or a field-restricted word/phrase."""

    words: list[list[Unit]]
    phrase: bool = False
    fields: tuple[str, ...] = FIELDS


@dataclass
class ParsedQuery:
    words: list[list[Unit]] = field(default_factory=list)  # plain words (pyvi): should-clauses
    runs: list[list[Unit]] = field(default_factory=list)  # the units of each stretch of plain text
    required: list[Clause] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)
    folded: bool = False

    def is_empty(self) -> bool:
        return not (self.words or self.required or self.excluded)


def parse(text: str) -> ParsedQuery:
    """Parse a user query; raises QueryError with a readable message when it cannot be used."""
    text = nfc(text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"Truy vấn quá dài ({len(text)} ký tự, tối đa {MAX_QUERY_CHARS}). "
            f"Query too long ({len(text)} characters, at most {MAX_QUERY_CHARS}).",
            param="q",
        )
    parsed = ParsedQuery(folded=not has_diacritics(text))
    run: list[str] = []
    for m in _LEXEME.finditer(text):
        bare, phrase, prefix, neg = m["bare"], m["phrase"], m["field"], m["neg"]
        if bare == "OR" and not prefix and not neg:
            _add_run(parsed, run)  # plain words are alternatives already; OR only separates
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
        _add_run(parsed, run)
        clause = Clause(_words(phrase if phrase is not None else bare), phrase is not None, fields)
        if clause.words:
            (parsed.excluded if neg else parsed.required).append(clause)
    _add_run(parsed, run)
    if text and parsed.is_empty():
        raise QueryError("Truy vấn không có từ nào để tìm. The query has no words to search for.")
    del parsed.words[MAX_WORDS:]
    return parsed


def _add_run(parsed: ParsedQuery, run: list[str]) -> None:
    """Segment a stretch of plain text as a whole (pyvi needs the context)."""
    words = _words(" ".join(run))
    run.clear()
    if words:
        parsed.words += words
        parsed.runs.append([u for w in words for u in w])


def _fields_for(prefix: str | None) -> tuple[str, ...] | None:
    if not prefix:
        return FIELDS
    name = FIELD_PREFIXES.get(fold(prefix)) or FIELD_PREFIXES.get(prefix.lower())
    return (name,) if name else None


def _words(text: str) -> list[list[Unit]]:
    """pyvi words of a query text: the whole run at once, so multi-syllable words survive."""
    return segment(text) if text else []


def build(
    parsed: ParsedQuery,
    tuning: Tuning = DEFAULT_TUNING,
    doc_freq: DocFreq | None = None,
    fallback: bool = False,
) -> Q.Query:
    """The Whoosh query for a parsed user query (``Every`` when it has only exclusions).

    ``doc_freq(key, folded)`` (share of articles containing the term) lets common terms only add
    score to articles a selective term already matched. ``fallback`` adds the folded fields at
    ``Tuning.fallback`` weight to a query typed with diacritics (the caller does so when the exact
    fields find too little: every extra field costs matching time).
    """
    tuning = tuning if fallback else replace(tuning, fallback=0.0)
    should = _should(parsed, tuning, doc_freq)
    required = [_clause(c, parsed.folded, tuning) for c in parsed.required]
    main: Q.Query
    if should and required:
        main = Q.AndMaybe(Q.And(required), should)
    elif should or required:
        main = should or Q.And(required)
    else:
        main = Q.Every()
    if parsed.excluded:
        banned = [_clause(c, parsed.folded, tuning, fallback=False) for c in parsed.excluded]
        main = Q.AndNot(main, Q.Or(banned))
    return main


def _should(parsed: ParsedQuery, tuning: Tuning, doc_freq: DocFreq | None) -> Q.Query | None:
    """Plain words as term leaves (Whoosh can skip blocks on those); selective ones decide matching."""
    keys = _keys(parsed, tuning)
    if doc_freq:
        keys = _weigh_covered_syllables(keys, parsed.folded, tuning, doc_freq)
    leaves = [leaf for key, boost in keys for leaf in _leaves(key, boost, parsed.folded, tuning)]
    if not leaves:
        return None
    share = {(f, key): doc_freq(key, f) if doc_freq else 1.0 for _q, f, key in leaves}
    leaves = [(q, share[f, key]) for q, f, key in leaves if share[f, key] > 0]  # unknown terms: no match
    if not leaves:
        return Q.NullQuery
    rare = [q for q, df in leaves if df <= tuning.common]
    common = [q for q, df in leaves if df > tuning.common]
    return Q.AndMaybe(Q.Or(rare), Q.Or(common)) if rare and common else Q.Or(rare or common)


def _weigh_covered_syllables(
    keys: list[tuple[str, float]], folded: bool, tuning: Tuning, doc_freq: DocFreq
) -> list[tuple[str, float]]:
    """Syllables of a query word that the index knows as a word weigh ``Tuning.covered``.

    "khoa học" then counts as one strong word match plus weak syllable matches, so an article
    with many "học" (học sinh, đại học) and no "khoa học" cannot outrank one about science.
    """
    key = fold if folded else (lambda k: k)
    words = [k for k, _ in keys if "_" in k and doc_freq(key(k), folded) > 0]
    covered = {syllable for word in words for syllable in word.split("_")}
    return [(k, boost * tuning.covered if k in covered else boost) for k, boost in keys]


def phrase_bonus_applies(parsed: ParsedQuery, tuning: Tuning) -> bool:
    """A stretch needs two syllables: shorter queries skip loading the candidates' stored fields."""
    weighted = tuning.title_phrase or tuning.lead_phrase
    return bool(weighted) and sum(len(_flat(run)) for run in parsed.runs) >= 2


def phrase_bonus(parsed: ParsedQuery, title: str, lead: str, tuning: Tuning) -> float:
    """Score multiplier for a title and a lead that hold a stretch of the query's syllables in order.

    (1 + ``Tuning.title_phrase`` × longest such stretch in the title ÷ the query's syllables) ×
    (1 + ``Tuning.lead_phrase`` × the same in the lead); a stretch counts from two syllables.
    Applied to the top candidates after ranking (it needs each candidate's stored title and lead,
    which only the first pages' candidates are worth loading).
    """
    if not phrase_bonus_applies(parsed, tuning):
        return 1.0
    key = fold if parsed.folded else exact_key
    runs = [[key(u.text) for u in _flat(run)] for run in parsed.runs]
    total = sum(len(r) for r in runs)
    bonus = 1.0
    for text, weight in ((title, tuning.title_phrase), (lead, tuning.lead_phrase)):
        keys = [key(u.text) for u in _flat([u for u in units(text) if u.is_word])] if weight else []
        longest = max(_longest_common_stretch(run, keys) for run in runs) if keys else 0
        bonus *= 1.0 + weight * longest / total if longest >= 2 else 1.0
    return bonus


def _longest_common_stretch(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive items shared by a and b.

    Only the positions where an item of a occurs in b are visited, so a long lead costs little.
    """
    where: dict[str, list[int]] = {}
    for j, y in enumerate(b):
        where.setdefault(y, []).append(j)
    best, prev = 0, {}
    for x in a:
        cur = {j: prev.get(j - 1, 0) + 1 for j in where.get(x, ())}
        best = max(best, *cur.values()) if cur else best
        prev = cur
    return best


def _keys(parsed: ParsedQuery, tuning: Tuning) -> list[tuple[str, float]]:
    """Each distinct exact key once: syllables, compounds and their parts, and word candidates.

    Word candidates are pyvi's words of the query plus every run of 2–3 adjacent syllables: the
    index holds a word token only where pyvi found that word in the *article*, so a candidate
    that is not a word costs one missing-term lookup, and a word pyvi missed in a short (or
    accentless) query still matches.
    """
    keys: dict[str, float] = {}
    for word in parsed.words:
        for u in word:
            keys.setdefault(compound_key(u.text) if u.is_compound else exact_key(u.text), 1.0)
            for p in u.parts() if u.is_compound else []:
                keys.setdefault(exact_key(p.text), 1.0)
    if tuning.word:
        candidates = [w for w in parsed.words if len(w) > 1]
        for run in parsed.runs if tuning.ngrams else []:
            candidates += [run[i : i + n] for n in (2, 3) for i in range(len(run) - n + 1)]
        for seq in candidates:
            if not any(u.is_compound for u in seq):
                keys.setdefault("_".join(exact_key(u.text) for u in seq), tuning.word)
    return list(keys.items())


def _leaves(key: str, boost: float, folded: bool, tuning: Tuning) -> list[tuple[Q.Query, bool, str]]:
    """(query over the fields, folded?, key) for one key, exact and/or folded."""
    if folded:
        return [(_term_over_fields(fold(key), True, tuning, boost), True, fold(key))]
    out = [(_term_over_fields(key, False, tuning, boost), False, key)]
    if tuning.fallback:
        out.append((_term_over_fields(fold(key), True, tuning, boost * tuning.fallback), True, fold(key)))
    return out


def _term_over_fields(key: str, folded: bool, tuning: Tuning, boost: float) -> Q.Query:
    suffix = FOLDED_SUFFIX if folded else ""
    return Q.Term(TEXT + suffix, key, boost=boost)


def _clause(clause: Clause, folded: bool, tuning: Tuning, fallback: bool = True) -> Q.Query:
    """A phrase or field clause: folded fields only, or exact ones plus a weak folded fallback."""
    if folded:
        return _over_fields(clause, True, tuning)
    exact = _over_fields(clause, False, tuning)
    if not fallback or not tuning.fallback:
        return exact
    return Q.Or([exact, _over_fields(clause, True, tuning, boost=tuning.fallback)])


def _over_fields(clause: Clause, folded: bool, tuning: Tuning, boost: float = 1.0) -> Q.Query:
    per_field = []
    key = fold if folded else exact_key
    for name in clause.fields:
        fieldname = name + FOLDED_SUFFIX if folded else name
        q = _phrase(fieldname, [u for w in clause.words for u in w], key)
        q.boost = boost
        per_field.append(q)
    return per_field[0] if len(per_field) == 1 else Q.Or(per_field)


def _flat(seq: list[Unit]) -> list[Unit]:
    return [p for u in seq for p in (u.parts() if u.is_compound else [u])]


def _phrase(fieldname: str, seq: list[Unit], key) -> Q.Query:
    """Consecutive syllables (compounds contribute their parts); one syllable is a plain term."""
    flat = _flat(seq)
    if len(flat) == 1:
        return Q.Term(fieldname, key(flat[0].text))
    return Q.Phrase(fieldname, [key(u.text) for u in flat])
