"""Tokens: syllables, words and compounds, with offsets that slice the stored text."""

import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from search import highlight
from search.analysis import (
    Analyzed,
    compound_key,
    field_bounds,
    folded,
    joined,
    key_syllables,
    segment_article,
    text_boosts,
    tokens,
)
from search.codec import pack_increasing, unpack_increasing
from search.text import fold

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
piece = st.one_of(
    st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + "0123456789", min_size=1, max_size=7),
    st.sampled_from(
        [" ", "  ", "\n", "\t", ". ", ",", "-", "/", '"', "(", "http://x.vn/a-b.html", "13/11/2023"]
    ),
    st.text(max_size=3),  # anything at all, NFD marks and emoji included
)
text_strategy = st.lists(piece, max_size=60).map("".join)


def keys(text):
    return [k for k, *_ in tokens(text)]


def surface_key(piece: str) -> str:
    """What a token's text must be, given the stored text its offsets slice."""
    return "_".join(compound_key(syllable) for syllable in piece.split())


@settings(max_examples=300, deadline=None)
@given(text_strategy)
def test_every_token_offset_slices_the_text_to_that_token(text):
    text = unicodedata.normalize("NFC", text)
    for key, _pos, start, end in tokens(text):
        assert surface_key(text[start:end]) == key


@settings(max_examples=200, deadline=None)
@given(text_strategy)
def test_folded_tokens_share_offsets_and_slice_to_the_folded_form(text):
    text = unicodedata.normalize("NFC", text)
    exact = tokens(text)
    for (_k, p, s, e), (fk, fp, fs, fe) in zip(exact, folded(exact), strict=True):
        assert (p, s, e) == (fp, fs, fe)
        assert fold(surface_key(text[s:e])) == fk


def test_word_token_spans_the_whole_word_at_its_first_syllable_position():
    text = "Hội thảo khoa học tại Huế"
    toks = tokens(text)
    word = next(t for t in toks if t[0] == "khoa_học")
    syllable = next(t for t in toks if t[0] == "khoa")
    assert word[1] == syllable[1]
    assert text[word[2] : word[3]] == "khoa học"


def test_offsets_survive_newlines_repeated_spaces_urls_and_numbers():
    text = "Ngày  13/11/2023\n\n  xem https://thuathienhue.gov.vn/a-b.html  giá 3,2 tỷ đồng"
    for key, _p, s, e in tokens(text):
        assert surface_key(text[s:e]) == key


def test_abbreviations_dates_and_numbers_are_tokens_as_typed_and_as_parts():
    got = keys("UBND TP.HCM họp về COVID-19 ngày 13/11/2023")
    for key in ["ubnd", "tp.hcm", "tp", "hcm", "covid-19", "covid", "19", "13/11/2023", "13", "2023"]:
        assert key in got


def test_nfd_article_offsets_point_into_the_stored_nfc_text():
    nfd = unicodedata.normalize("NFD", "Đảng ủy tỉnh Thừa Thiên Huế")
    seg = segment_article({"id": "x", "title": nfd, "body": nfd})
    assert seg["texts"]["body"] == unicodedata.normalize("NFC", nfd)
    whole = joined(seg["texts"])
    for key, _p, s, e in seg["text"]:
        assert surface_key(whole[s:e]) == key


@settings(max_examples=100, deadline=None)
@given(title=text_strategy, summary=text_strategy, body=text_strategy)
def test_article_text_offsets_slice_the_joined_parts_and_phrases_never_cross_them(title, summary, body):
    seg = segment_article({"id": "x", "title": title, "summary": summary, "body": body})
    whole = joined(seg["texts"])
    bounds = field_bounds(seg["texts"])
    last_part, last_pos = None, -1
    for key, pos, s, e in seg["text"]:
        assert surface_key(whole[s:e]) == key
        part = next(f for f, start, end in bounds if start <= s and e <= end)
        if last_part is not None and part != last_part:
            assert pos > last_pos + 1  # a gap: no phrase matches across title, summary and body
        last_part, last_pos = part, max(last_pos, pos)


