"""The query language, what a query requires of an article, and how matches are scored.

Syntax: plain words, ``"quoted phrases"``, ``-exclusion`` (of a word or a phrase), ``A OR B``
(either side: the query is split at each ``OR`` into alternatives) and ``title:word`` /
``title:"phrase"``. Plain text between operators is segmented with pyvi as a whole (Whoosh's own
parser would split on spaces first and break multi-syllable words). No wildcard, fuzzy or regex
syntax exists, so no query can expand over the whole term list.

Matching (``plan``): an article matches an alternative when it holds *every* word of it. A word is
a unit of the pyvi-segmented query; it is held when its syllables stand adjacent and in order (a
compound such as "TP.HCM" or "13/11/2023" by its parts, likewise). Each syllable is compared with
its marks when typed with any (any tone placement: "hoà" = "hòa"), folded when typed without ("ha
Nội" works); a syllable typed without marks in a query that has marks elsewhere is taken as typed
when the index holds its word so ("đô la", "thuế quan" never match "là", "quân"), folded otherwise.
Very common function and question words (``STOPWORDS``: "của", "và", "là", "gì", …) are not
required when the alternative has other words: they only add score. Phrases and ``title:`` clauses
are required as typed; exclusions remove. When no article holds every word, ``search.searching``
relaxes visibly (``search.matching.select``).

Ranking: every syllable, compound, part and word candidate of the query is a BM25F term leaf over
title, summary and body; the matched articles are ranked by their sum, then the first ones by the
in-order stretches of the query in their title and lead (``phrase_bonus``).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from whoosh import query as Q

from search import typing
from search.analysis import compound_key
from search.errors import QueryError
from search.limits import MAX_CLAUSES, MAX_QUERY_CHARS, MAX_WORDS
from search.schema import FOLDED_SUFFIX
from search.segment import Unit, segment, units
from search.synonyms import Table
from search.text import exact_key, fold, has_diacritics, nfc

DocFreq = Callable[[str, bool], int]  # (key, folded) → articles holding it
Holds = Callable[["Need"], int]  # articles holding a need (its syllables in order)
TEXT = "text"  # title, summary and body (see search.schema)
TITLE = "title_words"
FIELD_PREFIXES = {"title": TITLE, "tieude": TITLE, "tiêu_đề": TITLE}
Term = tuple[str, str]  # (field, key)

# Function and question words a reader adds to a query without meaning "only articles that say it":
# required, "Ai là … ?" would find articles holding "ai" and "là", not the passage that answers.
_STOPWORD_TEXT = (
    "và của các là có được những cho với trong này đã không một đến từ khi thì mà để về theo cũng"
    " như tại ra vào sẽ lại bị do nên đang rất vẫn hay hoặc nếu nhưng vì ở trên"
    " gì nào ai đâu bao_nhiêu bao_giờ khi_nào tại_sao thế_nào như_thế_nào ra_sao vậy chưa"
)
STOPWORDS = frozenset(exact_key(w) for w in _STOPWORD_TEXT.split())
_FOLDED_STOPWORDS = {fold(w): w for w in STOPWORDS}

# "-word" excludes; "-400" is a number as typed or pasted ("F -15"), never an exclusion.
_LEXEME = re.compile(
    r'(?P<neg>-(?=[^\d\s-]))?(?:(?P<field>[^\W\d]\w*):)?(?:"(?P<phrase>[^"]*)"?|(?P<bare>[^\s"]+))'
)


@dataclass(frozen=True)
class Tuning:
    """Query-time ranking and matching choices, measured by ``benchmarks/token_scheme.py``,
    ``benchmarks/relevance.py`` and ``benchmarks/precision.py``.

    Title and summary weights are index-time (``search.analysis.TITLE_BOOST``, ``SUMMARY_BOOST``).

    ``lead_phrase``: the lead (summary) of a news story states it; holding a long stretch of the
    query in order there is proximity evidence the bag of terms lacks. Measured with
    ``benchmarks/relevance.py`` (full run, OR matching), without → with 0.5: set A MRR@10 as
    written 0.938 → 0.942, without diacritics 0.939 → 0.936; set B (known items) MRR@10 0.996 /
    0.993 → 0.999 / 0.999. The other weights were swept before it (title_phrase 0–3, covered
    0.3–0.7, word 0.7–1.5, BM25 K1 0.9–1.6 and B 0.3–0.4): none was better on every set A figure.

    ``join``: pyvi never joins syllables typed without marks ("bong da" stays two words, and "da"
    would read as "đã"), nor some typed with them; adjacent single syllables are one word when the
    index holds them as a word in at least this many articles ("bóng_đá", "tham_nhũng"; in a small
    index, in a tenth of those holding its rarest syllable, if fewer). A ratio alone
    to the rarest syllable's articles failed folded: "tham" is also "thăm" and "tham gia", so
    "tham_nhung" was 1.6% of it.

    ``long_words`` / ``long_share``: a long query is a description or a question, not a list of
    words each result must hold (Elasticsearch's minimum_should_match "3<75%" likewise). Set A
    (all 199 VMDS topics over the 628 VMDS articles and 100 VietNews distractors), MRR@10 / R@10 as
    written, then without diacritics: OR matching before 0.987 / 0.983, 0.987 / 0.980; every word
    of any query 0.940 / 0.712 (every 4th topic); more than 4 words need 75% 0.971 / 0.803, 0.976 /
    0.830; need 60% 0.981 / 0.847, 0.987 / 0.875; more than 3 words need 60% 0.987 / 0.895, 0.987
    / 0.907. Over all 23,125 articles: more than 4 words need 60% 0.933 / 0.786, 0.926 / 0.777;
    more than 3 words 0.948 / 0.843, 0.948 / 0.844 (set B 0.999 / 1.000 both). The reader's view
    (``benchmarks/precision.py``) did not move between the two: its queries have at most 3 words.

    ``stopword_share``: in a query typed without marks, a folded function word ("cua") is optional
    only when its function-word form ("của") is at least this share of its folded form's articles.
    """

    word: float = 1.0  # weight of a multi-syllable word's own token
    ngrams: bool = True  # adjacent syllables of the query are word candidates too
    covered: float = 0.5  # weight of a syllable inside a query word the index holds as a word
    title_phrase: float = 1.0  # score × (1 + this × share of the query found in order in the title)
    lead_phrase: float = 0.5  # score × (1 + this × share of the query found in order in the lead)
    stopword_share: float = 0.6
    join: int = 3
    long_words: int = 3  # a query of more words than this requires ``long_share`` of them
    long_share: float = 0.6
    synonym: float = 0.5  # a synonym's matches score this share of the typed form's (see search.synonyms)


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True)
class Rewrite:
    """A query word searched as something else: ``typed`` → ``searched`` (``how``: "telex", "vni",
    "same" for a form of a name searched as its first form, "synonyms"), and the other forms
    that satisfy it (``also``)."""

    typed: str
    searched: str
    how: str
    also: tuple[str, ...] = ()


class Named(list):
    """A query word a synonyms entry matched: its units (a list, like every word), plus the other
    forms that satisfy it and the share of a match's score they earn."""

    def __init__(self, word: list[Unit], also: tuple[str, ...], weight: float, typed: str):
        super().__init__(word)
        self.also, self.weight, self.typed = also, weight, typed


@dataclass
class Clause:
    """A quoted phrase or a field-restricted word/phrase: its syllables, required in order."""

    words: list[list[Unit]]
    phrase: bool = False
    fields: tuple[str, ...] = (TEXT,)


@dataclass
class Group:
    """One alternative of the query (the whole query when it has no ``OR``)."""

    words: list[list[Unit]] = field(default_factory=list)  # plain words (pyvi)
    runs: list[list[Unit]] = field(default_factory=list)  # the units of each stretch of plain text
    required: list[Clause] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.words or self.required)


