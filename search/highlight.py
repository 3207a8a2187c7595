"""Highlighting from stored character offsets: no re-tokenizing, no pyvi at query time.

The spans of every matched term come from the postings (``TEXT(chars=True)``); exact and folded
fields share offsets, so a match found without diacritics marks the accented original. Text is
HTML-escaped here and nowhere else: ``<mark>`` is the only markup in the output.
"""

from collections import defaultdict
from html import escape

Span = tuple[int, int]
SNIPPET_CHARS = 200
LEAD_IN = 60


def load_spans(reader, docnums: list[int], terms: list[tuple[str, str]]) -> dict[int, dict[str, list]]:
    """docnum → field → [(start, end)] of the given (field, term) in each shown hit.

    Folded fields (``text_f``) share offsets with their exact twin and are filed under it.
    """
    out: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    wanted = sorted(set(docnums))
    for fieldname, term in terms:
        if (fieldname, term) not in reader:
            continue
        matcher = reader.postings(fieldname, term)
        for docnum in wanted:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                base = fieldname.removesuffix("_f")
                spans = [(s, e) for _pos, s, e in matcher.value_as("characters")]
                out[docnum][base].extend(spans)
    return out


def merge(spans: list[Span], text: str) -> list[Span]:
    """Union overlapping spans; join neighbours separated by one space ("Khoa học" as one mark)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or text[merged[-1][1] : start] == " "):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


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