@settings(max_examples=200, deadline=None)
@given(title=text_strategy, summary=text_strategy, body=text_strategy)
def test_every_tokens_characters_come_back_from_its_position_and_the_stored_starts(title, summary, body):
    """What highlighting relies on: the postings keep positions only, the article keeps starts."""
    seg = segment_article({"id": "x", "title": title, "summary": summary, "body": body})
    whole = joined(seg["texts"])
    starts = unpack_increasing(pack_increasing(seg["starts"]))
    for key, pos, s, e in seg["text"]:
        end = s + len(whole[s:e].rstrip("./-,@_:'"))  # a mark ends with the last syllable ("0_" → "0")
        assert highlight.spans(whole, starts, [(pos, key_syllables(key))]) == [(s, end)], key


def crfsuite_attributes(pyvi_features: list[dict]) -> list[list[str]]:
    """What python-crfsuite scores for pyvi's feature dicts: "name:value" for a text value, the
    name weighted by a number's value; a weight of 0 adds nothing to any score."""
    assert all(isinstance(v, str) or v in (0, 1) for f in pyvi_features for v in f.values())
    return [[k if not isinstance(v, str) else f"{k}:{v}" for k, v in f.items() if v] for f in pyvi_features]


@settings(max_examples=200, deadline=None)
@given(text_strategy)
def test_crf_features_equal_pyvis_own(text):
    from pyvi.ViTokenizer import ViTokenizer

    from search.segment import features, units

    sent = [u.text for u in units(text)]
    assert features(sent) == crfsuite_attributes(ViTokenizer.sent2features(sent, False))


def test_crf_features_equal_pyvis_own_on_news_text():
    from pyvi.ViTokenizer import ViTokenizer

    from search.segment import features, units

    text = (
        "Sáng 13/11/2023, Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh Thừa Thiên Huế tổ chức Hội nghị "
        "tổng kết; TP.HCM và Hà Nội cử đại diện. Giá vàng SJC tăng 3,2% lên 70,5 triệu đồng/lượng."
    )
    sent = [u.text for u in units(text)]
    assert features(sent) == crfsuite_attributes(ViTokenizer.sent2features(sent, False))


def test_labels_equal_pyvis_own_model_on_real_articles(shared_dir):
    """Our tagger reads pyvi's model without sklearn-crfsuite: its labels must be pyvi's."""
    import json

    from pyvi.ViTokenizer import ViTokenizer

    from search.segment import _labels, units

    with open(shared_dir / "corpus" / "vmds-ktlab" / "docs.jsonl", encoding="utf-8") as fh:
        articles = [json.loads(line) for _, line in zip(range(20), fh, strict=False)]
    for art in articles:
        chunk = units(art["title"] + ". " + art["body"])[:1000]
        theirs = ViTokenizer.model.predict([ViTokenizer.sent2features([u.text for u in chunk], False)])[0]
        assert _labels(chunk) == list(theirs)


def test_importing_search_loads_neither_scikit_learn_nor_scipy():
    import subprocess
    import sys

    code = "import sys, search; print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "[]"


@settings(max_examples=100, deadline=None)
@given(title=text_strategy, summary=text_strategy, body=text_strategy)
@example(title="Bão và báo, rồi bão", summary="Báo bão", body="bao giờ hết bão? Báo chí đưa tin")
def test_the_folded_twins_postings_merged_from_the_exact_ones_are_those_of_its_own_tokens(
    title, summary, body
):
    """``Analyzed.folded`` groups by merging the exact groups; it must group as its tokens would."""
    seg = segment_article({"id": "x", "title": title, "summary": summary, "body": body})
    exact = Analyzed(joined(seg["texts"]), seg["text"], text_boosts(seg["texts"]))
    twin = exact.folded()
    assert twin.tokens == folded(seg["text"])
    assert twin.groups() == Analyzed(str(exact), folded(seg["text"]), exact.boosts).groups()
