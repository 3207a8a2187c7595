"""The core on real Vietnamese news (VMDS, 2012–2013): offsets, accentless search, highlights."""

import itertools
import json
import re

import pytest

import search
from search.analysis import compound_key, joined, segment_article
from search.text import fold

N_ARTICLES = 150


@pytest.fixture(scope="module")
def vmds(shared_dir):
    with open(shared_dir / "corpus" / "vmds-ktlab" / "docs.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in itertools.islice(fh, N_ARTICLES)]


@pytest.fixture(scope="module")
def ix(vmds, tmp_path_factory):
    index = search.Index(tmp_path_factory.mktemp("vmds"))
    with index.new_generation() as gen:
        gen.add_many(vmds)
    return index


def test_token_offsets_slice_real_articles_to_their_tokens(vmds):
    for art in vmds[:40]:
        seg = segment_article(art)
        whole = joined(seg["texts"])
        for key, _pos, start, end in seg["text"]:
            assert "_".join(compound_key(s) for s in whole[start:end].split()) == key


@pytest.mark.parametrize("accentless", [False, True])
def test_an_article_is_found_first_by_its_own_title(ix, vmds, accentless):
    misses = []
    for art in vmds[::10]:
        q = fold(art["title"]) if accentless else art["title"]
        found = [h.id for h in ix.search(q).hits]
        if art["id"] not in found[:1]:
            misses.append((art["title"], found[:3]))
    assert len(misses) <= 1, misses  # near-duplicate stories may share a title


def test_accentless_query_highlights_the_accented_words(ix):
    res = ix.search("bieu tinh")
    assert res.total > 0
    marked = {m.lower() for h in res.hits for m in re.findall(r"<mark>(.*?)</mark>", h.snippet_html)}
    assert "biểu tình" in marked
    assert res.suggestion == "biểu tình"
