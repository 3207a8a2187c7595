"""The article model: validation reasons, NFC text, stable ids and the accepted date forms."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from indexer.article import MAX_BODY_BYTES, InvalidRecord, normalize_url, to_article
from indexer.dates import DateError, find_date, parse_date

BODY = "Sáng 13/11/2023, UBND tỉnh tổ chức hội nghị."


def test_valid_record_becomes_article_with_all_fields() -> None:
    art = to_article(
        {
            "id": "a1",
            "title": " Tiêu đề ",
            "summary": "Tóm tắt",
            "body": BODY,
            "date": "2023-11-13",
            "category": "Thời sự",
            "source": "example.vn",
            "url": "https://example.vn/a1",
            "extra": "ignored",
        }
    )
    assert art.to_dict() == {
        "id": "a1",
        "title": "Tiêu đề",
        "summary": "Tóm tắt",
        "body": BODY,
        "date": dt.date(2023, 11, 13),
        "category": "Thời sự",
        "source": "example.vn",
        "url": "https://example.vn/a1",
        "title_derived": "",
        "image": None,
    }


def test_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Hòa bình và phát triển")
    art = to_article({"id": "x", "title": decomposed, "body": decomposed})
    assert art.title == art.body == unicodedata.normalize("NFC", decomposed)
    assert art.title != decomposed


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": "Chỉ có tiêu đề"}, "missing body"),
        ({"title": "Tiêu đề", "body": "   "}, "missing body"),
        ({"id": "x"}, "missing title and body"),
        ({"body": BODY, "title": ["không", "phải", "chuỗi"]}, "wrong type for title"),
        ({"body": 42}, "wrong type for body"),
        ({"body": BODY, "id": {"a": 1}}, "wrong type for id"),
        ({"body": BODY, "date": 20231113}, "wrong type for date"),
        ({"body": BODY, "date": "32/13/2023"}, "unparsable date"),
        ({"body": BODY, "date": "hôm qua"}, "unparsable date"),
        ({"body": "x" * (MAX_BODY_BYTES + 1)}, "body too large"),
    ],
)
def test_invalid_record_is_rejected_with_its_reason(fields: dict, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        to_article(fields)
    assert caught.value.reason == reason


def test_given_id_is_kept_and_numbers_become_text() -> None:
    assert to_article({"id": " vmds-1 ", "body": BODY}).id == "vmds-1"
    assert to_article({"id": 12240106, "body": BODY}).id == "12240106"


def test_id_without_given_one_derives_from_the_normalised_url() -> None:
    a = to_article({"url": "HTTPS://Example.VN/tin/a-1/#binh-luan", "body": BODY})
    b = to_article({"url": "https://example.vn/tin/a-1", "body": "Nội dung đã sửa."})
    assert a.id == b.id
    assert a.id.startswith("url-")
    assert normalize_url("HTTPS://Example.VN/tin/a-1/#x") == "https://example.vn/tin/a-1"


def test_id_without_id_or_url_derives_from_the_content_and_is_stable() -> None:
    first = to_article({"title": "Tiêu đề", "body": BODY})
    again = to_article({"title": "Tiêu đề", "body": BODY, "date": "2023-11-13"})
    other = to_article({"title": "Tiêu đề khác", "body": BODY})
    assert first.id == again.id != other.id
    assert first.id.startswith("doc-")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-13", dt.date(2023, 11, 13)),
        ("2023-11-13T08:30:00", dt.datetime(2023, 11, 13, 8, 30)),
        ("2023-11-13 08:30", dt.datetime(2023, 11, 13, 8, 30)),
        (
            "2023-11-13T08:30:00+07:00",
            dt.datetime(2023, 11, 13, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        ),
        ("2023-11-13T01:30:00Z", dt.datetime(2023, 11, 13, 1, 30, tzinfo=dt.UTC)),
        ("13/11/2023", dt.date(2023, 11, 13)),
        ("13-11-2023", dt.date(2023, 11, 13)),
        ("13.11.2023", dt.date(2023, 11, 13)),
        ("3/1/2024", dt.date(2024, 1, 3)),
        ("Thứ hai, 13/11/2023 08:30", dt.datetime(2023, 11, 13, 8, 30)),
        ("Chủ nhật, 12/11/2023", dt.date(2023, 11, 12)),
        ("13/11/2023 08:30 (GMT+7)", dt.datetime(2023, 11, 13, 8, 30)),
        ("08:30 13/11/2023", dt.datetime(2023, 11, 13, 8, 30)),
    ],
)
def test_accepted_date_forms(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "13/11", "2023/13/45", "31/02/2023", "Thứ hai", "13/11/2023 rồi"])
def test_anything_else_is_not_a_date(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text)


def test_find_date_picks_the_date_out_of_a_labelled_line() -> None:
    assert find_date("13/11/2023 | Lượt xem: 1.024") == dt.date(2023, 11, 13)
    assert find_date("không có ngày") is None
