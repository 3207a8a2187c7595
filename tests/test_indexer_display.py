"""What the indexer adds for display: a title derived from the lead when a record has none, and a
thumbnail from the record or from an HTML page's og:image."""

from __future__ import annotations

import io

import pytest

from indexer.article import DERIVED_TITLE_CHARS, derive_title, to_article
from indexer.sources import html_page

LEAD = (
    "Báo Bưu điện Hoa Nam Buổi sáng (SCMP) dẫn nhận định của giới quan sát quân sự cho rằng, việc "
    "Trung Quốc liên tiếp đưa máy bay chiến đấu vào vùng nhận diện phòng không của Đài Loan gần đây "
    "nhằm mục đích huấn luyện phi công. Câu thứ hai."
)


def test_a_short_first_sentence_is_the_title_as_it_stands():
    assert derive_title("Giá vàng tăng mạnh. Các doanh nghiệp cho biết…") == "Giá vàng tăng mạnh."
    assert derive_title("Dòng đầu không có dấu chấm\nDòng thứ hai.") == "Dòng đầu không có dấu chấm"
    assert derive_title("TP.HCM mưa lớn ngày 13/11. Tiếp theo.") == "TP.HCM mưa lớn ngày 13/11."


def test_a_long_first_sentence_is_cut_on_a_word_with_an_ellipsis():
    title = derive_title(LEAD)
    assert title.endswith("…") and len(title) <= DERIVED_TITLE_CHARS + 1
    head = title.removesuffix("…")
    assert LEAD.startswith(head) and LEAD[len(head)] in " ,"  # a whole word, then the cut


def test_to_article_derives_only_when_the_title_is_missing():
    untitled = to_article({"id": "a", "body": LEAD})
    assert untitled.title == "" and untitled.title_derived.startswith("Báo Bưu điện Hoa Nam")
    from_summary = to_article({"id": "b", "summary": "Tóm tắt ngắn. Thêm.", "body": LEAD})
    assert from_summary.title_derived == "Tóm tắt ngắn."
    titled = to_article({"id": "c", "title": "Tiêu đề", "body": LEAD})
    assert titled.title == "Tiêu đề" and titled.title_derived == ""


@pytest.mark.parametrize("image", ["https://img.example.vn/a.jpg", None])
def test_image_is_optional(image):
    record = {"id": "a", "title": "T", "body": "Nội dung.", **({"image": image} if image else {})}
    assert to_article(record).image == image


def test_an_image_field_too_long_is_a_rejection():
    with pytest.raises(ValueError, match="field too long"):
        to_article({"id": "a", "body": "x", "image": "https://img.example.vn/" + "a" * 2000})


def test_og_image_of_an_html_page_becomes_the_image():
    body = "Giá vàng trong nước tăng mạnh trong phiên sáng nay, theo các doanh nghiệp lớn. " * 5
    page = (
        '<html><head><title>Giá vàng tăng</title><meta property="og:image" '
        'content="https://img.example.vn/vang.jpg"></head><body><article><h1>Giá vàng tăng</h1>'
        f"<p>{body}</p></article></body></html>"
    ).encode()
    (record,) = list(html_page.read("vang.html", io.BytesIO(page)))
    assert record.fields["image"] == "https://img.example.vn/vang.jpg"
    assert to_article(record.fields).image == "https://img.example.vn/vang.jpg"