@dataclass
class ParsedQuery:
    groups: list[Group] = field(default_factory=lambda: [Group()])
    excluded: list[Clause] = field(default_factory=list)
    folded: bool = False
    searched: str = ""  # the query as searched: Telex/VNI decoded, forms of a name as its first form
    rewrites: list[Rewrite] = field(default_factory=list)

    @property
    def words(self) -> list[list[Unit]]:
        return [w for g in self.groups for w in g.words]

    @property
    def runs(self) -> list[list[Unit]]:
        return [r for g in self.groups for r in g.runs]

    @property
    def required(self) -> list[Clause]:
        return [c for g in self.groups for c in g.required]

    def is_empty(self) -> bool:
        return not self.excluded and all(g.is_empty() for g in self.groups)


@dataclass(frozen=True)
class Need:
    """Syllables an article must hold at consecutive positions: a query word, phrase or clause.

    ``token``: one indexed token that implies the sequence (a pyvi word such as "khoa_học" or a
    compound such as "tp.hcm"), so most holders are found without reading positions.
    ``droppable``: a plain word, which relaxation may leave out; phrases and clauses never are.
    """

    text: str
    terms: tuple[Term, ...]
    token: Term | None = None
    droppable: bool = True
    alternatives: tuple["Need", ...] = ()  # synonyms: an article holding one of them holds the need


