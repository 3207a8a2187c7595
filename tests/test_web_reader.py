"""What a reader and an integrator meet on a real archive: titleless records, the article page,
search-as-you-type, thumbnails, and the API's manners (CORS, ETag/304, gzip, docs)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from flask.testing import FlaskClient
from web_fixtures import READER_RECORDS, TITLELESS_ID, reader_articles, reader_index

import search
from web import create_app

ORIGIN = "https://doc-gia.example.vn"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    return create_app({"INDEX": str(reader_index(tmp_path_factory)), "TESTING": True})


@pytest.fixture(scope="module")
def client(app) -> FlaskClient:
    return app.test_client()


def html(client: FlaskClient, url: str, status: int = 200) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    return lxml.html.fromstring(response.get_data(as_text=True))


# --- a title for every hit ------------------------------------------------------------------


def test_a_titleless_record_gets_a_title_from_its_lead_marked_as_derived(client):
    hit = next(h for h in client.get("/api/search?q=gia+vang").get_json()["hits"] if h["id"] == TITLELESS_ID)
    body = READER_RECORDS[0]["body"]
    assert hit["title"].endswith("…") and len(hit["title"]) <= 121
    assert body.startswith(hit["title"].removesuffix("…")) and body[len(hit["title"]) - 1] == " "
    assert hit["title_derived"] is True
    assert hit["title_html"].startswith("<mark>Giá vàng</mark> hôm nay")
    article = client.get(f"/api/articles/{TITLELESS_ID}").get_json()
    assert article["title"] == hit["title"] and article["title_derived"] is True
    real = client.get("/api/articles/hue-1").get_json()
    assert real["title_derived"] is False and real["image"] == "https://img.example.vn/hue.jpg"


def test_a_derived_title_is_not_searched_as_a_title(client):
    """title: finds real titles only; the derived one is the lead's words, indexed once, as lead."""
    ids = [h["id"] for h in client.get('/api/search?q=title:"giá vàng"').get_json()["hits"]]
    assert "kt-19" in ids and TITLELESS_ID not in ids


def test_every_hit_has_a_nonempty_clickable_heading(client):
    doc = html(client, "/?q=gia+vang")
    headings = doc.xpath("//li[contains(@class, 'hit')]//h3")
    assert headings
    for heading in headings:
        links = heading.xpath("./a")
        assert len(links) == 1 and links[0].text_content().strip() and links[0].get("href")
    derived = doc.xpath("//li[contains(@class, 'hit')]//h3[contains(@class, 'derived')]")
    assert len(derived) == 1 and "không có tiêu đề" in derived[0].text_content()


# --- the article page ----------------------------------------------------------------------


def test_article_page_shows_the_whole_article_with_the_query_marked(client):
    doc = html(client, f"/articles/{TITLELESS_ID}?q=gia+vang&category=Kinh+t%E1%BA%BF&page=1")
    assert doc.xpath("string(//h1)").startswith("Giá vàng hôm nay")
    paragraphs = doc.xpath("//div[@class='article-body']/p")
    assert len(paragraphs) == 2 and paragraphs[1].text_content() == "Ngân hàng Nhà nước đang theo dõi."
    marks = [m.text_content() for m in doc.xpath("//article//mark")]
    assert marks and {m.lower() for m in marks} == {"giá vàng"}  # not "vàng" of "kinh doanh vàng" alone
    assert doc.xpath("//article//time/@datetime") == ["2024-10-02"]
    assert doc.xpath("//a[text()='Xem bài gốc']/@href") == [READER_RECORDS[0]["url"]]
    back = doc.xpath("//p[@class='back']/a/@href")[0]
    assert parse_qs(urlsplit(back).query) == {"q": ["gia vang"], "category": ["Kinh tế"]}
    assert doc.xpath("//section[@class='related']//li[contains(@class, 'hit')]")


def test_article_page_without_a_query_marks_nothing(client):
    doc = html(client, "/articles/kh-1")
    assert doc.xpath("//mark") == [] and doc.xpath("//p[@class='back']/a/@href") == ["/"]


def test_an_article_without_url_is_reached_from_its_title(client):
    doc = html(client, "/?q=thanh+pho+hue")
    hit = doc.xpath("//li[contains(@class, 'hit')][.//h3/a[starts-with(@href, '/articles/hue-1')]]")
    assert hit, "the title of an article without a URL links to its page"
    assert html(client, hit[0].xpath(".//h3/a/@href")[0]).xpath("//mark")
    with_url = doc.xpath("//li[contains(@class, 'hit')][.//h3/a[@href='https://tin.example.vn/hcm-2']]")
    if with_url:  # both are reachable: the original, and the page here
        assert with_url[0].xpath(".//a[text()='Đọc tại đây']/@href")[0].startswith("/articles/hcm-2?")


