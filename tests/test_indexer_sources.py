"""Source formats (JSONL, CSV, HTML, portal text, .gz, directories) and how bad input is reported."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from indexer.article import Article
from indexer.ingest import validated
from indexer.records import Rejection
from indexer.sources import SourceError, find_files

BODY = "Sáng 13/11/2023, UBND tỉnh Lam Giang tổ chức hội nghị tổng kết công tác năm."


def read(*paths: Path, fmt: str | None = None) -> list[Article | Rejection]:
    files, _ = find_files(paths, fmt)
    return list(validated(files))


def jsonl(*rows: dict) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def only(items: list[Article | Rejection]) -> Article | Rejection:
    assert len(items) == 1, items
    return items[0]


# --- formats -----------------------------------------------------------------------------------


def test_jsonl_reads_corpus_fields(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    row = {
        "id": "unc-1",
        "title": "Tiêu đề",
        "date": "2021-04-22",
        "category": "Xã hội",
        "url": "https://dantri.com.vn/a.htm",
        "body": BODY,
        "summary": "Sapo",
        "source": "dantri.com.vn",
        "category_code": "society",
    }
    path.write_text(jsonl(row), encoding="utf-8")
    art = only(read(path))
    assert isinstance(art, Article)
    assert (art.id, art.title, art.summary, art.date, art.category, art.source, art.url) == (
        "unc-1",
        "Tiêu đề",
        "Sapo",
        dt.date(2021, 4, 22),
        "Xã hội",
        "dantri.com.vn",
        "https://dantri.com.vn/a.htm",
    )


def test_gzipped_files_are_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl({"id": "g1", "body": BODY}, {"id": "g2", "body": BODY}).encode()))
    assert [a.id for a in read(path)] == ["g1", "g2"]


def test_csv_rows_map_header_fields_and_keep_multiline_bodies(tmp_path: Path) -> None:
    path = tmp_path / "tin.csv"
    path.write_text(
        "ID,Title,Date,Category,Body\n"
        'c1,Tin một,13/11/2023,Kinh tế,"Đoạn một.\nĐoạn hai."\n'
        'c2,Tin hai,"Thứ hai, 13/11/2023 08:30",Y tế,Nội dung\n',
        encoding="utf-8",
    )
    first, second = read(path)
    assert (first.id, first.title, first.date, first.category, first.body) == (
        "c1",
        "Tin một",
        dt.date(2023, 11, 13),
        "Kinh tế",
        "Đoạn một.\nĐoạn hai.",
    )
    assert second.date == dt.datetime(2023, 11, 13, 8, 30)


HTML_PAGE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Khánh thành cầu mới - Báo Tỉnh</title>
<meta property="og:title" content="Khánh thành cầu mới bắc qua sông Lam">
<meta property="article:published_time" content="2025-09-30T16:30:00+07:00">
<meta property="article:section" content="Kinh tế">
<link rel="canonical" href="https://bao.example/kinh-te/khanh-thanh-cau.html"></head>
<body><nav><a href="/">Trang chủ</a> <a href="/the-thao">Thể thao</a> MENU-CHROME</nav>
<article><h1>Khánh thành cầu mới bắc qua sông Lam</h1>
<p>Chiều 30/9/2025, tỉnh tổ chức lễ khánh thành cây cầu dài 1,2 km bắc qua sông Lam, rút ngắn
thời gian đi lại giữa trung tâm tỉnh và các xã phía nam từ 40 phút xuống còn 10 phút.</p>
<p>Người dân hai bờ sông phấn khởi đến dự lễ. Chủ đầu tư cho biết công trình hoàn thành vượt
tiến độ ba tháng và sẽ tiếp tục hoàn thiện hệ thống chiếu sáng, cây xanh trên cầu.</p></article>
<footer>FOOTER-CHROME Bản quyền thuộc về Báo Tỉnh</footer></body></html>"""


def test_html_page_yields_main_text_title_date_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "cau.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    art = only(read(path))
    assert art.title == "Khánh thành cầu mới bắc qua sông Lam"
    assert art.date == dt.date(2025, 9, 30)
    assert art.category == "Kinh tế"
    assert art.url == "https://bao.example/kinh-te/khanh-thanh-cau.html"
    assert art.body.startswith("Chiều 30/9/2025")
    assert "MENU-CHROME" not in art.body and "FOOTER-CHROME" not in art.body


