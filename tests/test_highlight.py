"""Snippet windows: the one-pass window finder agrees with the obvious quadratic one, and an article's
marks are capped, so a 5 MB body with a match every few words costs no more than its first matches."""

from hypothesis import given, settings
from hypothesis import strategies as st

from search import highlight


def quadratic_best_window(text: str, spans: list[tuple[int, int]], width: int) -> int:
    """The window finder as first written: every start, every span after it."""
    best, best_score = spans[0][0], (0, 0)
    for i, (s, _e) in enumerate(spans):
        inside = [(a, b) for a, b in spans[i:] if b <= s + width - highlight.LEAD_IN]
        score = (len({w for a, b in inside for w in text[a:b].lower().split()}), len(inside))
        if score > best_score:
            best, best_score = s, score
    return best


@st.composite
def texts_with_spans(draw):
    words = draw(
        st.lists(st.sampled_from(["khoa", "học", "Huế", "xã", "và", "tỉnh"]), min_size=1, max_size=80)
    )
    text = " ".join(words)
    starts, at = [], 0
    for w in words:
        starts.append((at, at + len(w)))
        at += len(w) + 1
    chosen = draw(st.lists(st.sampled_from(starts), min_size=1, max_size=len(starts), unique=True))
    return text, highlight.merge(chosen, text)


@settings(max_examples=300, deadline=None)
@given(texts_with_spans(), st.integers(min_value=61, max_value=240))
def test_the_one_pass_window_is_the_quadratic_one(case, width):
    text, spans = case
    assert highlight._best_window(text, spans, width) == quadratic_best_window(text, spans, width)


def test_an_article_marks_at_most_max_marks_matches():
    text = "vàng " * 50_000
    starts = list(range(0, len(text), 5))
    found = highlight.spans(text, starts, [(p, 1) for p in range(len(starts))])
    assert len(found) == highlight.MAX_MARKS and found[0] == (0, 4)
    assert highlight.snippet(text, found).startswith("<mark>vàng vàng")
