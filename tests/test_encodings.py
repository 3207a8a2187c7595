"""Legacy encodings and mojibake at ingest: detected, decoded, repaired; clean text left alone."""

import gzip
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from indexer import encodings as enc
from indexer.cli import main
from indexer.records import Record, Rejection
from indexer.sources import _Transcoded, detect_encodings, find_files, read_records

TEXT = (
    "Người dân Việt Nam ở Hà Nội và Đà Nẵng đang chờ đợi kết quả. Thừa Thiên Huế, Quảng Ngãi, ổn định, "
    "ưu tiên, khuyến khích, thuở ấy, quyết định, giữa, gì, được, nước, trường, nghiêng, quốc, Ấn Độ."
)


@pytest.mark.parametrize(
    ("shown", "decoder", "expected"),
    [  # legacy text as Windows-1252 shows it, as found in old archives and on the web
        ("ViÖt Nam", enc.tcvn3_text, "Việt Nam"),
        ("§µ N½ng", enc.tcvn3_text, "Đà Nẵng"),
        ("ng­êi d©n", enc.tcvn3_text, "người dân"),
        ("®­îc chÝnh quyÒn", enc.tcvn3_text, "được chính quyền"),
        ("Vieät Nam", enc.vni_text, "Việt Nam"),
        ("Haø Noäi", enc.vni_text, "Hà Nội"),
        ("ngöôøi daân", enc.vni_text, "người dân"),
        ("Ñaø Naüng", enc.vni_text, "Đà Nẵng"),
        ("thaønh phoá", enc.vni_text, "thành phố"),
    ],
)
def test_legacy_tables_read_known_text(shown, decoder, expected):
    assert decoder(shown) == expected


@pytest.mark.parametrize("encoding", enc.LEGACY)
def test_each_legacy_encoding_is_detected_and_decoded(encoding):
    data = enc.encode(TEXT, encoding)
    found = enc.detect(data)
    assert isinstance(found, enc.Detected) and found.encoding == encoding
    assert found.after > 0.9 > found.before
    decoded = enc.decode(data, encoding)
    assert decoded.lower() == TEXT.lower()  # TCVN3 has no capitals with a tone


def test_windows_1258_decomposed_marks_become_nfc():
    data = enc.encode("Việt Nam", enc.CP1258)
    assert b"\xf2" in data  # the dot below written as a combining mark after the letter
    assert enc.decode(data, enc.CP1258) == "Việt Nam"


def test_mojibake_and_legacy_text_in_a_utf8_record_are_repaired():
    moji = enc.encode(TEXT, enc.MOJIBAKE).decode("utf-8")
    assert "á»‡" in moji
    assert enc.repair(moji) == (TEXT, enc.MOJIBAKE)
    assert enc.repair(enc.encode(TEXT, enc.VNI).decode("cp1252")) == (TEXT, enc.VNI)
    assert enc.repair(enc.encode(TEXT, enc.TCVN3).decode("latin-1"))[1] == enc.TCVN3


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        "Messi scored twice as Barcelona beat Real Madrid in the Champions League.",
        "Café résumé naïve — Björk, Zürich, São Paulo, Ångström.",
        "COVID-19 2023 iPhone 15 Pro Max USD 1.200",
        "",
    ],
)
def test_clean_text_is_never_changed(text):
    assert enc.repair(text) == (text, None)


def test_a_file_whose_encoding_cannot_be_decided_is_reported_not_guessed(tmp_path):
    path = tmp_path / "latin.jsonl"
    body = "résumé déjà vu, naïve fiancée, crème brûlée au café " * 5
    path.write_bytes(json.dumps({"id": "x", "body": body}, ensure_ascii=False).encode("latin-1") + b"\n")
    (source,) = detect_encodings(find_files([path])[0])
    assert source.problem == "encoding undecided" and "--encoding" in source.detail
    (item,) = read_records([source])
    assert isinstance(item, Rejection) and item.reason == "encoding undecided"