def portal_page(date_line: str = "Ngày cập nhật 05/03/2024", credit: str = "Nguồn: tinhlam.gov.vn") -> str:
    return "\n".join(
        [
            "Tìm kiếm tin tức",
            "Liên kết website",
            "Sở, Ban, Ngành",
            "Hội nghị triển khai nhiệm vụ năm 2024 của ngành nông nghiệp",
            date_line,
            "Quang cảnh hội nghị",
            "Quang cảnh hội nghị",
            "(CTTĐT) - Sáng 5/3, Sở Nông nghiệp tổ chức hội nghị triển khai nhiệm vụ năm 2024.",
            " ",
            "Đại biểu phát biểu tại hội nghị",
            "",
            "Hội nghị thống nhất mục tiêu tăng trưởng 3% trong năm.",
            credit,
            "Các tin khác",
            "Tin cũ hơn không thuộc bài",
            "Xem tin theo ngày",
            "Thống kê truy cập",
            "Truy cập tổng 1.234.567",
            "Truy cập hiện tại 89",
        ]
    )


def test_portal_text_page_finds_headline_date_source_and_body(tmp_path: Path) -> None:
    path = tmp_path / "trang.txt"
    path.write_text(portal_page(), encoding="utf-8")
    art = only(read(path))
    assert art.title == "Hội nghị triển khai nhiệm vụ năm 2024 của ngành nông nghiệp"
    assert art.date == dt.date(2024, 3, 5)
    assert art.source == "tinhlam.gov.vn"
    assert art.body == (
        "(CTTĐT) - Sáng 5/3, Sở Nông nghiệp tổ chức hội nghị triển khai nhiệm vụ năm 2024.\n"
        "Đại biểu phát biểu tại hội nghị\n"
        "Hội nghị thống nhất mục tiêu tăng trưởng 3% trong năm."
    )


@pytest.mark.parametrize(
    ("date_line", "expected"),
    [
        ("Cập nhật: 05/03/2024 14:20", dt.datetime(2024, 3, 5, 14, 20)),
        ("Ngày đăng: Thứ ba, 05/03/2024", dt.date(2024, 3, 5)),
        ("Đăng ngày 05-03-2024", dt.date(2024, 3, 5)),
    ],
)
def test_portal_text_page_accepts_other_date_labels(
    tmp_path: Path, date_line: str, expected: dt.date
) -> None:
    path = tmp_path / "trang.txt"
    path.write_text(portal_page(date_line), encoding="utf-8")
    art = only(read(path))
    assert (art.title, art.date) == ("Hội nghị triển khai nhiệm vụ năm 2024 của ngành nông nghiệp", expected)


def test_portal_text_page_without_source_line_stops_at_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "trang.txt"
    page = portal_page(credit="Tin liên quan đến hội nghị sẽ được cập nhật sau.")
    path.write_text(page, encoding="utf-8")
    art = only(read(path))
    assert art.source is None
    assert art.body.endswith("tăng trưởng 3% trong năm.\nTin liên quan đến hội nghị sẽ được cập nhật sau.")


