"""The benchmarks' --quick modes run end to end (CI checks the scripts work; figures are not judged)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def quick(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.usefixtures("shared_dir")
def test_indexing_benchmark_prints_the_ratio_to_bare_pyvi():
    out = quick("indexing.py")
    assert "Ratio reindex / bare pyvi" in out and "| `vnsearch reindex`" in out


@pytest.mark.usefixtures("shared_dir")
def test_scale_benchmark_indexes_a_real_corpus_and_reports_the_size_ratio(tmp_path):
    out = quick("scale.py", "--index", str(tmp_path / "ix"))
    assert "index size / raw text" in out and "rejected" in out


@pytest.mark.usefixtures("shared_dir")
def test_query_benchmark_times_vnsearch_beside_tantivy_and_fts5():
    out = quick("queries.py")
    assert all(name in out for name in ("vnsearch", "Tantivy", "SQLite FTS5")) and "p95" in out


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (apt-get install wrk)")
def test_http_benchmark_serves_the_mix_without_errors():
    out = quick("http_load.py")
    rows = [line for line in out.splitlines() if line.startswith("| ") and "results/worker" in line]
    assert rows and all(line.rstrip(" |").endswith("| 0") for line in rows), out


def test_worst_queries_benchmark_prints_its_table_and_the_load_test():
    out = quick("worst_queries.py")
    assert "| query family | example | time ms | ratio to the ordinary median |" in out
    assert "32 unknown accented words" in out and '"va co" × 62' in out
    assert "beside 8 attacking clients" in out and "Target: loaded p95" in out


@pytest.mark.usefixtures("shared_dir")
def test_precision_benchmark_judges_vnsearch_beside_fts5_and_tantivy():
    out = quick("precision.py")
    assert "| vnsearch | as written |" in out and "| vnsearch | folded |" in out
    assert all(
        name in out for name in ("SQLite FTS5 (AND)", "Tantivy (default OR)", "Tantivy (+every +word)")
    )


@pytest.mark.usefixtures("shared_dir")
def test_suggestion_benchmark_reports_exact_and_per_syllable_restores():
    out = quick("suggestions.py")
    assert "| exact restore | per-syllable accuracy |" in out and "per syllable" in out


@pytest.mark.usefixtures("shared_dir")
def test_question_benchmark_reports_mrr_as_written_and_folded():
    out = quick("questions.py")
    assert "| as written |" in out and "| no diacritics |" in out and "MRR@10" in out


def test_freshness_benchmark_times_an_article_from_the_feed_to_the_search_api():
    out = quick("freshness.py")
    assert "| trial | wait for the poll s |" in out and "Target ≤ 60 s: met" in out


@pytest.mark.usefixtures("shared_dir")
def test_typing_benchmark_compares_telex_and_vni_top_hits_and_the_dont_touch_set():
    out = quick("typing_residue.py")
    assert "| telex | 30 |" in out and "| vni | 30 |" in out
    assert "Don't-touch:" in out and "| rule | don't-touch changed |" in out


@pytest.mark.usefixtures("shared_dir")
def test_encodings_benchmark_round_trips_each_legacy_encoding_and_checks_clean_records():
    out = quick("encodings.py")
    assert all(
        f"| {name} |" in out for name in ("windows-1258", "tcvn3", "vni-windows", "utf-8-as-windows-1252")
    )
    assert "Clean check: 2,000 records" in out


@pytest.mark.usefixtures("shared_dir")
def test_story_benchmark_reports_pair_precision_copies_grouped_and_cost():
    out = quick("stories.py")
    assert "share a VMDS cluster" in out and "10% of words changed grouped" in out and "signature" in out


@pytest.mark.usefixtures("shared_dir")
def test_suggest_latency_benchmark_times_the_core_and_the_api():
    out = quick("suggest_latency.py")
    assert "| `Index.complete` |" in out and "| `GET /api/suggest`" in out and "p95" in out
    assert "| `thanh ph` | thành phố" in out


@pytest.mark.skipif(
    not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(), reason="nginx is not installed"
)
def test_rollout_benchmark_fails_no_request_while_replicas_switch_generation():
    out = quick("rollout.py")  # exits 1 on any failed request or an old answer after the rollout
    assert "| **all** |" in out and "**0** |" in out


@pytest.mark.usefixtures("shared_dir")
def test_growth_benchmark_measures_each_size_and_fits_the_growth():
    out = quick("growth.py")
    assert "| 150 |" in out and "| 300 |" in out and "Fitted growth" in out and "p95 reaches 100 ms" in out


@pytest.mark.usefixtures("shared_dir")
def test_dask_benchmark_builds_the_same_generation_with_1_and_2_workers():
    out = quick("dask_speedup.py")  # exits non-zero when the builds' counts disagree
    assert "LocalCluster of 1 worker" in out and "LocalCluster of 2 worker" in out
