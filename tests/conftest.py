"""Shared fixtures: real Whoosh indexes in temp dirs, and the team's shared corpus when present."""

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

import search

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (corpus and seeds); tests that need it skip when it is not beside the repo."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED} (it is never committed to the repo)")
    return SHARED


@pytest.fixture
def make_index(tmp_path: Path) -> Callable[[Iterable[dict]], search.Index]:
    """Build a real index in a temp dir from the given articles."""

    def build(articles: Iterable[dict], name: str = "ix") -> search.Index:
        ix = search.Index(tmp_path / name, workers=1)
        with ix.new_generation() as gen:
            gen.add_many(articles)
        return ix

    return build


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through playwright (no browser download); the module sets the skip marks."""
    from web_fixtures import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
