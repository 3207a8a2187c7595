"""Highlighting from the positions in the postings: no re-tokenizing, no pyvi at query time.

``search.matching.marked`` finds where each query word stands, as it matched (its syllables
adjacent and in order, so "gia vang" marks "giá vàng", never the "gia" of "chuyên gia"); the
article's stored ``starts`` (see ``search.analysis.position_starts``) say where each position's
syllable begins, and the syllable runs to the end of its alphanumeric run. Exact and folded
fields share positions, so a match found without diacritics marks the accented original. Text is
HTML-escaped here and nowhere else: ``<mark>`` is the only markup in the output.
"""

from collections import Counter
from collections.abc import Sequence
from html import escape

from search.segment import JOINERS, PART

Span = tuple[int, int]
SNIPPET_CHARS = 200
LEAD_IN = 60
MAX_MARKS = 2_000  # matches marked per article: a 5 MB body's thousands of matches cost no more


def spans(text: str, starts: Sequence[int], matched: list[tuple[int, int]]) -> list[Span]:
    """Character spans in ``text`` of matched (position, syllables), the first ``MAX_MARKS``."""
    out = []
    for pos, syllables in sorted(matched)[:MAX_MARKS]:
        last = pos + syllables - 1
        if last < len(starts) and (run := PART.match(text, int(starts[last]))):
            out.append((int(starts[pos]), run.end()))
    return out


def syllables_at(text: str, starts: Sequence[int], pos: int, count: int) -> list[str]:
    """The syllables of the text at positions pos … pos + count - 1, as written there."""
    out = []
    for p in range(pos, pos + count):
        run = PART.match(text, int(starts[p])) if p < len(starts) else None
        out.append(run.group() if run else "")
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
    matches (a window with "khoa học" beats one with "học" three times). One pass of a sliding
    window over the sorted, disjoint spans: linear in the number of matches."""
    words = [text[a:b].lower().split() for a, b in spans]
    inside: Counter = Counter()
    best, best_score, end = spans[0][0], (0, 0), 0
    for i, (s, _e) in enumerate(spans):
        end = max(end, i)  # an empty window stays empty: nothing to take out
        while end < len(spans) and spans[end][1] <= s + width - LEAD_IN:
            inside.update(words[end])
            end += 1
        score = (len(inside), end - i)
        if score > best_score:
            best, best_score = s, score
        if end > i:
            inside.subtract(words[i])
            for w in words[i]:
                if inside.get(w, 0) <= 0:
                    inside.pop(w, None)
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