@dataclass
class Plan:
    """What a query requires (an article matches when it holds every need of one group and no
    excluded need) and how its matches are scored."""

    groups: list[list[Need]]
    excluded: list[Need]
    score: Q.Query | None
    optional: list[Need] = field(default_factory=list)  # function words: they only add score
    words: list[Need] = field(default_factory=list)  # every plain word, in the order typed
    stretches: list[tuple[Need, list[Need]]] = field(default_factory=list)  # see ``marks``

    def marks(self, shown: list[Need]) -> list[tuple[Need, list[Need]]]:
        """What highlighting marks: each stretch of plain words where it stands whole ("giá vàng"),
        else those of its words that are ``shown``; then each phrase and clause."""
        clauses = [n for g in self.groups for n in g if not n.droppable]
        stretches = [(whole, [w for w in words if w in shown]) for whole, words in self.stretches]
        return stretches + [(n, [n]) for n in dict.fromkeys(clauses)]


def parse(
    text: str, doc_freq: DocFreq | None = None, synonyms: Table | None = None, tuning: "Tuning | None" = None
) -> ParsedQuery:
    """Parse a user query; raises QueryError with a readable message when it cannot be used.

    Plain words typed as Telex or VNI residue are searched decoded (``search.typing``; with
    ``doc_freq``, a word the index holds as typed more often than decoded stays as typed), and
    the forms of a ``synonyms`` entry as the entry says (``search.synonyms``).
    """
    text = nfc(text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"Truy vấn quá dài ({len(text)} ký tự, tối đa {MAX_QUERY_CHARS}). "
            f"Query too long ({len(text)} characters, at most {MAX_QUERY_CHARS}).",
            param="q",
        )
    text, rewrites, named = _rewritten(text, doc_freq, synonyms, tuning or DEFAULT_TUNING)
    parsed = ParsedQuery(folded=not has_diacritics(text), searched=text, rewrites=rewrites)
    run: list[str] = []
    inside = 0  # the end of the synonym form the lexemes stand in
    for m in _LEXEME.finditer(text):
        bare, phrase, prefix, neg = m["bare"], m["phrase"], m["field"], m["neg"]
        group = parsed.groups[-1]
        if m.start() < inside:
            continue
        if m.start() in named:
            _add_run(group, run)
            inside, word = named[m.start()]
            group.words.append(word)
            group.runs.append(word)
            continue
        if bare == "OR" and not prefix and not neg:
            _add_run(group, run)
            if not group.is_empty():
                parsed.groups.append(Group())
            continue
        fields = _fields_for(prefix)
        if fields is None:  # "foo:bar" with an unknown field is plain text
            bare, phrase = m.group(0).lstrip("-"), None
            fields = (TEXT,)
        if prefix and fields != (TEXT,) and not (bare or phrase):
            raise QueryError(f"“{prefix}:” cần một từ hoặc cụm từ phía sau, ví dụ {prefix}:Huế.")
        if not neg and phrase is None and fields == (TEXT,):
            run.append(bare)
            continue
        _add_run(group, run)
        clause = Clause(_words(phrase if phrase is not None else bare), phrase is not None, fields)
        if clause.words:
            (parsed.excluded if neg else group.required).append(clause)
    _add_run(parsed.groups[-1], run)
    if len(parsed.groups) > 1 and parsed.groups[-1].is_empty():
        parsed.groups.pop()  # a trailing "OR"
    if text and parsed.is_empty():
        raise QueryError("Truy vấn không có từ nào để tìm. The query has no words to search for.")
    _cap_words(parsed)
    return parsed