def test_unknown_article_is_a_404_page(client):
    html(client, "/articles/khong-co", status=404)


def test_related_page_keeps_the_search_and_marks_nothing(client):
    doc = html(client, "/articles/kh-1/related?q=khoa+hoc&sort=newest")
    assert doc.xpath("//mark") == []
    back = doc.xpath("//p[@class='back']/a/@href")[0]
    assert parse_qs(urlsplit(back).query) == {"q": ["khoa hoc"], "sort": ["newest"]}


# --- thumbnails ----------------------------------------------------------------------------


def test_thumbnail_is_lazy_with_the_title_as_alt_and_absent_without_image(client):
    doc = html(client, "/?q=hue")
    images = doc.xpath("//li[contains(@class, 'hit')]//img")
    assert [(i.get("src"), i.get("alt"), i.get("loading")) for i in images] == [
        ("https://img.example.vn/hue.jpg", "Thành phố Huế đón khách du lịch dịp lễ", "lazy")
    ]


# --- search-as-you-type ----------------------------------------------------------------------


def test_suggest_completes_an_accentless_prefix(client):
    response = client.get("/api/suggest?q=thanh+ph")
    assert response.status_code == 200
    data = response.get_json()
    assert data["query"] == "thanh ph"
    lowered = [c.lower() for c in data["completions"]]
    assert "thành phố" in lowered and "thành phố hồ chí minh" in lowered and "thành phố huế" in lowered
    assert len(lowered) <= search.MAX_COMPLETIONS


def test_suggest_keeps_typed_marks_and_bounds_its_input(client):
    assert all(
        not c.lower().startswith("báo") for c in client.get("/api/suggest?q=bão").get_json()["completions"]
    )
    assert client.get("/api/suggest").get_json() == {"query": "", "completions": []}
    too_long = client.get("/api/suggest", query_string={"q": "a" * 501})
    assert too_long.status_code == 400 and too_long.get_json()["error"]["param"] == "q"


def test_the_box_points_the_script_at_suggest(client):
    doc = html(client, "/")
    assert doc.xpath("//input[@id='q']/@data-suggest") == ["/api/suggest"]
    assert doc.xpath("//script/@src") == ["/static/suggest.js"]
    with client.get("/static/suggest.js") as script:
        assert script.status_code == 200 and b"aria-activedescendant" in script.data


# --- CORS -----------------------------------------------------------------------------------


