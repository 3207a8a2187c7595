"""The vnsearch commands through click's CliRunner, on real indexes in tmp dirs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import search
from indexer.cli import EXIT_LOCKED, EXIT_REJECTED, EXIT_STRICT, main
from indexer.ingest import failed_analysis, scan, winners
from indexer.sources import SourceFile

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
BODY = "Sáng 13/11/2023, UBND tỉnh Lam Giang tổ chức hội nghị tổng kết công tác năm."


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def write_jsonl(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus indexed once; tests here only read it."""
    index = tmp_path_factory.mktemp("demo") / "index"
    result = run("reindex", "--index", index, DEMO)
    assert result.exit_code == 0, result.output
    return index


def test_reindex_of_the_demo_corpus_indexes_everything(tmp_path: Path) -> None:
    index = tmp_path / "index"
    result = run("reindex", "--index", index, DEMO)
    assert result.exit_code == 0, result.output
    assert "read 48: indexed 48, rejected 0, duplicates 0" in result.stdout
    assert "generation g000001 is current: 48 articles" in result.stdout
    again = run("reindex", "--index", index, DEMO)
    assert "generation g000002 is current: 48 articles" in again.stdout
    assert [p.name for p in (index / "generations").iterdir()] == ["g000002"]


def test_counts_reconcile_and_the_last_duplicate_wins(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_jsonl(
        src / "a.jsonl",
        {"id": "dup", "title": "Bản đầu", "body": BODY},
        {"id": "one", "title": "Một", "body": BODY},
        {"id": "bad", "title": "Không nội dung"},
        {"id": "dup", "title": "Bản giữa", "body": BODY},
    )
    write_jsonl(
        src / "b.jsonl",
        {"id": "dup", "title": "Bản cuối", "body": BODY},
        {"id": "x", "date": "99/99/2023", "body": BODY},
    )
    (src / "c.csv").write_text(
        "id,title,body\nc1,Thiếu nội dung,\nc2,Có nội dung,Nội dung\n", encoding="utf-8"
    )
    (src / "d.jsonl").write_bytes(b'{"id": "latin1", "body": "H\xf2a"}\n')
    (src / "e.jsonl").write_bytes(b"")
    index = tmp_path / "index"
    result = run("reindex", "--index", index, src)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert "read 10: indexed 3, rejected 5, duplicates 2" in result.stdout
    # one Latin-1 word: too little text to tell its encoding, so the file is reported, not guessed
    reasons = "missing body 2, unparsable date 1, encoding undecided 1, empty file 1"
    assert f"rejected by reason: {reasons}" in result.stdout
    assert result.stderr.splitlines()[2:7] == [  # after 'reading 5 file(s)' and the encodings
        f"{src / 'a.jsonl'}:3: missing body",
        f"{src / 'b.jsonl'}:2: unparsable date ('99/99/2023')",
        f"{src / 'c.csv'}:2: missing body",
        f"{src / 'd.jsonl'}: encoding undecided (valid Vietnamese syllables: windows-1258 0%, tcvn3 0%, "
        "vni-windows 0%; name it with --encoding)",
        f"{src / 'e.jsonl'}: empty file",
    ]
    ix = search.Index(index)
    assert ix.doc_count() == 3
    assert ix.get("dup")["title"] == "Bản cuối"


def test_strict_reindex_with_rejections_keeps_the_old_generation(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert (
        run(
            "reindex", "--index", index, write_jsonl(tmp_path / "good.jsonl", {"id": "g", "body": BODY})
        ).exit_code
        == 0
    )
    before = search.Index(index).generation
    bad = write_jsonl(
        tmp_path / "mixed.jsonl", {"id": "n", "body": BODY}, {"id": "b", "title": "Không nội dung"}
    )
    result = run("reindex", "--strict", "--index", index, bad)
    assert result.exit_code == EXIT_STRICT, result.output
    assert f"{bad}:2: missing body" in result.stderr
    assert f"nothing indexed; generation {before} stays current" in result.stderr
    ix = search.Index(index)
    assert (ix.generation, ix.doc_count(), ix.get("n")) == (before, 1, None)
    assert sorted(p.name for p in (index / "generations").iterdir()) == [before]
    assert (
        run("reindex", "--index", index, bad).exit_code == EXIT_REJECTED
    )  # without --strict: the rest goes in


def test_add_upserts_by_id_and_delete_removes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = write_jsonl(
        tmp_path / "1.jsonl", {"id": "a", "title": "Cũ", "body": BODY}, {"id": "b", "body": BODY}
    )
    assert run("reindex", "--index", index, first).exit_code == 0
    ix = search.Index(index)  # stays open: it must see the incremental updates
    generation = ix.generation
    more = write_jsonl(
        tmp_path / "2.jsonl", {"id": "a", "title": "Mới", "body": BODY}, {"id": "c", "body": BODY}
    )
    result = run("add", "--index", index, more)
    assert result.exit_code == 0, result.output
    assert "read 2: indexed 2, rejected 0, duplicates 0" in result.stdout
    assert (ix.generation, ix.doc_count(), ix.get("a")["title"]) == (generation, 3, "Mới")

    result = run("delete", "--index", index, "b", "nope")
    assert result.exit_code == EXIT_REJECTED
    assert "deleted 1, not found 1" in result.stdout
    assert "not found: nope" in result.stderr
    assert (ix.doc_count(), ix.get("b")) == (2, None)
    assert run("delete", "--index", index, "c").exit_code == 0


def test_strict_add_with_rejections_changes_nothing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert (
        run(
            "reindex", "--index", index, write_jsonl(tmp_path / "1.jsonl", {"id": "a", "body": BODY})
        ).exit_code
        == 0
    )
    bad = write_jsonl(
        tmp_path / "2.jsonl", {"id": "new", "body": BODY}, {"id": "x", "body": BODY, "date": "mai"}
    )
    result = run("add", "--strict", "--index", index, bad)
    assert result.exit_code == EXIT_STRICT, result.output
    assert "the index was not changed" in result.stderr
    assert search.Index(index).get("new") is None


def test_add_creates_the_index_when_there_is_none(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert (
        run("add", "--index", index, write_jsonl(tmp_path / "1.jsonl", {"id": "a", "body": BODY})).exit_code
        == 0
    )
    assert search.Index(index).doc_count() == 1


def test_delete_without_an_index_says_so(tmp_path: Path) -> None:
    result = run("delete", "--index", tmp_path / "none", "a")
    assert result.exit_code == 1
    assert "no index in" in result.stderr


def test_second_writer_gets_the_lock_message_and_its_own_status(tmp_path: Path) -> None:
    index = tmp_path / "index"
    source = write_jsonl(tmp_path / "1.jsonl", {"id": "a", "body": BODY})
    with search.Index(index).new_generation():
        result = run("reindex", "--index", index, source)
    assert result.exit_code == EXIT_LOCKED
    assert str(index / "write.lock") in result.stderr
    assert "Traceback" not in result.output


def test_search_prints_ranked_hits_with_vietnamese_dates(demo_index: Path) -> None:
    result = run("search", "--index", demo_index, "cổng dịch vụ công", "--size", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert 'result(s) for "cổng dịch vụ công" (page 1 of' in lines[0]
    assert "1. Lam Giang ra mắt cổng dịch vụ công trực tuyến mới" in lines
    assert "   13/11/2023 · Khoa học – Công nghệ · lamgiang.example · id lg-2023-009" in lines
    assert "<mark" not in result.stdout


def test_search_json_is_the_results_dict(demo_index: Path) -> None:
    result = run(
        "search", "--index", demo_index, "COVID-19", "--json", "--from", "01/01/2023", "--to", "2023-12-31"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"query", "total", "page", "size", "hits", "facets", "suggestion"} <= data.keys()
    assert [h["id"] for h in data["hits"]] == ["lg-2023-003"]


@pytest.mark.parametrize(
    "args",
    [("--page", "0"), ("--size", "1000"), ("--from", "2024-01-01", "--to", "2023-01-01")],
)
def test_query_errors_exit_2_with_a_message(demo_index: Path, args: tuple[str, ...]) -> None:
    result = run("search", "--index", demo_index, "khoa học", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("vnsearch: ")
    assert "Traceback" not in result.output


def test_unparsable_date_option_is_a_usage_error(demo_index: Path) -> None:
    result = run("search", "--index", demo_index, "khoa học", "--from", "hôm qua")
    assert result.exit_code == 2
    assert "unparsable date" in result.stderr


def test_stats_shows_generation_count_dates_and_categories(demo_index: Path) -> None:
    result = run("stats", "--index", demo_index, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["articles"], data["date_min"], data["date_max"]) == (48, "2023-01-18", "2026-05-06")
    assert len(data["categories"]) == 8
    text = run("stats", "--index", demo_index).stdout
    assert "dates       18/01/2023 – 06/05/2026" in text


def test_index_location_comes_from_the_environment_else_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_jsonl(tmp_path / "1.jsonl", {"id": "a", "body": BODY})
    monkeypatch.delenv("VNSEARCH_INDEX", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run("reindex", source).exit_code == 0
    assert search.Index(tmp_path / ".vnsearch" / "index").doc_count() == 1
    env_index = tmp_path / "from-env"
    assert run("reindex", source, env={"VNSEARCH_INDEX": str(env_index)}).exit_code == 0
    assert search.Index(env_index).doc_count() == 1


def test_unknown_source_format_is_a_usage_error(tmp_path: Path) -> None:
    odd = tmp_path / "export.data"
    odd.write_text("{}", encoding="utf-8")
    result = run("reindex", "--index", tmp_path / "ix", odd)
    assert result.exit_code == 2
    assert "unknown format" in result.stderr


@pytest.mark.parametrize("command", [[], ["reindex"], ["add"], ["delete"], ["search"], ["stats"], ["serve"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.stdout


def test_group_help_lists_serve_and_the_exit_statuses() -> None:
    text = run("--help").stdout
    assert "serve" in text
    assert "75  another process is writing the index" in text


@pytest.mark.parametrize(
    ("command", "own", "foreign"),
    [
        ("search", ["0   searched", "2   usage error, or a query"], ["75 ", "4   --strict"]),
        ("stats", ["1   unusable index"], ["3 ", "75 "]),
        ("delete", ["3   some ids were not in the index", "75  another process"], ["4   --strict"]),
        ("add", ["4   --strict", "75  another process"], ["shrink"]),
        ("reindex", ["would shrink or empty the index", "75  another process"], ["some ids"]),
        ("serve", ["2   usage error, or cannot start"], ["75 ", "3 "]),
    ],
)
def test_each_command_help_lists_only_its_own_exit_statuses(command, own, foreign) -> None:
    epilog = run(command, "--help").stdout.split("Exit status:", 1)[1]
    assert all(text in epilog for text in own), epilog
    assert not any(text in epilog for text in foreign), epilog


def test_search_help_states_the_query_syntax() -> None:
    text = run("search", "--help").stdout
    for example in ['"giá vàng"', "-futsal", 'title:"Hà Nội"', "bão OR lũ", "No wildcards"]:
        assert example in text


def test_command_summaries_are_whole_sentences() -> None:
    commands = run("--help").stdout.split("Commands:", 1)[1].split("Exit status:", 1)[0]
    summaries = [line.split(None, 1)[1] for line in commands.strip().splitlines()]
    assert len(summaries) == len(main.list_commands(None)) and all(
        s.endswith(".") and not s.endswith("...") for s in summaries
    )


def test_serve_is_the_web_command() -> None:
    import web.cli

    assert main.get_command(None, "serve") is web.cli.serve


def test_open_searcher_sees_the_new_generation_after_reindex(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("reindex", "--index", index, DEMO / "articles.csv").exit_code == 0
    reader = search.Index(index)
    assert reader.search("ngư dân nuôi biển").hits[0].id == "demo-csv-1"
    old = reader.generation
    assert run("reindex", "--index", index, DEMO / "articles.jsonl").exit_code == 0
    assert reader.generation != old
    assert "demo-csv-1" not in [hit.id for hit in reader.search("ngư dân nuôi biển").hits]
    assert reader.doc_count() == 38


# --- nothing lost: a reindex never replaces a live index with less unless told to -----------------


@pytest.fixture
def small_index(tmp_path: Path) -> Path:
    """An index of 4 articles (the demo CSV)."""
    index = tmp_path / "index"
    assert run("reindex", "--index", index, DEMO / "articles.csv").exit_code == 0
    return index


def test_reindex_from_an_empty_directory_is_refused_and_keeps_the_index(small_index, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    before = search.Index(small_index).generation
    result = run("reindex", "--index", small_index, tmp_path / "empty")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert (
        "refusing to make an empty generation current" in result.stderr and "--allow-empty" in result.stderr
    )
    ix = search.Index(small_index)
    assert (ix.generation, ix.doc_count()) == (before, 4)
    assert [p.name for p in (small_index / "generations").iterdir()] == [before]


def test_reindex_of_only_rejected_records_is_refused(small_index, tmp_path) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", {"id": "x", "title": "Không nội dung"})
    result = run("reindex", "--index", small_index, bad)
    assert result.exit_code == 1 and "empty generation" in result.stderr, result.output
    assert search.Index(small_index).doc_count() == 4


def test_allow_empty_makes_an_empty_index_that_search_and_stats_answer(small_index, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("reindex", "--index", small_index, "--allow-empty", tmp_path / "empty")
    assert result.exit_code == 0, result.output
    assert "is current: 0 articles" in result.stdout
    found = run("search", "--index", small_index, "ngư dân", "--json")
    assert found.exit_code == 0 and json.loads(found.stdout)["total"] == 0, found.output
    stats = run("stats", "--index", small_index, "--json")
    assert stats.exit_code == 0 and json.loads(stats.stdout)["articles"] == 0, stats.output


def test_reindex_to_less_than_half_is_refused_unless_allow_shrink(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("reindex", "--index", index, DEMO).exit_code == 0
    result = run("reindex", "--index", index, DEMO / "articles.csv")
    assert result.exit_code == 1, result.output
    assert (
        "48 articles" in result.stderr and "one of 4 " in result.stderr and "--allow-shrink" in result.stderr
    )
    assert search.Index(index).doc_count() == 48
    allowed = run("reindex", "--index", index, "--allow-shrink", DEMO / "articles.csv")
    assert allowed.exit_code == 0, allowed.output
    assert search.Index(index).doc_count() == 4


# --- one bad record is one rejection ----------------------------------------------------------------


def bad_unicode_source(path: Path) -> Path:
    lines = [
        '{"id": "ok-1", "title": "Tin một", "body": "Nội dung một."}',
        '{"id": "sur", "title": "Tin \\ud800 lỗi", "body": "Nội dung."}',
        '{"id": "nul", "title": "Tin", "body": "Nội \\u0000 dung."}',
        '{"id": "sur-\\udfff", "title": "Tin", "body": "Nội dung."}',
        '{"id": "ok-2", "title": "Tin hai", "body": "Nội dung hai."}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["reindex", "add"])
def test_invalid_unicode_is_one_rejection_per_record(tmp_path: Path, command: str) -> None:
    source = bad_unicode_source(tmp_path / "bad.jsonl")
    index = tmp_path / "index"
    result = run(command, "--index", index, source)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert f"{source}:2: invalid Unicode (title: lone surrogate U+D800 at 5)" in result.stderr
    assert f"{source}:3: invalid Unicode (body: NUL character at 5)" in result.stderr
    assert f"{source}:4: invalid Unicode (id: lone surrogate U+DFFF at 5)" in result.stderr
    assert "read 5: indexed 2, rejected 3, duplicates 0" in result.stdout
    assert search.Index(index).doc_count() == 2


def test_field_limits_reject_with_the_field_its_length_and_the_limit(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "long.jsonl",
        {"id": "ok", "title": "Tin", "body": BODY},
        {"id": "t", "title": "T" * 1001, "body": BODY},
        {"id": "i" * 201, "body": BODY},
        {"id": "u", "body": BODY, "url": "https://x.vn/" + "a" * 2000},
        {"id": "c", "body": BODY, "category": "C" * 201},
        {"id": "s", "body": BODY, "summary": "S" * 4001},
    )
    result = run("reindex", "--index", tmp_path / "index", source)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert f"{source}:2: field too long (title: 1,001 characters, at most 1,000)" in result.stderr
    assert f"{source}:3: field too long (id: 201 characters, at most 200)" in result.stderr
    assert f"{source}:4: field too long (url: 2,013 characters, at most 2,000)" in result.stderr
    assert f"{source}:5: field too long (category: 201 characters, at most 200)" in result.stderr
    assert f"{source}:6: field too long (summary: 4,001 characters, at most 4,000)" in result.stderr
    assert "read 6: indexed 1, rejected 5" in result.stdout


def test_limits_are_in_the_help() -> None:
    out = run("reindex", "--help").output
    assert "title 1,000" in out and "body 5,242,880 bytes" in out and "no '/' in an id" in out


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "9999-12-31", "01/01/0001"])
def test_implausible_dates_are_rejected(tmp_path: Path, date: str) -> None:
    source = write_jsonl(
        tmp_path / "d.jsonl",
        {"id": "ok", "body": BODY, "date": "1900-01-01"},
        {"id": "x", "body": BODY, "date": date},
    )
    result = run("reindex", "--index", tmp_path / "index", source)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert f"{source}:2: implausible date ('{date}': not between 1900 and " in result.stderr


def test_ids_with_a_slash_are_rejected_naming_why(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", {"id": "a/b", "body": BODY}, {"id": "ok", "body": BODY})
    result = run("reindex", "--index", tmp_path / "index", source)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert f"{source}:1: id contains '/' ('a/b'" in result.stderr


# --- sources that are not plain files, deep trees, broken CSV ----------------------------------------


def test_a_fifo_named_on_the_command_line_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    result = run("reindex", "--index", tmp_path / "index", fifo)
    assert result.exit_code == 2 and "not a regular file" in result.output, result.output


def test_a_fifo_in_a_source_directory_is_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe.jsonl")
    write_jsonl(src / "a.jsonl", {"id": "a", "body": BODY})
    result = run("reindex", "--index", tmp_path / "index", src)
    assert result.exit_code == EXIT_REJECTED, result.output
    assert f"{src / 'pipe.jsonl'}: not a regular file" in result.stderr
    assert search.Index(tmp_path / "index").doc_count() == 1


def test_a_source_tree_1200_levels_deep_is_read(tmp_path: Path) -> None:
    deep = tmp_path / "src"
    deep.mkdir()
    for _ in range(1200):  # one level at a time: Path.mkdir(parents=True) recurses too
        deep /= "d"
        os.mkdir(deep)
    try:
        write_jsonl(deep / "a.jsonl", {"id": "deep", "body": BODY})
        write_jsonl(tmp_path / "src" / "b.jsonl", {"id": "top", "body": BODY})
        result = run("reindex", "--index", tmp_path / "index", tmp_path / "src")
        assert result.exit_code == 0, result.output
        assert search.Index(tmp_path / "index").get("deep") is not None
    finally:  # shutil.rmtree (pytest's clean-up of old temp dirs) recurses: remove it bottom-up
        (deep / "a.jsonl").unlink(missing_ok=True)
        while deep != tmp_path / "src":
            os.rmdir(deep)
            deep = deep.parent


def test_an_unterminated_csv_quote_stops_that_file_with_one_rejection(tmp_path: Path) -> None:
    source = tmp_path / "broken.csv"
    rows = "".join(f"r{n},Tin {n},Nội dung {n}.\n" for n in range(400_000))  # past csv's field limit
    source.write_text(f'id,title,body\nok,Tin,"{BODY}"\nbad,"Tin,Nội dung\n{rows}', encoding="utf-8")
    result = run("reindex", "--index", tmp_path / "index", source)
    assert result.exit_code == EXIT_REJECTED, result.output
    rejected = [line for line in result.stderr.splitlines() if line.startswith(str(source))]
    limit = "field larger than field limit (10485760)"
    assert rejected == [f"{source}:3: malformed CSV ({limit}; the rest of the file is not read)"]
    assert "read 2: indexed 1, rejected 1" in result.stdout


def test_an_analysis_failure_is_reported_with_the_records_origin_and_the_counts_reconcile(
    tmp_path: Path,
) -> None:
    """What ``vnsearch reindex`` does with an article the core cannot index although it passed
    validation (here: one made invalid after validation, as no real record can be any more)."""
    source = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "one", "body": BODY},
        {"id": "two", "body": BODY},
        {"id": "one", "title": "Bản sau", "body": BODY},
    )
    plan = scan([SourceFile(source, "jsonl")], report=lambda r: None)
    broken = ({**a, "body": a["body"] + "\ud800"} if a["id"] == "two" else a for a in winners(plan))
    reported: list[str] = []
    ix = search.Index(tmp_path / "index", workers=2)
    with ix.new_generation() as gen:
        indexed = gen.add_many(broken, on_error=failed_analysis(plan, lambda r: reported.append(str(r))))
    why = "ValueError: invalid Unicode in body: surrogates not allowed at"
    assert len(reported) == 1 and reported[0].startswith(f"{source}:2: cannot be indexed ({why} "), reported
    assert (plan.read, indexed, plan.rejected.total(), plan.duplicates) == (3, 1, 1, 1)
    assert ix.get("one")["title"] == "Bản sau" and ix.get("two") is None


def test_search_help_states_the_core_limits() -> None:
    limits = search.limits
    text = " ".join(run("search", "--help").stdout.split())
    assert f"at most {limits.MAX_QUERY_CHARS} characters" in text
    assert f"first {limits.MAX_WORDS} are ignored" in text
    assert f"1-{limits.MAX_PAGE}; page × size at most {limits.MAX_DEPTH}" in text
    assert f"Hits per page (1-{limits.MAX_PER_PAGE})" in text
