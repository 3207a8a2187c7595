"""JSON API through Flask's test client: every endpoint, parameter and error, checked
against the OpenAPI schemas the app publishes."""

from __future__ import annotations

import jsonschema
import pytest
from flask.testing import FlaskClient
from web_fixtures import MIN_KHOA_HOC_HITS, articles, shared_index

from search import limits
from web import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    app = create_app({"INDEX": str(shared_index(tmp_path_factory)), "TESTING": True})
    return app.test_client()


@pytest.fixture(scope="module")
def openapi(client: FlaskClient) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def check_schema(document: dict, schema_name: str, instance: object) -> None:
    """Validate against components/schemas/<name>, resolving $refs within the document."""
    schema = {**document, "$ref": f"#/components/schemas/{schema_name}"}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


def response_schema(document: dict, path: str, status: int) -> str:
    """Name of the schema the document promises for ``path`` answering ``status``."""
    response = document["paths"][path]["get"]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def search(client: FlaskClient, **params: object) -> dict:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    return response.get_json()


def test_search_without_diacritics_finds_accented_words(client, openapi):
    data = search(client, q="khoa hoc")
    check_schema(openapi, response_schema(openapi, "/api/search", 200), data)
    assert data["query"] == "khoa hoc"
    assert data["total"] >= MIN_KHOA_HOC_HITS
    assert (data["page"], data["size"]) == (1, 10)
    assert len(data["hits"]) == 10
    assert data["took_ms"] >= 0
    first = data["hits"][0]
    assert "<mark" in first["title_html"] + first["snippet_html"]
    assert "khoa học" in (first["title_html"] + first["snippet_html"]).lower()
    assert set(data["facets"]) == {"years", "months", "categories"}
    assert sum(data["facets"]["categories"].values()) == data["total"]
    assert data["facets"]["categories"]["Khoa học"] == 8


def test_pages_cover_all_hits_once(client):
    total = search(client, q="khoa hoc")["total"]
    pages = [search(client, q="khoa hoc", size=5, page=page) for page in (1, 2, 3)]
    ids = [hit["id"] for page in pages for hit in page["hits"]]
    assert len(ids) == len(set(ids)) == min(total, 15)
    assert (pages[2]["page"], pages[2]["size"]) == (3, 5)


def test_search_past_last_page_is_empty(client):
    data = search(client, q="khoa hoc", page=50)
    assert data["total"] >= MIN_KHOA_HOC_HITS and data["hits"] == []


def test_date_range_is_inclusive(client):
    data = search(client, q="khoa hoc", **{"from": "2023-02-07", "to": "2023-11-13"})
    dates = [hit["date"] for hit in data["hits"]]
    assert dates and all("2023-02-07" <= d <= "2023-11-13" for d in dates)
    assert "2023-02-07" in dates and "2023-11-13" in dates


def test_empty_query_with_dates_browses_newest_first(client):
    data = search(client, **{"from": "2022-01-01", "to": "2022-12-31"})
    dates = [hit["date"] for hit in data["hits"]]
    assert data["total"] == sum(1 for a in articles() if a["date"] and a["date"].year == 2022)
    assert dates == sorted(dates, reverse=True)
    assert all(d.startswith("2022-") for d in dates)


def test_category_filter_agrees_with_the_category_facet(client):
    expected = search(client, q="khoa hoc")["facets"]["categories"]["Giáo dục"]
    data = search(client, q="khoa hoc", category="Giáo dục")
    assert data["total"] == expected
    assert {hit["category"] for hit in data["hits"]} == {"Giáo dục"}


@pytest.mark.parametrize(("sort", "descending"), [("newest", True), ("oldest", False)])
def test_sort_by_date(client, sort, descending):
    data = search(client, q="khoa hoc", sort=sort, size=50)
    dates = [hit["date"] for hit in data["hits"]]
    assert len(dates) == data["total"]
    assert dates == sorted(dates, reverse=descending)


