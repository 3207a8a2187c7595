"""CI smoke for ``benchmarks/relevance.py``: a small slice of the real corpus, built by the real
``vnsearch reindex`` and scored by the harness, so a relevance regression fails before the full run.

The slice: the 628 VMDS articles (each cluster the others' near-topic distractors) plus the first 100
VietNews test articles; every fourth VMDS topic (50 queries) and 15 known items sampled from the
VietNews articles, each as written and without diacritics. Floors sit a little below the figures
measured when they were set.
"""

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import relevance  # noqa: E402

TOPIC_STEP, DISTRACTORS, KNOWN_ITEMS = 4, 100, 15
FLOORS = {  # MRR@10 floor; measured at ec2b607 beside it (one topic lost from rank 1 costs up to 0.02)
    ("topics", relevance.WRITTEN): 0.93,  # measured 0.967
    ("topics", relevance.UNACCENTED): 0.93,  # measured 0.967
    ("known items", relevance.WRITTEN): 0.93,  # measured 1.000
    ("known items", relevance.UNACCENTED): 0.93,  # measured 1.000
}


@pytest.fixture(scope="module")
def smoke(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The slice's index (built by ``vnsearch reindex``) and its two query sets."""
    corpus = shared_dir / "corpus"
    topics = relevance.topics(corpus, [f"vmds-q{n:03d}" for n in range(1, 200, TOPIC_STEP)])
    vmds = list(relevance.read_jsonl(corpus / relevance.VMDS / "docs.jsonl"))
    distractors = list(itertools.islice(relevance.read_jsonl(corpus / relevance.VIETNEWS_TEST), DISTRACTORS))
    tmp = tmp_path_factory.mktemp("relevance")
    relevance.reindex([relevance.write_jsonl(vmds + distractors, tmp / "slice.jsonl")], tmp / "index")
    sets = {"topics": topics, "known items": relevance.known_items(distractors, KNOWN_ITEMS)}
    return relevance.Vnsearch(tmp / "index"), sets


@pytest.mark.parametrize(("name", "variant"), list(FLOORS))
def test_mrr_stays_above_floor(smoke, name: str, variant: str) -> None:
    engine, sets = smoke
    queries = sets[name] if variant == relevance.WRITTEN else relevance.unaccented(sets[name])
    scores = relevance.evaluate(engine, queries)
    assert scores.means["MRR@10"] >= FLOORS[name, variant], (
        f"{name}, {variant}: MRR@10 {scores.means['MRR@10']:.3f} below the floor {FLOORS[name, variant]}; "
        f"misses: {relevance.misses(scores)}"
    )
