"""Highlighting from the positions in the postings: no re-tokenizing, no pyvi at query time.

The postings hold each matched term's positions; the article's stored ``starts`` (see
``search.analysis.position_starts``) say where each position's syllable begins, and the syllable
runs to the end of its alphanumeric run. Exact and folded fields share positions, so a match found
without diacritics marks the accented original. Text is HTML-escaped here and nowhere else:
``<mark>`` is the only markup in the output.
"""

import re
from collections import defaultdict
from html import escape

from search.analysis import key_syllables
from search.segment import JOINERS

Span = tuple[int, int]
SNIPPET_CHARS = 200
LEAD_IN = 60
_RUN = re.compile(r"[^\W_]+")  # a syllable, or one part of a compound such as "TP.HCM"


def load_positions(reader, docnums: list[int], terms: list[tuple[str, bytes]]) -> dict[int, list]:
    """docnum → [(position, syllables)] of the given (field, term) pairs in each shown hit.

    A term spans ``key_syllables`` positions ("khoa_học": 2). Word and compound tokens keep no
    positions in the compact format: their syllables are marked instead.
    """
    out: dict[int, list] = defaultdict(list)
    wanted = sorted(set(docnums))
    for fieldname, term in terms:
        if (fieldname, term) not in reader:
            continue
        syllables = key_syllables(term.decode() if isinstance(term, bytes) else term)
        matcher = reader.postings(fieldname, term)
        for docnum in wanted:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                out[docnum] += [(pos, syllables) for pos in matcher.value_as("positions")]
    return out


def spans(text: str, starts: list[int], matched: list[tuple[int, int]]) -> list[Span]:
    """Character spans in ``text`` of matched (position, syllables)."""
    out = []
    for pos, syllables in matched:
        last = pos + syllables - 1
        if last < len(starts) and (run := _RUN.match(text, starts[last])):
            out.append((starts[pos], run.end()))
    return out


def merge(spans: list[Span], text: str) -> list[Span]:
    """Union overlapping spans; join neighbours separated by one space ("Khoa học" as one mark) or
    by a compound's joiner ("TP.HCM", "COVID-19")."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or _joins(text[merged[-1][1] : start])):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _joins(gap: str) -> bool:
    return gap == " " or (len(gap) == 1 and JOINERS.fullmatch(gap) is not None)


def mark(text: str, spans: list[Span], start: int = 0, end: int | None = None) -> str:
    """Escaped ``text[start:end]`` with ``<mark>`` around the spans inside it."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for s, e in merge(spans, text):
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s], quote=False))
        out.append("<mark>" + escape(text[s:e], quote=False) + "</mark>")
        cursor = e
    out.append(escape(text[cursor:end], quote=False))
    return "".join(out)


def snippet(text: str, spans: list[Span], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters around the best cluster of matches, with ellipses."""
    if not text:
        return ""
    merged = merge(spans, text)
    start = _best_window(text, merged, width) if merged else 0
    start = _word_start(text, max(0, start - LEAD_IN) if merged else 0)
    end = _word_end(text, min(len(text), start + width))
    html = mark(text, merged, start, end)
    return ("…" if start > 0 else "") + html.strip() + ("…" if end < len(text) else "")


def _best_window(text: str, spans: list[Span], width: int) -> int:
    """Start of the match that begins the best window: most distinct matched syllables, then most
    matches (a window with "khoa học" beats one with "học" three times)."""
    best, best_score = spans[0][0], (0, 0)
    for i, (s, _e) in enumerate(spans):
        inside = [(a, b) for a, b in spans[i:] if b <= s + width - LEAD_IN]
        score = (len({w for a, b in inside for w in text[a:b].lower().split()}), len(inside))
        if score > best_score:
            best, best_score = s, score
    return best


def _word_start(text: str, i: int) -> int:
    if i <= 0:
        return 0
    space = text.rfind(" ", max(0, i - 20), i)
    return space + 1 if space >= 0 else i


def _word_end(text: str, i: int) -> int:
    if i >= len(text):
        return len(text)
    space = text.find(" ", i, i + 20)
    return space if space >= 0 else i