def test_no_cross_origin_reading_by_default(client):
    response = client.get("/api/search?q=a", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/search", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 405


@pytest.fixture(scope="module")
def cors_client(tmp_path_factory):
    app = create_app(
        {
            "INDEX": str(reader_index(tmp_path_factory)),
            "TESTING": True,
            "CORS_ORIGINS": f"{ORIGIN}, https://b.vn",
        }
    )
    return app.test_client()


def test_a_listed_origin_gets_a_working_preflight_and_reads_the_api(cors_client):
    preflight = cors_client.options(
        "/api/suggest?q=ha", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Origin" in preflight.headers["Vary"]
    response = cors_client.get("/api/suggest?q=ha", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    error = cors_client.get("/api/search?page=0", headers={"Origin": ORIGIN})
    assert error.status_code == 400 and error.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_an_unlisted_origin_and_other_methods_are_refused(cors_client):
    other = cors_client.get("/api/search?q=a", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = cors_client.options(
        "/api/search", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 405
    post = cors_client.options(
        "/api/search", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert post.status_code == 405
    page = cors_client.get("/?q=a", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in page.headers  # the API only


def test_cors_origins_come_from_the_environment(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("VNSEARCH_CORS_ORIGINS", "*")
    client = create_app({"INDEX": str(reader_index(tmp_path_factory)), "TESTING": True}).test_client()
    assert client.get("/healthz", headers={"Origin": ORIGIN}).headers["Access-Control-Allow-Origin"] == "*"


# --- ETag, Cache-Control, 304 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/search?q=khoa+hoc", "/?q=khoa+hoc", "/articles/kh-1?q=khoa", "/api/suggest?q=kh"]
)
def test_revalidation_gets_a_304_without_a_body(client, url):
    first = client.get(url)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and "max-age=" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    assert client.get(url + "&x=1").headers["ETag"] != tag


def test_health_is_never_cached(client):
    assert "ETag" not in client.get("/healthz").headers


def test_a_new_generation_changes_the_etag(tmp_path):
    path = tmp_path / "ix"
    with search.Index(path).new_generation() as gen:
        gen.add_many(reader_articles()[:5])
    client = create_app({"INDEX": str(path), "TESTING": True}).test_client()
    before = client.get("/api/search?q=khoa+hoc").headers["ETag"]
    with search.Index(path).updating() as writer:
        writer.upsert(reader_articles()[6])
    updated = client.get("/api/search?q=khoa+hoc", headers={"If-None-Match": before})
    assert updated.status_code == 200 and updated.headers["ETag"] != before
    with search.Index(path).new_generation() as gen:
        gen.add_many(reader_articles()[:5])
    rebuilt = client.get("/api/search?q=khoa+hoc", headers={"If-None-Match": updated.headers["ETag"]})
    assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] not in (before, updated.headers["ETag"])


# --- gzip ---------------------------------------------------------------------------------


def test_large_answers_are_gzipped_small_ones_not(client):
    big = client.get("/api/search?q=&from=2020-01-01&size=100", headers={"Accept-Encoding": "gzip"})
    assert big.headers["Content-Encoding"] == "gzip"
    data = json.loads(gzip.decompress(big.data))
    assert data["total"] >= 30
    assert "Accept-Encoding" in big.headers["Vary"]
    small = client.get("/api/suggest?q=zz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    plain = client.get("/api/search?q=&from=2020-01-01&size=100")
    assert "Content-Encoding" not in plain.headers
    assert {**plain.get_json(), "took_ms": 0} == {**data, "took_ms": 0}


# --- the API described -------------------------------------------------------------------------


def test_openapi_names_its_server_and_every_route(app, client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["servers"] == [{"url": "/", "description": "This server (paths are relative to it)."}]
    api_rules = {
        r.rule.replace("<article_id>", "{id}")
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("api.")
    }
    assert api_rules == set(doc["paths"])


def test_docs_page_renders_the_document_without_any_cdn(client):
    doc = html(client, "/api/docs")
    text = doc.text_content()
    for path in client.get("/api/openapi.json").get_json()["paths"]:
        assert path in text
    assert "SuggestResponse" in text and "title_derived" in text
    external = [u for u in doc.xpath("//script/@src | //link/@href | //img/@src") if "//" in u]
    assert external == []


# --- the small things ------------------------------------------------------------------------


def test_empty_parameters_redirect_to_the_canonical_url(client):
    response = client.get("/?q=khoa+hoc&from=&to=&category=&sort=relevance")
    assert response.status_code == 302 and response.headers["Location"] == "/?q=khoa+hoc"
    assert client.get("/?from=&to=&category=").headers["Location"] == "/"


def test_presets_on_an_old_archive_find_articles(client):
    """The newest fixture article is from yesterday; an archive ending in 2024 anchors to it."""
    doc = html(client, "/?q=khoa+hoc")
    labels = doc.xpath("//nav[@class='presets']/a/text()")
    assert labels[:2] == ["7 ngày qua", "30 ngày qua"]


def test_favicon(client):
    with client.get("/favicon.ico") as icon:
        assert icon.mimetype == "image/svg+xml"
    assert html(client, "/").xpath("//link[@rel='icon']/@href") == ["/static/favicon.svg"]


def test_a_cached_answer_does_not_say_zero_seconds(client):
    client.get("/?q=bong+da")
    doc = html(client, "/?q=bong+da")  # the same search: the worker's cache answers it
    took = doc.xpath("string(//span[@class='took'])")
    assert "0,000" not in took and "giây" in took


def test_filters_sit_behind_a_disclosure_open_only_while_one_is_set(client):
    assert html(client, "/?q=khoa+hoc").xpath("//details[@class='filter-box']/@open") == []
    assert html(client, "/?q=khoa+hoc&category=Khoa+h%E1%BB%8Dc").xpath(
        "//details[@class='filter-box']/@open"
    )
    assert html(client, "/?q=a&from=bad", status=400).xpath("//details[@class='filter-box']/@open")


def test_no_index_page_copies_the_static_files(tmp_path):
    """The package data includes the new static files (pyproject's web/static/*)."""
    static = Path(create_app({"INDEX": str(tmp_path)}).static_folder)
    for name in ("suggest.js", "favicon.svg", "style.css"):
        assert (static / name).is_file()