def _is_plain(m: re.Match) -> bool:
    return bool(m["bare"]) and not m["field"] and not m["neg"] and m["bare"] != "OR"


def _rewritten(
    text: str, doc_freq: DocFreq | None, synonyms: Table | None, tuning: "Tuning"
) -> tuple[str, list[Rewrite], dict[int, tuple[int, "Named"]]]:
    """The query with its Telex/VNI words decoded and the forms of a name as its first form; the
    rewrites; and where each synonym form stands in the new text: start → (end, its word)."""
    lexemes = list(_LEXEME.finditer(text))
    plain = [i for i, m in enumerate(lexemes) if _is_plain(m)]
    words = {i: lexemes[i]["bare"] for i in plain}
    rewrites = []
    for at, decoded in typing.decode_words([words[i] for i in plain]).items():
        i = plain[at]
        if _held_as_typed(words[i], decoded, doc_freq):
            continue
        how = "vni" if any(c.isdigit() for c in words[i]) else "telex"
        rewrites.append(Rewrite(words[i], decoded, how))
        words[i] = decoded
    replaced: dict[int, tuple[int, str, Rewrite | None]] = {}  # first lexeme → (last, text, synonym)
    for run in _adjacent(plain) if synonyms else []:
        for found in synonyms.find([words[i] for i in run]):
            first, last = run[found.start], run[found.end - 1]
            typed = " ".join(words[i] for i in run[found.start : found.end])
            searched = found.searched or typed
            how = "same" if found.searched else "synonyms"
            replaced[first] = (last, searched, Rewrite(typed, searched, how, found.also))
    out, named, end, skip = [], {}, 0, -1
    for i, m in enumerate(lexemes):
        if i <= skip:
            continue
        out.append(text[end : m.start()])
        if i in replaced:
            skip, piece, rewrite = replaced[i]
            start = sum(map(len, out))
            weight = 1.0 if rewrite.how == "same" else tuning.synonym
            word = Named([u for w in _words(piece) for u in w], rewrite.also, weight, rewrite.typed)
            named[start] = (start + len(piece), word)
            rewrites.append(rewrite)
            end = lexemes[skip].end()
        else:
            piece, end = words.get(i, m.group(0)), m.end()
        out.append(piece)
    out.append(text[end:])
    return "".join(out), rewrites, named


def _held_as_typed(typed: str, decoded: str, doc_freq: DocFreq | None) -> bool:
    """The index holds the word as typed, in at least as many articles as the decoded syllable."""
    if doc_freq is None:
        return False
    core = typing.core(typed)
    held = doc_freq(fold(core), True)
    return held > 0 and held >= doc_freq(exact_key(typing.core(decoded)), False)


def _adjacent(plain: list[int]) -> list[list[int]]:
    """Runs of plain words with no operator, phrase or field between them (lexeme indices)."""
    runs: list[list[int]] = []
    for i in plain:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _cap_words(parsed: ParsedQuery) -> None:
    """Keep the first ``MAX_WORDS`` plain words (and the stretches of text they stand in: word
    candidates come from those), ``MAX_CLAUSES`` phrases, fields and exclusions, and ``MAX_WORDS``
    syllables of each phrase: hundreds of terms or position checks would only cost time."""
    words, clauses = MAX_WORDS, MAX_CLAUSES
    for group in parsed.groups:
        del group.words[words:]
        words -= len(group.words)
        units = sum(len(w) for w in group.words)
        runs = []
        for run in group.runs:
            if units > 0:
                runs.append(run[:units])
            units -= len(run)
        group.runs = runs
        del group.required[clauses:]
        clauses -= len(group.required)
    del parsed.excluded[max(0, clauses) :]
    for clause in parsed.required + parsed.excluded:
        _cap_syllables(clause)


