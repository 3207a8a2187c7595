"""Replicas: generations carry a manifest, and `vnsearch activate` switches a replica to a verified copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import article

import search
from indexer.cli import main
from search import manifest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def build(root: Path, *articles: dict) -> search.Index:
    ix = search.Index(root, workers=2)
    with ix.new_generation() as gen:
        gen.add_many(articles)
    return ix


def copy(writer: search.Index, replica: Path) -> str:
    """What rsync does: the writer's current generation directory into the replica's generations/."""
    name = writer.generation
    shutil.copytree(writer.path / "generations" / name, replica / "generations" / name)
    return name


STORM = article("a1", "Bão số 9 đổ bộ", "Cơn bão gây mưa lớn ở miền Trung.")
RAIN = article("a2", "Mưa lớn ở Huế", "Mưa kéo dài ba ngày.")
FLOOD = article("a3", "Lũ lên nhanh", "Mưa lớn làm nước sông dâng cao.")


@pytest.fixture
def writer(tmp_path: Path) -> search.Index:
    return build(tmp_path / "writer", STORM, RAIN)


def test_a_new_generation_lists_every_file_with_its_size_and_sha256(writer):
    path = writer.path / "generations" / writer.generation
    found = manifest.read(path)
    assert found["generation"] == writer.generation and found["articles"] == 2
    on_disk = {p.name for p in path.iterdir()} - {manifest.NAME, "MAIN_WRITELOCK"}
    assert set(found["files"]) == on_disk and any(name.endswith(".seg") for name in on_disk)
    for name, entry in found["files"].items():
        assert entry == {"size": (path / name).stat().st_size, "sha256": manifest.sha256(path / name)}


def test_a_replica_serves_a_copied_generation_once_activated(writer, tmp_path):
    replica = tmp_path / "replica"
    name = copy(writer, replica)
    result = run("activate", "--index", replica, name)
    assert result.exit_code == 0, result.output
    assert f"generation {name} is current: 2 articles" in result.output
    served = search.Index(replica)
    assert served.generation == name
    assert [h.id for h in served.search("mua lon").hits] == [h.id for h in writer.search("mua lon").hits]


def test_activation_keeps_the_replaced_generation_for_a_rollback_and_drops_older_ones(writer, tmp_path):
    replica = tmp_path / "replica"
    names = []
    for extra in (None, FLOOD, article("a4", "Nắng nóng", "Nắng gay gắt.")):
        if extra:
            build(writer.path, STORM, RAIN, extra)
        names.append(copy(writer, replica))
        assert run("activate", "--index", replica, names[-1]).exit_code == 0
    assert sorted(p.name for p in (replica / "generations").iterdir()) == names[1:]
    assert run("activate", "--index", replica, names[1]).exit_code == 0  # rollback
    assert search.Index(replica).generation == names[1]


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda gen: next(gen.glob("*.seg")).unlink(), "missing MAIN_"),
        (lambda gen: (gen / ".MAIN_x.seg.Xy12Zq").write_bytes(b"half"), "unexpected .MAIN_x.seg.Xy12Zq"),
        (lambda gen: _truncate(next(gen.glob("*.seg"))), "the manifest says"),
        (lambda gen: _flip_a_byte(next(gen.glob("*.seg"))), "differs from the manifest (SHA-256)"),
        (lambda gen: (gen / manifest.NAME).unlink(), "has no MANIFEST.json"),
    ],
    ids=["file missing", "rsync temporary", "truncated", "same size, other bytes", "no manifest"],
)
def test_a_partial_or_corrupt_copy_is_refused_and_the_current_generation_keeps_serving(
    writer, tmp_path, damage, says
):
    replica = tmp_path / "replica"
    first = copy(writer, replica)
    assert run("activate", "--index", replica, first).exit_code == 0
    build(writer.path, STORM, RAIN, FLOOD)
    second = copy(writer, replica)
    damage(replica / "generations" / second)
    result = run("activate", "--index", replica, second)
    assert result.exit_code == 1 and says in result.output, result.output
    served = search.Index(replica)
    assert served.generation == first and served.search("mua lon").total == 2


def test_a_copy_under_another_name_or_no_copy_at_all_is_refused(writer, tmp_path):
    replica = tmp_path / "replica"
    name = copy(writer, replica)
    shutil.copytree(replica / "generations" / name, replica / "generations" / "g000042")
    assert "holds generation" in run("activate", "--index", replica, "g000042").output
    assert "no generation g000043" in run("activate", "--index", replica, "g000043").output
    assert "not a generation name" in run("activate", "--index", replica, "../writer").output


def test_an_incremental_update_rewrites_the_manifest_so_its_copy_verifies(writer, tmp_path):
    with writer.updating() as w:
        w.upsert(FLOOD)
        w.delete("a1")
    path = writer.path / "generations" / writer.generation
    assert manifest.verify(path)["articles"] == 2
    replica = tmp_path / "replica"
    assert run("activate", "--index", replica, copy(writer, replica)).exit_code == 0
    assert {h.id for h in search.Index(replica).search("mua").hits} == {"a2", "a3"}


def test_the_demo_reindex_writes_a_manifest_that_activates(tmp_path):
    writer = tmp_path / "writer"
    assert run("reindex", "--index", writer, DEMO).exit_code == 0
    gens = writer / "generations"
    name = json.loads(next(gens.glob("*/MANIFEST.json")).read_text())["generation"]
    replica = tmp_path / "replica"
    shutil.copytree(gens / name, replica / "generations" / name)
    assert run("activate", "--index", replica, name).exit_code == 0


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