def test_a_utf8_file_with_a_few_bad_lines_stays_utf8(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = [json.dumps({"id": str(i), "body": TEXT}, ensure_ascii=False).encode() for i in range(5)]
    path.write_bytes(b"\n".join([*good, b'{"id": "bad", "body": "H\xf2a"}']) + b"\n")
    (source,) = detect_encodings(find_files([path])[0])
    assert source.encoding == enc.UTF8 and not source.problem
    reasons = [getattr(i, "reason", None) for i in read_records([source])]
    assert reasons == [None] * 5 + ["not UTF-8"]


def test_a_vni_letter_split_between_two_reads_is_decoded_whole(monkeypatch):
    import io

    monkeypatch.setattr(_Transcoded, "CHUNK", 7)
    data = enc.encode(TEXT * 3, enc.VNI)
    out = _Transcoded.reader(io.BytesIO(data), enc.VNI).read().decode("utf-8")
    assert out == TEXT * 3


def test_reindex_names_each_files_encoding_and_forced_encoding_is_taken_as_is(tmp_path):
    rows = [{"id": f"{name}-1", "title": "Tin tức", "body": TEXT} for name in ("t", "v", "w", "m", "u")]
    line = {r["id"]: json.dumps(r, ensure_ascii=False) + "\n" for r in rows}
    (tmp_path / "tcvn3.jsonl").write_bytes(enc.encode(line["t-1"], enc.TCVN3))
    (tmp_path / "vni.jsonl").write_bytes(enc.encode(line["v-1"], enc.VNI))
    (tmp_path / "w1258.jsonl").write_bytes(enc.encode(line["w-1"], enc.CP1258))
    (tmp_path / "moji.jsonl").write_bytes(enc.encode(line["m-1"], enc.MOJIBAKE))
    (tmp_path / "utf8.jsonl").write_text(line["u-1"], encoding="utf-8")
    runner = CliRunner()
    index = tmp_path / "ix"
    result = runner.invoke(
        main, ["reindex", "--index", str(index), *sorted(map(str, tmp_path.glob("*.jsonl")))]
    )
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'tcvn3.jsonl'}: encoding tcvn3 (Vietnamese syllables" in result.stderr
    assert f"{tmp_path / 'vni.jsonl'}: encoding vni-windows" in result.stderr
    assert f"{tmp_path / 'w1258.jsonl'}: encoding windows-1258" in result.stderr
    assert "encodings: utf-8 2 file(s)" in result.stderr
    assert f"repaired 1 record(s) of {tmp_path / 'moji.jsonl'}: utf-8-as-windows-1252" in result.stdout
    ix = search.Index(index)
    assert ix.search("người dân Việt Nam").total == 5
    assert all(ix.get(r["id"])["body"].lower() == TEXT.lower() for r in rows)
    forced = runner.invoke(
        main,
        ["reindex", "--index", str(tmp_path / "ix2"), "--encoding", "utf-8", str(tmp_path / "moji.jsonl")],
    )
    assert forced.exit_code == 0 and "repaired" not in forced.stdout
    assert "á»‡" in search.Index(tmp_path / "ix2").get("m-1")["body"]


def test_clean_records_of_the_shared_corpus_are_not_changed(shared_dir: Path):
    """A sample here; benchmarks/encodings.py reads every record of the corpus."""
    checked = 0
    for name in ("rss-headlines/docs.jsonl.gz", "unc-dantri/docs.jsonl.gz", "vietnews/docs-test.jsonl.gz"):
        path = shared_dir / "corpus" / name
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            originals = [json.loads(line) for line in itertools.islice(fh, 300)]
        (source,) = detect_encodings(find_files([path])[0])
        assert source.encoding == enc.UTF8
        records = itertools.islice(read_records([source]), 300)
        for original, item in zip(originals, records, strict=True):
            assert isinstance(item, Record) and item.repaired is None and dict(item.fields) == original
            checked += 1
    assert checked == 900
