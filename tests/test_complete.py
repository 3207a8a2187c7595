"""Search-as-you-type (search/complete.py): completions of what a reader is typing, from a real
index's words and title phrases, with the marks they typed respected."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pytest

import search
from search import complete, generations

TITLES = [
    "Thành phố Hồ Chí Minh mở rộng tuyến metro số 1",
    "Mưa lớn ở thành phố Hồ Chí Minh gây ngập nhiều tuyến đường",
    "Lễ hội áo dài tại thành phố Hồ Chí Minh",
    "Thành phố Huế đón khách du lịch dịp lễ",
    "Du khách tham quan Đại Nội ở thành phố Huế",
    "Thành phần hồ sơ xét tuyển đại học năm nay",
    "Bão số 3 đổ bộ vào đất liền, bão gây mưa lớn",
    "Cơn bão lũ quét qua các tỉnh miền Trung",
    "Báo chí cách mạng Việt Nam kỷ niệm ngày truyền thống",
    "Báo chí và mạng xã hội trong thời đại số",
    "Giá vàng trong nước tăng mạnh",
    "Giá vàng thế giới lập đỉnh mới",
]


def article(i: int, title: str) -> dict:
    return {
        "id": f"a{i}",
        "title": title,
        "body": f"{title}. Bài viết số {i} về thành phố và đời sống người dân.",
        "date": dt.date(2024, 1, 1 + i),
        "category": "Thời sự",
    }


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    path = tmp_path_factory.mktemp("complete") / "ix"
    ix = search.Index(path, workers=1)
    with ix.new_generation() as gen:
        gen.add_many([article(i, t) for i, t in enumerate(TITLES)])
    return ix


def test_a_partial_accentless_word_completes_to_title_phrases(index):
    found = index.complete("thanh ph")
    assert "thành phố" in found
    assert "thành phố Hồ Chí Minh" in found and "thành phố Huế" in found
    assert "thành phần" in found
    assert found.index("thành phố Hồ Chí Minh") < found.index("thành phố Huế")  # 3 titles against 2
    assert len(found) <= search.MAX_COMPLETIONS


def test_typed_marks_are_respected(index):
    assert all(not c.startswith("báo") for c in index.complete("bão"))
    assert all(not c.lower().startswith("bão") for c in index.complete("báo"))
    assert "báo chí" in index.complete("báo")
    assert all(c.startswith("thành phố") for c in index.complete("thành phố "))
    assert index.complete("thành ph") and all(c.startswith("thành ph") for c in index.complete("thành ph"))
    # a partial syllable with a mark: the same tone, the same marked letters
    assert "giá vàng" in index.complete("giá v")
    assert index.complete("giả v") == []


def test_words_typed_before_the_completed_ones_stay_as_typed(index):
    found = index.complete("tin moi thanh ph")
    assert found and all(c.startswith("tin moi thành ph") for c in found)
    assert "tin moi thành phố Hồ Chí Minh" in found


def test_a_trailing_space_asks_for_the_next_word(index):
    found = index.complete("thanh pho ")
    assert "thành phố Hồ Chí Minh" in found and "thành phố" not in found


def test_nothing_for_too_little_or_too_much(index):
    assert index.complete("t") == []
    assert index.complete("") == []
    assert index.complete("   ") == []
    assert index.complete("thanh ph" * 100) == []
    assert index.complete("zzzz qqqq") == []


def test_a_request_never_scans_the_lexicon(index, monkeypatch):
    """Answers come from the per-generation file alone: Whoosh's readers are not touched."""
    index.complete("thanh ph")  # loaded once per generation

    def forbidden(*args, **kwargs):
        raise AssertionError("a request read the index")

    monkeypatch.setattr(complete.whoosh_index, "open_dir", forbidden)
    assert index.complete("gia v")


def lower(completions: list[str]) -> list[str]:
    return [c.lower() for c in completions]


def test_completions_follow_a_new_generation_and_outlive_an_update(tmp_path: Path):
    """Gathered when a generation is built; an incremental update keeps them as they are (at 201k
    articles gathering takes a minute or more: too much for every ``vnsearch add``)."""
    ix = search.Index(tmp_path / "ix", workers=1)
    with ix.new_generation() as gen:
        gen.add_many([article(0, TITLES[0])])
    assert "thành phố hồ chí minh" in lower(ix.complete("thanh pho"))
    with ix.updating() as writer:
        writer.upsert(article(1, TITLES[10]))
    assert "thành phố hồ chí minh" in lower(ix.complete("thanh pho"))
    with ix.new_generation() as gen:
        gen.add_many([article(1, TITLES[10])])
    assert "giá vàng" in lower(ix.complete("gia va"))
    assert "thành phố hồ chí minh" not in lower(ix.complete("thanh pho"))
    gen_dir = generations.generations_dir(ix.path) / ix.generation
    assert (gen_dir / complete.FILE).exists()


def test_the_file_survives_an_update_that_fails(tmp_path: Path):
    ix = search.Index(tmp_path / "ix", workers=1)
    with ix.new_generation() as gen:
        gen.add_many([article(0, TITLES[0])])
    with pytest.raises(RuntimeError), ix.updating() as writer:
        writer.upsert(article(1, TITLES[10]))
        raise RuntimeError("stop")
    assert "thành phố hồ chí minh" in lower(ix.complete("thanh pho"))


def test_an_index_never_built_completes_nothing(tmp_path: Path):
    assert search.Index(tmp_path / "empty").complete("thanh ph") == []


def test_title_chunks_stop_at_punctuation_numbers_and_compounds():
    chunks = list(complete._chunks('Bão số 3 đổ bộ, "mưa lớn" ở TP.HCM và Hà Nội'))
    assert chunks == [["Bão", "số"], ["đổ", "bộ"], ["mưa", "lớn"], ["ở"], ["và", "Hà", "Nội"]]


def test_partial_marks():
    assert complete.fits(["bã"], False, ["bão"]) and not complete.fits(["bã"], False, ["báo"])
    assert complete.fits(["đư"], False, ["đường"]) and not complete.fits(["đư"], False, ["dương"])
    assert complete.fits(["hoà"], True, ["hòa"])  # either tone placement
    assert complete.fits(["ha", "noi"], False, ["Hà", "Nội"])


def test_a_request_is_fast_on_a_large_candidate_list():
    """The shape of the work at 201k articles (benchmarks/suggest_latency.py measures the real one):
    300k candidates, one prefix holding a tenth of them."""
    rng = np.random.default_rng(7)
    keys = sorted(
        [f"th{rng.integers(0, 10**6):06d} x" for _ in range(30_000)]
        + [f"z{rng.integers(0, 10**7):07d} y" for _ in range(270_000)]
    )
    comps = complete.Completions(
        keys=keys,
        surfaces=keys,
        scores=rng.integers(1, 1000, len(keys)).astype(np.int32),
        kinds=rng.integers(0, 2, len(keys)).astype(np.uint8),
    )
    started = time.perf_counter()
    for _ in range(20):
        assert len(comps.complete("th")) == search.MAX_COMPLETIONS
    assert (time.perf_counter() - started) / 20 < 0.05  # generous: a loaded CI machine
