"""The HTML pages through Flask's test client: form state, filters, facets, pagination,
suggestion, related articles, empty and error states."""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from flask.testing import FlaskClient
from web_fixtures import MIN_KHOA_HOC_HITS, shared_index

import search
from web import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    app = create_app({"INDEX": str(shared_index(tmp_path_factory)), "TESTING": True})
    return app.test_client()


def page(client: FlaskClient, url: str, status: int = 200) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.get_data(as_text=True))


def args(href: str) -> dict[str, str]:
    """The query arguments of a link, one value each."""
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}


def hit_dates(doc: lxml.html.HtmlElement) -> list[str]:
    return doc.xpath("//li[@class='hit']//time/@datetime")


def test_landing_page_shows_the_index(client):
    doc = page(client, "/")
    assert doc.get("lang") == "vi"
    assert "29" in doc.xpath("string(//section[@class='landing'])")
    categories = doc.xpath("//section[@class='landing']//a/text()")
    assert set(categories) == {"Khoa học", "Giáo dục", "Thể thao", "Kinh tế", "Thời sự"}
    assert doc.xpath("//link[@rel='stylesheet']/@href") == ["/static/style.css"]
    assert not doc.xpath("//li[@class='hit']")


def test_every_form_control_has_a_label(client):
    doc = page(client, "/?q=khoa+hoc")
    controls = doc.xpath("//form//input[not(@type='hidden')] | //form//select")
    labelled = set(doc.xpath("//label/@for"))
    assert controls and all(control.get("id") in labelled for control in controls)
    assert doc.xpath("//form[@role='search' and @method='get']")
    assert doc.xpath("//meta[@name='viewport']")


def test_page_has_no_inline_script_only_its_own_file(client):
    html = client.get("/?q=khoa+hoc").get_data(as_text=True).lower()
    scripts = lxml.html.fromstring(html).xpath("//script")
    assert [(s.get("src"), (s.text or "").strip()) for s in scripts] == [("/static/suggest.js", "")]
    assert " on" + "click" not in html and "style=" not in html


def test_search_keeps_the_query_and_highlights_accented_words(client):
    doc = page(client, "/?q=khoa+hoc")
    assert doc.xpath("//input[@name='q']/@value") == ["khoa hoc"]
    heading = doc.xpath("string(//h2[@id='results-heading'])")
    assert "Tìm thấy" in heading and "kết quả" in heading and "giây" in heading
    hits = doc.xpath("//li[@class='hit']")
    assert len(hits) == 10
    marks = [mark.text_content().lower() for mark in doc.xpath("//li[@class='hit']//mark")]
    assert "khoa học" in marks
    first = hits[0]
    assert first.xpath(".//h3/a/@href")[0].startswith("https://tin.example.vn/")
    assert first.xpath(".//span[@class='source']/text()") == ["Báo Mẫu"]
    assert first.xpath(".//span[@class='category']/text()")
    related = first.xpath(".//a[text()='Bài liên quan']/@href")[0]
    assert related.startswith("/articles/") and related.endswith("/related?q=khoa+hoc")


def test_dates_are_shown_day_first(client):
    doc = page(client, "/?q=ech")
    time = doc.xpath("//li[@class='hit']//time")[0]
    assert (time.get("datetime"), time.text) == ("2021-03-14", "14/03/2021")


def test_date_filter_keeps_its_values_and_limits_hits(client):
    doc = page(client, "/?q=khoa+hoc&from=2023-01-01&to=2023-12-31")
    assert doc.xpath("//input[@name='from']/@value") == ["2023-01-01"]
    assert doc.xpath("//input[@name='to']/@value") == ["2023-12-31"]
    dates = hit_dates(doc)
    assert dates and all(d.startswith("2023-") for d in dates)
    assert " ".join(doc.xpath("string(//p[@class='active-filters'])").split()).startswith(
        "Đang lọc: từ 01/01/2023 · đến 31/12/2023 · Bỏ bộ lọc"
    )
    clear = doc.xpath("//p[@class='active-filters']/a/@href")[0]
    assert args(clear) == {"q": "khoa hoc"}


def test_date_presets_are_links_relative_to_today(client):
    doc = page(client, "/?q=mua&category=Th%E1%BB%9Di+s%E1%BB%B1")
    presets = {a.text: args(a.get("href")) for a in doc.xpath("//nav[@class='presets']/a")}
    today = dt.date.today()
    assert presets["7 ngày qua"] == {
        "q": "mua",
        "category": "Thời sự",
        "from": (today - dt.timedelta(days=6)).isoformat(),
        "to": today.isoformat(),
    }
    assert presets["30 ngày qua"]["from"] == (today - dt.timedelta(days=29)).isoformat()
    assert presets["Năm nay"]["from"] == f"{today.year}-01-01"
    assert presets["Mọi lúc"] == {"q": "mua", "category": "Thời sự"}
    assert doc.xpath("//nav[@class='presets']/a[@aria-current]/text()") == ["Mọi lúc"]