def _cap_syllables(clause: Clause) -> None:
    """A phrase of ``MAX_WORDS`` syllables at most: its first ones (each syllable is a posting list
    whose positions the phrase check reads)."""
    kept, left = [], MAX_WORDS
    for word in clause.words:
        size = len(_flat(word))
        if size > left:
            break
        kept.append(word)
        left -= size
    clause.words = kept or [clause.words[0][:1]]


def _add_run(group: Group, run: list[str]) -> None:
    """Segment a stretch of plain text as a whole (pyvi needs the context)."""
    words = _words(" ".join(run))
    run.clear()
    if words:
        group.words += words
        group.runs.append([u for w in words for u in w])


def _fields_for(prefix: str | None) -> tuple[str, ...] | None:
    if not prefix:
        return (TEXT,)
    name = FIELD_PREFIXES.get(fold(prefix)) or FIELD_PREFIXES.get(prefix.lower())
    return (name,) if name else None


def _words(text: str) -> list[list[Unit]]:
    """pyvi words of a query text: the whole run at once, so multi-syllable words survive."""
    return segment(text) if text else []


# --- what a query requires -----------------------------------------------------------------------


def plan(
    parsed: ParsedQuery, doc_freq: DocFreq, tuning: Tuning = DEFAULT_TUNING, holds: Holds | None = None
) -> Plan:
    """The needs of each alternative, the excluded needs and the scoring query, for one index.

    ``doc_freq(key, folded)`` (articles holding a ``text`` key) finds the words pyvi did not join
    and tells whether a folded function word is one; ``holds(need)`` (articles holding a need)
    decides whether a word typed partly without marks is taken as typed.
    """
    keying = _Keying(parsed.folded, doc_freq, tuning, holds)
    groups, optional, every, stretches = [], [], [], []
    for group in parsed.groups:
        unheld = _unheld_names(group.words, keying)
        typed = _joined(
            [u for w in group.words for u in (_words(w.typed) if id(w) in unheld else [w])], keying
        )
        words = [_word_need(w, keying) for w in typed]
        every += words
        runs = [_flat_words(r.typed) if id(r) in unheld else r for r in group.runs]
        stretches += _stretches(runs, words)
        stop = [_is_stopword(w, n, keying) for w, n in zip(typed, words, strict=True)]
        content = [n for n, s in zip(words, stop, strict=True) if not s]
        optional += [n for n, s in zip(words, stop, strict=True) if s] if content else []
        clauses = [_clause_need(c, keying) for c in group.required]
        needs = list(dict.fromkeys((content or words) + clauses))  # "va co" × 60 is one need
        if needs:
            groups.append(needs)
    excluded = list(dict.fromkeys(_clause_need(c, keying, droppable=False) for c in parsed.excluded))
    return Plan(groups, excluded, _score_query(parsed, keying, tuning), optional, every, stretches)


def _unheld_names(words: list[list[Unit]], keying: "_Keying") -> set[int]:
    """The synonym words no article holds in any form (by id): they are searched as their words as
    typed, so that relaxation can still leave out the ones no article holds ("bảo hiểm xã hội"
    where only "bảo hiểm" is found)."""
    if keying.holds is None:
        return set()
    return {id(w) for w in words if isinstance(w, Named) and not keying.holds(_word_need(w, keying))}


def _flat_words(text: str) -> list[Unit]:
    return [u for w in _words(text) for u in w]


def _stretches(runs: list[list[Unit]], words: list[Need]) -> list[tuple[Need, list[Need]]]:
    """Each stretch of plain text as one need (all its syllables in order) with its words' needs."""
    out, i = [], 0
    for run in runs:
        size, taken = len(_flat(run)), []
        while i < len(words) and sum(len(n.terms) for n in taken) < size:
            taken.append(words[i])
            i += 1
        whole = Need(" ".join(n.text for n in taken), tuple(t for n in taken for t in n.terms))
        out.append((whole, taken))
    return out