def test_directories_are_read_recursively_in_name_order_skipping_hidden_and_unknown(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "1", "body": BODY}), encoding="utf-8")
    (tmp_path / "b" / "c.csv").write_text(f'id,body\n2,"{BODY}"\n', encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text(jsonl({"id": "h", "body": BODY}), encoding="utf-8")
    (tmp_path / "README.md").write_text("# notes", encoding="utf-8")
    files, skipped = find_files([tmp_path])
    assert [(f.path.name, f.format) for f in files] == [("a.jsonl", "jsonl"), ("c.csv", "csv")]
    assert skipped == [tmp_path / "README.md"]
    assert [a.id for a in read(tmp_path)] == ["1", "2"]


def test_format_option_reads_files_whatever_their_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.data"
    path.write_text(jsonl({"id": "x", "body": BODY}), encoding="utf-8")
    with pytest.raises(SourceError, match="unknown format"):
        find_files([path])
    assert [a.id for a in read(path, fmt="jsonl")] == ["x"]


def test_missing_source_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        find_files([tmp_path / "absent.jsonl"])


# --- bad input: every case reported with its origin and reason, the rest still read ------------


def rejections(items: list[Article | Rejection]) -> list[str]:
    return [str(item) for item in items if isinstance(item, Rejection)]


def articles(items: list[Article | Rejection]) -> list[str]:
    return [item.id for item in items if isinstance(item, Article)]


def test_bad_jsonl_lines_are_reported_by_line_and_the_rest_indexed(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [
        jsonl({"id": "ok1", "body": BODY}),
        '{"id": "broken", "body": \n',
        jsonl({"id": "nobody", "title": "Không có nội dung"}),
        "\n",
        jsonl({"id": "baddate", "body": BODY, "date": "31/02/2023"}),
        '["not", "an", "object"]\n',
        jsonl({"id": "ok2", "body": BODY}),
    ]
    path.write_bytes("".join(lines).encode() + b'{"id": "latin1", "body": "H\xf2a"}\n')
    items = read(path)
    assert articles(items) == ["ok1", "ok2"]
    assert rejections(items) == [
        f"{path}:2: malformed JSON (Expecting value at column 26)",
        f"{path}:3: missing body",
        f"{path}:5: unparsable date ('31/02/2023')",
        f"{path}:6: not a JSON object (list)",
        f"{path}:8: not UTF-8 (byte 0xf2 at column 28)",
    ]


def test_bad_csv_rows_are_reported_by_their_first_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        "id,title,date,body\n"
        'r1,Tin một,13/11/2023,"Hai\ndòng"\n'
        "r2,Thiếu nội dung,13/11/2023,\n"
        "r3,Ngày sai,45/11/2023,Nội dung\n"
        "r4,Thiếu cột\n".encode()
        + b"r5,Sai m\xe3,13/11/2023,N\xf4i dung\n"
        + "r6,Tin sáu,2023-11-13,Nội dung\n".encode()
    )
    items = read(path)
    assert articles(items) == ["r1", "r6"]
    assert rejections(items) == [
        f"{path}:4: missing body",
        f"{path}:5: unparsable date ('45/11/2023')",
        f"{path}:6: wrong number of columns (2 instead of 4)",
        f"{path}:7: not UTF-8 (byte 0xe3 at column 9)",
    ]


def test_csv_without_body_column_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "headers.csv"
    path.write_text("id,title\n1,Tin\n", encoding="utf-8")
    assert rejections(read(path)) == [f"{path}:1: bad CSV header (no 'body' column in ['id', 'title'])"]


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.html", "empty.txt", "empty.jsonl.gz"])
def test_empty_file_is_reported(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"") if name.endswith(".gz") else b"")
    assert rejections(read(path)) == [f"{path}: empty file"]


def test_blank_lines_only_count_as_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n \n\n", encoding="utf-8")
    assert rejections(read(path)) == [f"{path}: empty file"]


def test_corrupt_gzip_keeps_what_was_read_and_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(jsonl(*({"id": f"a{i}", "body": BODY} for i in range(200))).encode())
    path.write_bytes(data[: len(data) // 2])
    items = read(path)
    assert 0 < len(articles(items)) < 200
    assert rejections(items) == [
        f"{path}: unreadable file (Compressed file ended before the end-of-stream marker was reached)"
    ]


def test_portal_page_that_is_not_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cp1258.txt"
    path.write_bytes("Tiêu đề\nNgày cập nhật 13/11/2023\n".encode() + b"N\xf4i dung\n")
    assert rejections(read(path)) == [f"{path}:3: not UTF-8 (byte 0xf4)"]


def test_portal_page_without_date_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "menu.txt"
    path.write_text("Trang chủ\nGiới thiệu\nLiên hệ\n", encoding="utf-8")
    assert rejections(read(path)) == [f"{path}: no date line (expected e.g. 'Ngày cập nhật 13/11/2023')"]


def test_html_page_without_article_text_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "blank.html"
    path.write_text("<html><head><title>Trống</title></head><body></body></html>", encoding="utf-8")
    assert rejections(read(path)) == [f"{path}: no article text found"]