def test_last_seven_days_finds_yesterdays_article(client):
    doc = page(client, "/")
    week = page(client, doc.xpath("//nav[@class='presets']/a[text()='7 ngày qua']/@href")[0])
    assert [h.get("href") for h in week.xpath("//li[@class='hit']//h3/a")] == [
        "https://tin.example.vn/ts-moi"
    ]
    assert week.xpath("//nav[@class='presets']/a[@aria-current]/text()") == ["7 ngày qua"]


def test_empty_query_with_dates_browses_newest_first(client):
    doc = page(client, "/?from=2022-01-01&to=2022-12-31")
    assert "Có 6 bài" in doc.xpath("string(//h2[@id='results-heading'])")
    dates = hit_dates(doc)
    assert dates == sorted(dates, reverse=True) and all(d.startswith("2022") for d in dates)


def test_category_filter(client):
    doc = page(client, "/?q=khoa+hoc&category=Gi%C3%A1o+d%E1%BB%A5c")
    assert doc.xpath("//select[@name='category']/option[@selected]/@value") == ["Giáo dục"]
    categories = doc.xpath("//li[@class='hit']//span[@class='category']/text()")
    assert categories and set(categories) == {"Giáo dục"}


def test_unknown_category_stays_selected_and_finds_nothing(client):
    doc = page(client, "/?q=khoa+hoc&category=Kh%C3%B4ng+c%C3%B3")
    assert doc.xpath("//select[@name='category']/option[@selected]/@value") == ["Không có"]
    assert doc.xpath("//div[@class='empty']")


def test_category_counts_link_to_the_filtered_search(client):
    doc = page(client, "/?q=khoa+hoc")
    links = {a.text: a.get("href") for a in doc.xpath("//aside//ul[@class='category-counts']//a")}
    assert args(links["Khoa học"]) == {"q": "khoa hoc", "category": "Khoa học"}
    counts = doc.xpath("//aside//ul[@class='category-counts']/li/span/text()")
    assert sum(int(n) for n in counts) >= MIN_KHOA_HOC_HITS


@pytest.mark.parametrize(("sort", "descending"), [("newest", True), ("oldest", False)])
def test_sort(client, sort, descending):
    doc = page(client, f"/?q=khoa+hoc&sort={sort}")
    assert doc.xpath("//select[@name='sort']/option[@selected]/@value") == [sort]
    dates = hit_dates(doc)
    assert len(dates) == 10 and dates == sorted(dates, reverse=descending)


def test_sort_labels_are_vietnamese(client):
    labels = page(client, "/").xpath("//select[@name='sort']/option/text()")
    assert labels == ["Liên quan nhất", "Mới nhất", "Cũ nhất"]


def test_pagination(client):
    first = page(client, "/?q=khoa+hoc&sort=newest")
    assert not first.xpath("//a[@rel='prev']")
    next_href = first.xpath("//nav[@class='pager']/a[@rel='next']/@href")[0]
    assert args(next_href) == {"q": "khoa hoc", "sort": "newest", "page": "2"}
    assert first.xpath("//nav[@class='pager']/span[@aria-current='page']/text()") == ["1"]
    second = page(client, next_href)
    assert second.xpath("//ol[@class='hits']/@start") == ["11"]
    assert args(second.xpath("//a[@rel='prev']/@href")[0]) == {"q": "khoa hoc", "sort": "newest"}
    links = "//li[@class='hit']//h3/a/@href"
    assert set(first.xpath(links)).isdisjoint(second.xpath(links))


def test_size_is_kept_across_pages_and_in_the_form(client):
    doc = page(client, "/?q=khoa+hoc&size=5")
    assert len(doc.xpath("//li[@class='hit']")) == 5
    assert doc.xpath("//form//input[@type='hidden' and @name='size']/@value") == ["5"]
    pages = doc.xpath("//nav[@class='pager']/a[@aria-label]/text()")
    assert pages[-1] == "3"
    assert args(doc.xpath("//a[@rel='next']/@href")[0])["size"] == "5"


def test_page_past_the_end_offers_the_first_page(client):
    doc = page(client, "/?q=khoa+hoc&page=40")
    assert "Trang 40 không có kết quả" in doc.xpath("string(//div[@class='empty'])")
    assert args(doc.xpath("//div[@class='empty']//a/@href")[0]) == {"q": "khoa hoc"}


def test_year_bars_filter_by_year_and_open_the_month_chart(client):
    doc = page(client, "/?q=khoa+hoc")
    bars = {a.get("aria-label"): a.get("href") for a in doc.xpath("//svg//a")}
    assert any(label.startswith("Năm 2023: ") for label in bars)
    assert len(doc.xpath("//figure[@class='chart']")) == 1  # several years: no month chart
    href = next(href for label, href in bars.items() if label.startswith("Năm 2023"))
    assert args(href) == {"q": "khoa hoc", "from": "2023-01-01", "to": "2023-12-31"}

    year = page(client, href)
    assert year.xpath("//svg//a[contains(@class, 'selected')]/@aria-label")[0].startswith("Năm 2023")
    captions = year.xpath("//figure[@class='chart']/figcaption/text()")
    assert captions == ["Số bài theo năm", "Số bài theo tháng năm 2023"]
    months = year.xpath("//figure[2]//svg/*[contains(@class, 'bar')]")
    assert len(months) == 12
    november = year.xpath("//figure[2]//svg/a[starts-with(@aria-label, 'Tháng 11/2023')]/@href")[0]
    assert args(november) == {"q": "khoa hoc", "from": "2023-11-01", "to": "2023-11-30"}
    assert year.xpath("//figure[2]//svg/g[contains(@class, 'empty')]")  # months without articles


