"""Did-you-mean: a query's accents restored, and words the index never saw respelled.

Computed from the query, the filters and the index only (never from the page shown): accents come
from the best matches of the whole set, where the typed syllables actually stand ("khoa hoc" →
"khoa học" because that is what the matching articles say; pyvi's ``add_accents`` guesses without
the index and says "khoa hộc"). The whole query standing in order in a match wins ("bao lut" →
"bão lụt", not the "báo" that is more frequent alone); otherwise each word is restored where it
stands. A syllable no article holds, even folded, is respelled first to the most frequent indexed
syllable one edit away (``MAX_RESPELLED`` of them per query, so a query of unknown words costs a
few hundred term lookups, not a scan of the term list).
"""

from collections import Counter
from collections.abc import Callable

import numpy as np

from search import highlight, matching, query
from search.analysis import joined
from search.codec import increasing_array
from search.schema import FOLDED_SUFFIX
from search.text import exact_key, fold, has_diacritics, nfc

MAX_RESPELLED = 4
WHOLE_SYLLABLES = 8  # a longer query hardly ever stands whole in an article: restored word by word
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_MARKED_ALPHABET = (
    _ALPHABET
    + "đ"
    + "".join(
        nfc(vowel + tone)
        for vowel in "aăâeêioôơuưy"
        for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    )
)
Ranked = Callable[[query.Plan], list[tuple[int, float]]]  # plan → best (docnum, score) of its set


def suggestion(
    searcher, parsed: query.ParsedQuery, plan: query.Plan, best: Ranked, stored, doc_freq: query.DocFreq
) -> str | None:
    """A better way to type a plain query, or None when it is already as the index writes it."""
    if len(parsed.groups) != 1 or parsed.required or parsed.excluded or not parsed.words:
        return None
    typed = [need.text.split(" ") for need in plan.words]
    respelled = _respelled(searcher, typed)
    if respelled != typed:
        plan = query.plan(query.parse(" ".join(" ".join(w) for w in respelled)), doc_freq)
        respelled = [need.text.split(" ") for need in plan.words]
    if any(f.endswith(FOLDED_SUFFIX) for need in plan.words for f, _k in need.terms):
        respelled = _accented(searcher, plan, best(plan), stored, respelled)
    text = " ".join(" ".join(w) for w in respelled)
    same = [exact_key(s) for w in respelled for s in w] == [exact_key(s) for w in typed for s in w]
    return None if same else text


def _respelled(searcher, typed: list[list[str]]) -> list[list[str]]:
    """Each unknown syllable (the first ``MAX_RESPELLED``) as the indexed one an edit away, compared
    as typed: with its marks when it has any, folded otherwise."""
    out, budget = [], MAX_RESPELLED
    for word in typed:
        fixed = []
        for syllable in word:
            folded = not has_diacritics(syllable)
            key = fold(syllable) if folded else exact_key(syllable)
            if budget and key.isalpha() and not _df(searcher, key, folded):
                budget -= 1
                alphabet = _ALPHABET if folded else _MARKED_ALPHABET
                candidate = max(_edits(key, alphabet), key=lambda c: (_df(searcher, c, folded), c))
                syllable = _same_case(candidate, syllable) if _df(searcher, candidate, folded) else syllable
            fixed.append(syllable)
        out.append(fixed)
    return out


def _df(searcher, key: str, folded: bool) -> int:
    return searcher.doc_frequency(query.TEXT + (FOLDED_SUFFIX if folded else ""), key)


def _edits(word: str, alphabet: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away (Norvig's)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in alphabet]
    inserts = [a + c + b for a, b in splits for c in alphabet]
    return set(deletes + swaps + replaces + inserts) - {word}


def _accented(searcher, plan: query.Plan, best, stored, typed: list[list[str]]) -> list[list[str]]:
    """The typed words with the accents the best matches give them (folded syllables only)."""
    reader = searcher.reader()
    docnums = [d for d, _ in best]
    whole = tuple(t for need in plan.words for t in need.terms)
    forms = _forms(reader, whole, docnums, stored) if len(whole) <= WHOLE_SYLLABLES else None
    if forms and len(whole) == sum(len(w) for w in typed):
        return _split_like(_restore(forms, [s for w in typed for s in w], whole), typed)
    out, forms = [], {}
    for word, need in zip(typed, plan.words, strict=True):
        if need.terms not in forms:  # a word typed twice is looked up once
            fits = len(need.terms) == len(word)
            forms[need.terms] = _forms(reader, need.terms, docnums, stored) if fits else None
        found = forms[need.terms]
        out.append(_restore(found, word, need.terms) if found else word)
    return out


def _forms(reader, terms: tuple, docnums: list[int], stored) -> Counter:
    """How the matches write the terms standing in order: form → weight (earlier matches weigh more)."""
    votes: Counter = Counter()
    if not docnums:
        return votes
    rank = {d: i for i, d in enumerate(docnums)}
    docs, starts = matching.sequence_starts(reader, terms, np.unique(np.array(docnums, dtype=np.int64)))
    seen: set[int] = set()
    for d, p in zip(docs.tolist(), starts.tolist(), strict=True):
        if d in seen:  # one vote per article: a story repeating a name is not ten witnesses
            continue
        seen.add(d)
        doc = stored(d)
        text = joined({f: doc.get(f, "") for f in ("title", "summary", "body")})
        written = highlight.syllables_at(text, increasing_array(doc["starts"]), p, len(terms))
        votes[tuple(s.lower() for s in written)] += 1 / (rank[d] + 1)
    return votes


def _restore(forms: Counter, typed: list[str], terms: tuple) -> list[str]:
    """The most voted form, on the syllables that were compared folded, in the reader's case."""
    form = forms.most_common(1)[0][0]
    return [
        _same_case(f, t) if fieldname.endswith(FOLDED_SUFFIX) else t
        for f, t, (fieldname, _k) in zip(form, typed, terms, strict=True)
    ]


def _split_like(flat: list[str], typed: list[list[str]]) -> list[list[str]]:
    out, i = [], 0
    for word in typed:
        out.append(flat[i : i + len(word)])
        i += len(word)
    return out


def _same_case(form: str, typed: str) -> str:
    """Keep the reader's own capitals."""
    if len(form) != len(typed):
        return form
    return "".join(c.upper() if t.isupper() else c for c, t in zip(form, typed, strict=True))