class _Keying:
    """How each typed syllable is compared in this index: (field, key)."""

    def __init__(self, folded: bool, doc_freq: DocFreq, tuning: Tuning, holds: Holds | None):
        self.folded, self.doc_freq, self.tuning, self.holds = folded, doc_freq, tuning, holds
        self.unmarked_folded: set[str] = set()  # syllables typed without marks, compared folded

    def term(self, typed: str, base: str = TEXT, as_typed: bool = True) -> Term:
        if self.folded or not (as_typed or has_diacritics(typed)):
            return base + FOLDED_SUFFIX, fold(typed)
        return base, exact_key(typed)

    def is_folded(self, typed: str) -> bool:
        return self.folded or exact_key(typed) in self.unmarked_folded

    def need(self, seq: list[Unit], text: str, base: str, token, droppable: bool) -> Need:
        """The syllables as typed; those typed without marks folded when, in a query with marks,
        nothing holds them as typed ("ha Nội": no article says "ha nội")."""
        need = Need(text, tuple(self.term(u.text, base) for u in seq), token(True), droppable)
        unmarked = [u.text for u in seq if u.text.isalpha() and not has_diacritics(u.text)]
        if self.folded or not unmarked or self.holds is None or self.holds(need):
            return need
        self.unmarked_folded |= {exact_key(t) for t in unmarked}
        return Need(text, tuple(self.term(u.text, base, False) for u in seq), token(False), droppable)


def _flat(seq: list[Unit]) -> list[Unit]:
    return [p for u in seq for p in (u.parts() if u.is_compound else [u])]


def _joined(words: list[list[Unit]], keying: _Keying) -> list[list[Unit]]:
    """The words, with runs of 3 or 2 lone syllables joined where the index knows them as a word."""
    out, i = [], 0
    while i < len(words):
        for n in (3, 2, 1):
            seq = words[i : i + n]
            if n == 1 or (len(seq) == n and _is_known_word(seq, keying)):
                out.append(seq[0] if n == 1 else [u for w in seq for u in w])
                i += n
                break
    return out


def _is_known_word(seq: list[list[Unit]], keying: _Keying) -> bool:
    """Lone syllables the index holds as one word ("bong da" as "bóng_đá"): as typed, or folded
    where some were typed without marks ("ha Nội" as "hà_nội")."""
    if any(len(w) != 1 or w[0].is_compound or isinstance(w, Named) for w in seq):
        return False
    typed = [w[0].text for w in seq]
    if not keying.folded and _held_as_word([exact_key(t) for t in typed], False, keying):
        return True
    unmarked = keying.folded or any(t.isalpha() and not has_diacritics(t) for t in typed)
    return unmarked and _held_as_word([fold(t) for t in typed], True, keying)


