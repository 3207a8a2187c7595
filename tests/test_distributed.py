"""Indexing on a Dask cluster (search/distributed.py): a real LocalCluster of worker processes on
127.0.0.1 segments real VietNews articles; the generation must answer like a local build."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from indexer.cli import main

pytest.importorskip("distributed", reason="dask.distributed is not installed")
from distributed import Client, LocalCluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"
ARTICLES = 120


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def articles(shared_dir: Path) -> list[dict]:
    with gzip.open(shared_dir / "corpus" / "vietnews" / "docs-test.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in itertools.islice(fh, ARTICLES)]


def queries() -> list[str]:
    lines = (ROOT / "benchmarks" / "data" / "reader_queries.txt").read_text(encoding="utf-8").splitlines()
    return [line.replace("_", " ") for line in lines if line.strip() and not line.startswith("#")][:50]


def answers(ix: search.Index) -> list[tuple]:
    out = []
    for q in queries():
        res = ix.search(q, per_page=10)
        out.append((q, res.total, [h.id for h in res.hits]))
    return out


def build(path: Path, articles: list[dict], **kwargs) -> search.Index:
    ix = search.Index(path, workers=1)
    with ix.new_generation(**kwargs) as gen:
        gen.add_many(articles)
    return ix


@pytest.fixture(scope="module")
def local_answers(articles, tmp_path_factory) -> list[tuple]:
    """The 50 queries' totals and top 10 from a local build of the same articles."""
    expected = answers(build(tmp_path_factory.mktemp("local") / "ix", articles))
    assert sum(1 for _q, total, _ids in expected if total) >= 35  # the comparison is not of empty sets
    return expected


def test_a_generation_built_on_the_cluster_answers_50_queries_like_a_local_build(
    cluster, articles, local_answers, tmp_path
):
    on_cluster = build(tmp_path / "dask", articles, scheduler=cluster.scheduler_address)
    assert on_cluster.doc_count() == ARTICLES
    assert answers(on_cluster) == local_answers


def test_reindex_with_a_scheduler_reports_and_counts_as_a_local_one(cluster, tmp_path):
    runner = CliRunner()
    local = runner.invoke(main, ["reindex", "--index", str(tmp_path / "local"), str(DEMO)])
    dask = runner.invoke(
        main,
        ["reindex", "--index", str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address, str(DEMO)],
    )
    assert dask.exit_code == local.exit_code == 0, dask.output
    summary = [
        [line.split(" in ")[0] for line in out.splitlines() if line.startswith("read ")]
        for out in (local.output, dask.output)
    ]
    assert summary[0] == summary[1] == ["read 48: indexed 48, rejected 0, duplicates 0"]
    assert "generation g000001 is current: 48 articles" in dask.output


def test_a_worker_killed_mid_build_is_retried_or_fails_cleanly_and_the_old_generation_serves(
    cluster, articles, local_answers, tmp_path, monkeypatch
):
    from search import distributed

    monkeypatch.setattr(distributed, "TASK_ARTICLES", 8)  # many tasks: the kill lands mid-build
    ix = build(tmp_path / "ix", articles[:40])
    old = ix.generation
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        victim = next(iter(client.run(os.getpid).values()))
    killed = []

    def kill_once(done: int) -> None:
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    try:
        with ix.new_generation(scheduler=cluster.scheduler_address) as gen:
            gen.add_many(articles, progress=kill_once)
    except search.IndexingError as exc:  # failed cleanly: said so, and nothing switched
        assert "Dask cluster" in str(exc)
        assert ix.generation == old and ix.doc_count() == 40 and ix.search("Việt Nam").total
        assert [p.name for p in (tmp_path / "ix" / "generations").iterdir()] == [old]
    else:  # retried: the whole generation, as a local build has it
        assert ix.generation != old and ix.doc_count() == ARTICLES
        assert answers(ix) == local_answers
    assert killed


def test_an_unreachable_scheduler_is_a_clear_error_and_nothing_changes(tmp_path, monkeypatch):
    from search import distributed

    monkeypatch.setattr(distributed, "CONNECT_SECONDS", 1)
    ix = build(tmp_path / "ix", [{"id": "a1", "title": "Bão số 9", "body": "Mưa lớn."}])
    unreachable = pytest.raises(
        search.IndexingError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"
    )
    with unreachable, ix.new_generation(scheduler="tcp://127.0.0.1:9") as gen:
        gen.add_many([{"id": "a2", "title": "Lũ", "body": "Nước lên."}])
    assert ix.generation == "g000001" and ix.doc_count() == 1