def test_relevance_is_ordered_by_score(client):
    scores = [hit["score"] for hit in search(client, q="khoa hoc", sort="relevance")["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_no_match_is_an_empty_result_not_an_error(client):
    data = search(client, q="zzzyyyxxx")
    assert data["total"] == 0 and data["hits"] == []


def test_unknown_date_is_null(client, openapi):
    data = search(client, q="phao hoa")
    hit = next(hit for hit in data["hits"] if hit["id"] == "ts-28")
    assert hit["date"] is None
    check_schema(openapi, "SearchResponse", data)


BAD_SEARCHES = [
    ({"q": "x" * 501}, "q"),
    ({"from": "2023-13-01"}, "from"),
    ({"from": "13/01/2023"}, "from"),
    ({"to": "hôm qua"}, "to"),
    ({"sort": "random"}, "sort"),
    ({"page": "0"}, "page"),
    ({"page": "1001"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page": "two"}, "page"),
    ({"page": "9" * 5000}, "page"),
    ({"size": "0"}, "size"),
    ({"size": "101"}, "size"),
    ({"size": "1.5"}, "size"),
    ({"category": "c" * 201}, "category"),
]


@pytest.mark.parametrize(("params", "param"), BAD_SEARCHES)
def test_bad_parameters_are_400_with_a_plain_message(client, openapi, params, param):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    check_schema(openapi, response_schema(openapi, "/api/search", 400), body)
    assert body["error"]["code"] == "bad_parameter"
    assert body["error"]["message"].startswith(f"{param}: ")
    assert body["error"]["param"] == param
    assert "Traceback" not in response.get_data(as_text=True)


def test_limits_are_inclusive(client):
    assert client.get("/api/search", query_string={"q": "a" * 500}).status_code == 200
    assert client.get("/api/search", query_string={"q": "x", "size": 100}).status_code == 200
    assert client.get("/api/search", query_string={"q": "x", "page": 1000}).status_code == 200
    assert client.get("/api/search", query_string={"q": "x", "page": 100, "size": 100}).status_code == 200


def test_openapi_states_the_core_limits(openapi):
    params = {p["name"]: p for p in openapi["paths"]["/api/search"]["get"]["parameters"]}
    assert params["q"]["schema"]["maxLength"] == limits.MAX_QUERY_CHARS
    assert params["page"]["schema"]["anyOf"][0]["maximum"] == limits.MAX_PAGE  # or empty: the default
    assert params["size"]["schema"]["anyOf"][0]["maximum"] == limits.MAX_PER_PAGE
    assert str(limits.MAX_DEPTH) in params["page"]["description"]
    assert params["category"]["schema"]["maxLength"] == limits.MAX_CATEGORY_CHARS


def test_article(client, openapi):
    response = client.get("/api/articles/kh-1")
    assert response.status_code == 200
    data = response.get_json()
    check_schema(openapi, response_schema(openapi, "/api/articles/{id}", 200), data)
    assert data["id"] == "kh-1"
    assert data["date"] == "2021-03-14"
    assert data["title"].startswith("Các nhà khoa học")
    assert data["body"] and data["summary"]


def test_unknown_article_is_404(client, openapi):
    for path in ("/api/articles/khong-co", "/api/articles/khong-co/related"):
        response = client.get(path)
        assert response.status_code == 404
        body = response.get_json()
        check_schema(openapi, "Error", body)
        assert body["error"]["code"] == "not_found"
        assert "khong-co" in body["error"]["message"]


def test_related(client, openapi):
    response = client.get("/api/articles/kh-1/related", query_string={"size": 3})
    assert response.status_code == 200
    data = response.get_json()
    check_schema(openapi, response_schema(openapi, "/api/articles/{id}/related", 200), data)
    assert data["id"] == "kh-1"
    assert 1 <= len(data["hits"]) <= 3
    assert "kh-1" not in {hit["id"] for hit in data["hits"]}


def test_related_size_is_checked(client):
    response = client.get("/api/articles/kh-1/related", query_string={"size": 500})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("size: ")


def test_healthz(client, openapi):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    check_schema(openapi, response_schema(openapi, "/healthz", 200), data)
    assert data["status"] == "ok"
    assert data["articles"] == len(articles())
    assert data["generation"]


def test_healthz_of_an_empty_index(tmp_path, openapi):
    client = create_app({"INDEX": str(tmp_path / "nothing-yet"), "TESTING": True}).test_client()
    data = client.get("/healthz").get_json()
    assert data == {"status": "ok", "generation": None, "articles": 0}
    check_schema(openapi, "Health", data)


def test_unknown_api_path_is_json_404(client, openapi):
    response = client.get("/api/nope")
    assert response.status_code == 404
    check_schema(openapi, "Error", response.get_json())


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/api/search", "/api/articles/kh-1", "/healthz"])
def test_only_get_and_head(client, openapi, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}
    body = response.get_json()
    check_schema(openapi, "Error", body)
    assert body["error"]["code"] == "method_not_allowed"


def test_head(client):
    response = client.head("/api/search?q=khoa+hoc")
    assert response.status_code == 200 and response.data == b""


def test_openapi_describes_every_api_route(client, openapi):
    jsonschema.Draft202012Validator.check_schema({"$defs": openapi["components"]["schemas"]})
    assert openapi["openapi"].startswith("3.")
    routes = {
        rule.rule.replace("<article_id>", "{id}")
        for rule in client.application.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(openapi["paths"])


def test_vietnamese_is_not_escaped_in_json(client):
    assert "Khoa học".encode() in client.get("/api/search?q=khoa+hoc").data


def test_a_range_typed_backwards_is_the_same_range(client):
    """from and to are the two ends of a range: the OpenAPI document cannot forbid from > to, so
    the API takes them in either order rather than refusing what the schema allows."""
    forwards = client.get("/api/search", query_string={"from": "2023-04-01", "to": "2023-05-01"})
    backwards = client.get("/api/search", query_string={"from": "2023-05-01", "to": "2023-04-01"})
    assert backwards.status_code == 200
    assert backwards.get_json()["total"] == forwards.get_json()["total"]
    assert [h["id"] for h in backwards.get_json()["hits"]] == [h["id"] for h in forwards.get_json()["hits"]]


@pytest.mark.parametrize("q", ["((( *", "\x1e°", "-"])
def test_a_query_without_words_finds_nothing_and_says_why(client, openapi, q):
    """Any string up to 500 characters is a valid q to the schema, so it is not refused."""
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    body = response.get_json()
    check_schema(openapi, response_schema(openapi, "/api/search", 200), body)
    assert body["total"] == 0 and body["hits"] == [] and body["notice"]


@pytest.mark.parametrize(("page", "size"), [(1000, 100), (101, 100), (265, 76)])
def test_a_page_past_the_served_depth_has_no_hits_and_says_why(client, openapi, page, size):
    """page and size each within their range are valid to the schema together too: such a page
    is answered like a page past the last one (no hits), with the reason."""
    response = client.get("/api/search", query_string={"q": "khoa hoc", "page": page, "size": size})
    assert response.status_code == 200
    body = response.get_json()
    check_schema(openapi, response_schema(openapi, "/api/search", 200), body)
    assert body["hits"] == [] and body["total"] >= 13 and (body["page"], body["size"]) == (page, size)
    assert "10000" in body["notice"]