def _held_as_word(keys: list[str], folded: bool, keying: _Keying) -> bool:
    """The word token is in ``Tuning.join`` articles, or (a small index) in a tenth of those
    holding its rarest syllable."""
    rarest = min(keying.doc_freq(k, folded) for k in keys)
    least = min(keying.tuning.join, max(1, rarest // 10))
    return rarest > 0 and keying.doc_freq("_".join(keys), folded) >= least


def _word_need(word: list[Unit], keying: _Keying) -> Need:
    """A plain word: its syllables (a compound's parts) in order; its word or compound token."""

    def token(as_typed: bool) -> Term | None:
        if len(word) == 1 and not word[0].is_compound:
            return None
        fields = {keying.term(u.text, TEXT, as_typed)[0] for u in _flat(word)}
        if len(fields) != 1:
            return None
        (fieldname,) = fields
        if any(u.is_compound for u in word) and len(word) > 1:
            return None
        key = compound_key(word[0].text) if word[0].is_compound else "_".join(exact_key(u.text) for u in word)
        return fieldname, fold(key) if fieldname.endswith(FOLDED_SUFFIX) else key

    need = keying.need(_flat(word), " ".join(u.text for u in word), TEXT, token, True)
    if isinstance(word, Named):
        return replace(need, alternatives=tuple(_form_need(f) for f in word.also))
    return need


def _form_need(form: str) -> Need:
    """Another form of a query word (a synonym): its syllables as written, with their marks."""
    word = [u for w in _words(form) for u in w]
    if len(word) == 1 and word[0].is_compound:
        token = (TEXT, compound_key(word[0].text))
    else:
        token = (TEXT, "_".join(exact_key(u.text) for u in word)) if len(word) > 1 else None
    return Need(form, tuple((TEXT, exact_key(u.text)) for u in _flat(word)), token)


def _is_stopword(word: list[Unit], need: Need, keying: _Keying) -> bool:
    """A function or question word; folded, only where that reading dominates ("cua" is "của")."""
    if any(u.is_compound for u in word):
        return False
    key = "_".join(exact_key(u.text) for u in word)
    if not keying.folded:
        return key in STOPWORDS and all(not f.endswith(FOLDED_SUFFIX) for f, _k in need.terms)
    stop = _FOLDED_STOPWORDS.get(fold(key))
    if stop is None:
        return False
    folded_count = keying.doc_freq(fold(key), True)
    return folded_count > 0 and keying.doc_freq(stop, False) >= keying.tuning.stopword_share * folded_count


def _clause_need(clause: Clause, keying: _Keying, droppable: bool = False) -> Need:
    """A phrase or ``title:`` clause (or an exclusion): every syllable, in order, in its field."""
    (base,) = clause.fields
    seq = _flat([u for w in clause.words for u in w])
    text = " ".join(u.text for w in clause.words for u in w)
    return keying.need(seq, text, base, lambda _as_typed: None, droppable)


# --- how matches are scored ----------------------------------------------------------------------


def _score_query(parsed: ParsedQuery, keying: _Keying, tuning: Tuning) -> Q.Query | None:
    """BM25F term leaves over ``text`` (and the title field for ``title:`` clauses), summed."""
    keys = _weigh_covered_syllables(_keys(parsed, tuning), keying)
    leaves = {}
    for key, boost in keys:
        fieldname, text = _keyed(key, keying)
        if keying.doc_freq(text, fieldname.endswith(FOLDED_SUFFIX)) > 0:
            leaves.setdefault((fieldname, text), Q.Term(fieldname, text, boost=boost))
    for clause in parsed.required:
        for fieldname, text in _clause_need(clause, keying).terms:
            leaves.setdefault((fieldname, text), Q.Term(fieldname, text))
    synonyms = [_synonyms_leaf(w, keying) for w in parsed.words if isinstance(w, Named)]
    scoring = list(leaves.values()) + [leaf for leaf in synonyms if leaf is not None]
    return Q.Or(scoring) if scoring else None


def _synonyms_leaf(word: "Named", keying: _Keying) -> Q.Query | None:
    """The best of a word's other forms: each scores the mean of its terms' scores × ``weight``
    (so a long spelled-out form does not outweigh the short one typed)."""
    forms = []
    for form in word.also:
        need = _form_need(form)
        keys = dict.fromkeys((*need.terms, need.token))
        terms = [t for t in keys if t and keying.doc_freq(t[1], False) > 0]
        if terms:
            forms.append(Q.Or([Q.Term(f, k) for f, k in terms], boost=word.weight / len(terms)))
    return Q.DisjunctionMax(forms) if forms else None


def _keyed(key: str, keying: _Keying) -> Term:
    """A query key in the field its syllables are compared in (folded if any of them is)."""
    syllables = [p for p in re.split(r"[_./\-,@:']", key) if p]
    if any(keying.is_folded(s) for s in syllables):
        return TEXT + FOLDED_SUFFIX, fold(key)
    return TEXT, key


def _weigh_covered_syllables(keys: list[tuple[str, float]], keying: _Keying) -> list[tuple[str, float]]:
    """Syllables of a query word that the index knows as a word weigh ``Tuning.covered``.

    "khoa học" then counts as one strong word match plus weak syllable matches, so an article
    with many "học" (học sinh, đại học) and no "khoa học" cannot outrank one about science.
    """
    known = []
    for k, _ in keys:
        if "_" in k:
            fieldname, text = _keyed(k, keying)
            if keying.doc_freq(text, fieldname.endswith(FOLDED_SUFFIX)) > 0:
                known.append(k)
    covered = {syllable for word in known for syllable in word.split("_")}
    return [(k, boost * keying.tuning.covered if k in covered else boost) for k, boost in keys]


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