def test_bar_heights_follow_the_counts(client):
    doc = page(client, "/?from=2021-01-01&to=2024-12-31")
    bars = doc.xpath("//figure[1]//svg/a")
    heights = {
        int(a.xpath("string(.//text[@class='count'])")): int(a.xpath(".//rect[1]/@height")[0]) for a in bars
    }
    assert heights[max(heights)] == 70
    assert all(0 < height <= 70 for height in heights.values())


def test_suggestion_links_to_the_suggested_search(client, monkeypatch):
    original = search.Index.search

    def with_suggestion(self, *a, **kw):
        return dataclasses.replace(original(self, *a, **kw), suggestion="khoa học")

    monkeypatch.setattr(search.Index, "search", with_suggestion)
    doc = page(client, "/?q=khoa+hocc&category=Khoa+h%E1%BB%8Dc&page=2")
    link = doc.xpath("//p[@class='suggestion']/a")[0]
    assert "Có phải bạn muốn tìm" in doc.xpath("string(//p[@class='suggestion'])")
    assert link.text == "khoa học"
    assert args(link.get("href")) == {"q": "khoa học", "category": "Khoa học"}


def test_no_results_is_a_friendly_page(client):
    doc = page(client, "/?q=zzzyyyxxx&category=Khoa+h%E1%BB%8Dc")
    empty = doc.xpath("string(//div[@class='empty'])")
    assert "Không tìm thấy bài nào khớp với «zzzyyyxxx»" in empty
    assert args(doc.xpath("//div[@class='empty']//a/@href")[0]) == {"q": "zzzyyyxxx"}
    assert "Không có kết quả" in doc.xpath("string(//h2[@id='results-heading'])")


@pytest.mark.parametrize(
    ("url", "control", "message"),
    [
        ("/?q=" + "x" * 501, "q", "dài quá 500 ký tự"),
        ("/?q=%28%28%28+%2A", "q", "Truy vấn"),  # rejected by the core
        ("/?q=a&from=2023-02-30", "from", "Ngày bắt đầu không hợp lệ"),
        ("/?to=31/12/2023", "to", "Ngày kết thúc không hợp lệ"),
        ("/?q=a&sort=ngau-nhien", "sort", "Cách sắp xếp"),
        ("/?q=a&page=0", None, "Số trang phải là số nguyên từ 1 đến 1000"),
        ("/?q=a&page=1001", None, "Số trang"),
        ("/?q=a&size=1000", None, "Số kết quả mỗi trang"),
        ("/?q=a&page=1000&size=100", None, "Chỉ xem được 10000 kết quả"),  # the core's, not about q
    ],
)
def test_bad_input_is_a_400_page_in_vietnamese(client, url, control, message):
    doc = page(client, url, status=400)
    assert message in doc.xpath("string(//div[@role='alert'])")
    assert doc.xpath("//form[@role='search']")  # the form is still there to fix the input
    assert not doc.xpath("//li[@class='hit']")
    invalid = doc.xpath("//*[@aria-invalid='true']")
    assert [el.get("name") for el in invalid] == ([control] if control else [])
    assert all(el.get("aria-describedby") == "error-message" for el in invalid)


def test_bad_input_keeps_what_was_typed(client):
    doc = page(client, "/?q=b%C3%B3ng+%C4%91%C3%A1&from=2023-13-01", status=400)
    assert doc.xpath("//input[@name='q']/@value") == ["bóng đá"]
    assert doc.xpath("//input[@name='from']/@value") == ["2023-13-01"]


def test_related_page(client):
    doc = page(client, "/articles/kh-1/related")
    assert "Các nhà khoa học phát hiện loài ếch mới" in doc.xpath("string(//h1)")
    assert doc.xpath("//h1/a/@href") == ["/articles/kh-1"]
    assert doc.xpath("//p[@class='hit-meta']/a/@href") == ["https://tin.example.vn/kh-1"]
    hrefs = doc.xpath("//li[@class='hit']//h3/a/@href")
    assert hrefs and "https://tin.example.vn/kh-1" not in hrefs


def test_related_page_of_unknown_article_is_404(client):
    doc = page(client, "/articles/khong-co/related", status=404)
    assert "Không tìm thấy" in doc.xpath("string(//div[@role='alert'])")


def test_unknown_page_is_a_vietnamese_404(client):
    doc = page(client, "/khong-co-trang-nay", status=404)
    assert doc.xpath("//div[@role='alert']//a/@href") == ["/"]


def test_post_to_the_page_is_405(client):
    response = client.post("/")
    assert response.status_code == 405
    assert "Phương thức" in response.get_data(as_text=True)


def test_stylesheet_is_served(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert b"mark" in response.data
    response.close()
