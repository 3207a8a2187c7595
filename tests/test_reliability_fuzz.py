"""Fuzzing (hypothesis) of the query language and every API parameter, through the web app and
straight into ``search.Index.search``; and the cost of queries built to be expensive.

What is pinned down: no input makes a 500; every 4xx from the API has the JSON error shape
``{"error": {"code", "message"}}``; the core lets only ``QueryError`` escape; wildcard, fuzzy and
regex characters are plain text that expands over nothing; hundreds of terms and deep pages are
capped and cost bounded time.

CI runs a few hundred examples per property; ``pytest -m slow`` runs 10,000 and more.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import unicodedata

import pytest
from factories import article
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_fixtures import XSS_ID, shared_index

import search
from web import create_app

CI_EXAMPLES = 300
LONG_EXAMPLES = 10_000

# --- strategies ------------------------------------------------------------------------------

NFD = unicodedata.normalize("NFD", "Hà Nội khoa học Đà Nẵng tiếng Việt")
PIECES = [
    '"', '""', '"khoa', 'học"', "-", "--", "-khoa", "OR", "OR OR", "AND", "NOT", "title:", "title:\"",
    'title:""', "tieude:", "tiêu_đề:", "TITLE:", "x:", ":", "::", "(", ")", "*", "?", "~", "~2", "/re/",
    "/.*/", "kh*", "kho?", "khoa~", "^", "\\", "'", "`", "+", "&", "|", "!", "{", "}", "[", "]", "%",
    "%00", "\x00", "\x01", "\x1b", "\x7f", "\t", "\n", "\r\n", "\u200b", "\u200d", "\u2060", "\ufeff",
    "\u202e", "\u202d", "\u2066", "\u200f", "\u00a0", "\u3000", "😀", "👩‍👩‍👧", "🇻🇳", "שלום", "مرحبا",
    "עברית khoa", "ـ", NFD, "khoa học", "khoa hoc", "Đảng ủy", "TP.HCM", "COVID-19", "13/11/2023",
    "2023-02-30", "2023-02-29", "2024-02-29", "0", "-1", "10", "1e9", str(10**9), "9" * 40, "١٢٣",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "&lt;", "&#x3C;", "javascript:",
    "ｋｈｏａ", "K", "ǅ", "ß", "İ", "ﬁ", "̀", "̉̃", "ð", "Ω",
]  # fmt: skip
DATE_VALUES = [
    "", " ", "2023-02-30", "2023-02-29", "2024-02-29", "2023-13-01", "2023-00-10", "0000-01-01",
    "0001-01-01", "9999-12-31", "10000-01-01", "13/11/2023", "2023/11/13", "20231113", "2023-1-1",
    "2023-11-13T10:00", "2023-11-13 ", "－2023-11-13", "２０２３-１１-１３", "١٢٣٤-٠١-٠١", "-1", "0",
    str(10**9), "null", "NaN", "<script>", "\x00",
]  # fmt: skip
NUMBER_VALUES = [
    "", " ", "0", "1", "-1", "+1", "01", "1.0", "1e3", "0x10", "100", "101", "1000", "1001",
    str(10**9), "9" * 40, "١", "²", "Ⅷ", "５", " 5 ", "5\x00", "NaN", "inf", "true", "[]",
]  # fmt: skip
SORT_VALUES = ["", "relevance", "newest", "oldest", "NEWEST", " newest", "random", "-date", "\x00"]

# Lone surrogates cannot be sent in a URL (they are not UTF-8), so the HTTP fuzz leaves them out.
HTTP_CHARS = st.characters(blacklist_categories=("Cs",))
hostile_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(HTTP_CHARS, max_size=8)), max_size=12).map(
    lambda parts: " ".join(parts)
)
queries = st.one_of(
    hostile_text,
    st.text(HTTP_CHARS, max_size=60),
    st.text(HTTP_CHARS, min_size=450, max_size=560),  # around the 500-character cap
    st.lists(st.sampled_from(PIECES), min_size=100, max_size=260).map(" ".join),  # hundreds of terms
    st.text(st.sampled_from(NFD + "\u0300\u0301\u0303\u0309\u0323"), max_size=80),
)


def values(fixed: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(fixed), st.text(HTTP_CHARS, max_size=12))


search_params = st.fixed_dictionaries(
    {},
    optional={
        "q": queries,
        "from": values(DATE_VALUES),
        "to": values(DATE_VALUES),
        "category": st.one_of(st.sampled_from(["Khoa học", "Thời sự", ""]), hostile_text),
        "sort": values(SORT_VALUES),
        "page": values(NUMBER_VALUES),
        "size": values(NUMBER_VALUES),
        "unknown": hostile_text,
    },
)
article_ids = st.one_of(
    st.sampled_from([XSS_ID, "kh-1", "ts-moi", "..", ".", "%2e%2e", "a" * 300]),
    st.text(HTTP_CHARS, min_size=1, max_size=30),
).filter(lambda s: "/" not in s and "?" not in s and "#" not in s)
requests = st.one_of(
    st.tuples(st.sampled_from(["/", "/api/search"]), search_params),
    st.tuples(
        article_ids.map(lambda i: f"/api/articles/{i}"), st.fixed_dictionaries({}, optional={"x": queries})
    ),
    st.tuples(
        article_ids.flatmap(
            lambda i: st.sampled_from([f"/api/articles/{i}/related", f"/articles/{i}/related"])
        ),
        st.fixed_dictionaries({}, optional={"size": values(NUMBER_VALUES)}),
    ),
)


# --- the web app -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """Run as in production: exceptions become 500 responses instead of propagating."""
    return create_app({"INDEX": str(shared_index(tmp_path_factory))}).test_client()


def check_response(client: FlaskClient, path: str, params: dict[str, str]) -> None:
    response = client.get(path, query_string=params)
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (path, params, body[:300])
    assert "Traceback" not in body
    is_api = path.startswith("/api/")
    if is_api:
        assert response.mimetype == "application/json", (path, params)
        data = json.loads(body)
        if response.status_code >= 400:
            assert set(data) == {"error"}, data
            assert {"code", "message"} <= set(data["error"]) <= {"code", "message", "param"}, data
            assert all(isinstance(v, str) and v for v in data["error"].values()), data
    elif response.status_code >= 400:
        assert response.mimetype == "text/html"


def run_http_fuzz(client: FlaskClient, examples: int) -> int:
    tried = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests)
    def prop(request: tuple[str, dict[str, str]]) -> None:
        nonlocal tried
        tried += 1
        check_response(client, *request)

    prop()
    return tried


def test_no_query_or_parameter_makes_a_500_and_every_api_error_is_json(client):
    assert run_http_fuzz(client, CI_EXAMPLES) >= CI_EXAMPLES


@pytest.mark.slow
def test_no_query_or_parameter_makes_a_500_long_run(client):
    started = time.monotonic()
    tried = run_http_fuzz(client, LONG_EXAMPLES)
    print(f"\nHTTP fuzz: {tried} examples in {time.monotonic() - started:.0f} s")
    assert tried >= LONG_EXAMPLES


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "khoa hoc", "page": str(10**9)}, 400),
        ({"q": "khoa hoc", "size": "-1"}, 400),
        ({"q": "khoa hoc", "size": "0"}, 400),
        ({"q": "khoa hoc", "from": "2023-02-30"}, 400),
        ({"q": "khoa hoc", "from": "13/11/2023"}, 400),
        ({"q": "title:"}, 200),  # nothing after the colon: the plain word "title" (see the report)
        ({"q": 'title:""'}, "notice"),
        ({"q": '"'}, "notice"),
        ({"q": "-"}, "notice"),
        ({"q": "OR"}, "notice"),
        ({"q": "x" * 501}, 400),
        ({"q": '"khoa hoc'}, 200),  # an unbalanced quote closes at the end
        ({"q": "😀 khoa hoc \u202e\u200b"}, 200),
        ({"q": NFD}, 200),
        ({"q": "2023"}, 200),
        ({"q": "khoa hoc", "page": "1000"}, 200),  # the last page allowed: empty, not an error
    ],
)
def test_named_hostile_inputs_get_a_200_or_a_json_400(client, params, status):
    """ "notice": nothing to search for. Any q is a valid string to the OpenAPI document, so the API
    answers it with no hits and a notice; the page shows the form again with the reason (400)."""
    response = client.get("/api/search", query_string=params)
    assert response.status_code == (200 if status == "notice" else status), response.get_json()
    if status == 400:
        assert {"code", "message"} <= set(response.get_json()["error"]) <= {"code", "message", "param"}
    if status == "notice":
        assert response.get_json()["total"] == 0 and response.get_json()["notice"]
    assert client.get("/", query_string=params).status_code == (400 if status == "notice" else status)


def test_nfd_query_finds_what_the_nfc_query_finds(client):
    nfc = client.get("/api/search", query_string={"q": "khoa học"}).get_json()
    nfd = client.get("/api/search", query_string={"q": unicodedata.normalize("NFD", "khoa học")}).get_json()
    assert nfd["total"] == nfc["total"] > 0
    assert [h["id"] for h in nfd["hits"]] == [h["id"] for h in nfc["hits"]]


# --- the core, called directly ----------------------------------------------------------------

ANY_CHARS = st.characters()  # lone surrogates included: a Python caller can pass them
core_queries = st.one_of(queries, st.text(ANY_CHARS, max_size=40), st.none(), st.integers(), st.just(b"x"))
core_dates = st.one_of(
    st.none(),
    st.sampled_from(DATE_VALUES),
    st.dates(),
    st.datetimes(),
    st.integers(),
    st.text(ANY_CHARS, max_size=12),
)
core_numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(NUMBER_VALUES),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@pytest.fixture(scope="module")
def core_index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    return search.Index(shared_index(tmp_path_factory))


def run_core_fuzz(ix: search.Index, examples: int) -> int:
    tried = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        q=core_queries,
        date_from=core_dates,
        date_to=core_dates,
        category=st.one_of(st.none(), st.text(ANY_CHARS, max_size=20), st.just("Khoa học")),
        sort=st.one_of(st.sampled_from(["relevance", "newest", "oldest"]), st.text(max_size=8), st.none()),
        page=core_numbers,
        per_page=core_numbers,
    )
    def prop(q, date_from, date_to, category, sort, page, per_page) -> None:
        nonlocal tried
        tried += 1
        try:
            res = ix.search(
                q,
                date_from=date_from,
                date_to=date_to,
                category=category,
                sort=sort,
                page=page,
                per_page=per_page,
            )
        except search.QueryError:
            return
        assert res.total >= 0 and len(res.hits) <= res.per_page <= 100
        for hit in res.hits:
            assert "<script" not in hit.title_html + hit.snippet_html

    prop()
    return tried


def test_core_search_lets_only_query_error_escape(core_index):
    assert run_core_fuzz(core_index, CI_EXAMPLES) >= CI_EXAMPLES


@pytest.mark.parametrize("name", ["page", "per_page"])
def test_core_refuses_an_infinite_page_or_size_with_query_error(core_index, name):
    with pytest.raises(search.QueryError):
        core_index.search("khoa học", **{name: float("inf")})


@pytest.mark.slow
def test_core_search_lets_only_query_error_escape_long_run(core_index):
    started = time.monotonic()
    tried = run_core_fuzz(core_index, LONG_EXAMPLES)
    print(f"\ncore fuzz: {tried} examples in {time.monotonic() - started:.0f} s")
    assert tried >= LONG_EXAMPLES


# --- denial of service -----------------------------------------------------------------------

TEXT = (
    "khoa học công nghệ giáo dục thể thao kinh tế thời sự bóng đá vệ tinh nghiên cứu sinh viên "
    "học sinh thành phố Hà Nội Đà Nẵng Huế Cần Thơ lũ lụt bão mưa nắng giá vàng xuất khẩu gạo "
    "lãi suất ngân hàng doanh nghiệp đầu tư chính sách luật quốc hội đường sắt đô thị pháo hoa"
)
WORDS = TEXT.split(" ")


@pytest.fixture(scope="module")
def dos_index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    """A few hundred articles over a shared vocabulary, plus words sharing the prefix "khoa"."""
    path = tmp_path_factory.mktemp("dos") / "ix"
    arts = [
        article(
            f"n{i}",
            " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(8)),
            " ".join(WORDS[(i * 13 + k * 3) % len(WORDS)] for k in range(40)) + ".",
            date=f"{2020 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        )
        for i in range(300)
    ]
    arts += [
        article("prefix-khoai", "Khoai lang", "Ruộng khoai lang xanh tốt."),
        article("prefix-khoang", "Khoang tàu", "Khoang tàu rộng rãi."),
        article("prefix-khoan", "Máy khoan", "Máy khoan mới."),
        article("tilde", "Dấu ngã", "Ký tự ~ và * và ? trong văn bản."),
    ]
    ix = search.Index(path, workers=2)
    with ix.new_generation() as gen:
        gen.add_many(arts)
    return ix


def timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def best_of(n: int, fn, *args, **kwargs) -> float:
    return min(timed(fn, *args, **kwargs) for _ in range(n))


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("kho*", "kho"),
        ("kho?", "kho"),
        ("khoa~", "khoa"),
        ("khoa~2", "khoa 2"),
        ("/kho.*/", "kho"),
        ("/.*/", None),
        ("k*", "k"),
        ("*", None),
        ("?", None),
    ],
)
def test_wildcard_fuzzy_and_regex_characters_expand_over_nothing(dos_index, query, text):
    """``*``, ``?``, ``~`` and ``/re/`` match what their letters match as plain text, no more."""
    try:
        res = dos_index.search(query, per_page=100)
    except search.QueryError:
        assert text is None  # nothing but operator characters: refused, which costs nothing
        return
    ids = {h.id for h in res.hits}
    assert not ids & {"prefix-khoai", "prefix-khoang", "prefix-khoan"}, (query, ids)
    if text is not None:
        assert res.total <= dos_index.search(text).total
    plain = best_of(3, dos_index.search, "khoa học")
    assert best_of(3, dos_index.search, query) < plain * 3 + 0.05


def test_hundreds_of_terms_cost_about_as_much_as_thirty_two(dos_index):
    words_32 = " ".join(WORDS[:32])
    many = " ".join(WORDS[k % len(WORDS)] + str(k) for k in range(120))[:500]  # ~120 distinct words
    repeated = " ".join(WORDS * 3)[:500]
    base = best_of(3, dos_index.search, words_32)
    for q in (many, repeated):
        assert best_of(3, dos_index.search, q) < base * 4 + 0.2, q[:60]
    with pytest.raises(search.QueryError):
        dos_index.search("a " * 251)  # 502 characters: refused before any work


@pytest.mark.parametrize(
    "query",
    [
        " ".join(f'"{WORDS[k]} {WORDS[k + 1]}"' for k in range(0, 60, 2))[:500],  # ~30 phrases
        " ".join(f"title:{w}" for w in WORDS)[:500],
        " ".join(f"-{w}" for w in WORDS)[:500],
        " OR ".join(WORDS)[:500],
    ],
    ids=["phrases", "title-clauses", "exclusions", "ors"],
)
def test_many_operators_cost_bounded_time(dos_index, query):
    base = best_of(3, dos_index.search, " ".join(WORDS[:32]))
    try:
        elapsed = best_of(3, dos_index.search, query)
    except search.QueryError:
        return
    assert elapsed < base * 5 + 0.3, f"{elapsed:.3f} s vs {base:.3f} s for 32 plain words"


def test_deep_pages_are_refused_or_empty_and_cheap(client, dos_index):
    # page and size each in range but too deep together: no hits and a notice (the OpenAPI document
    # cannot forbid the product, so the API does not refuse it); the page refuses it (400)
    for page, size, status in ((1001, 10, 400), (1000, 100, 200), (101, 100, 200), (1000, 10, 200)):
        started = time.monotonic()
        response = client.get("/api/search", query_string={"q": "khoa", "page": page, "size": size})
        assert response.status_code == status, (page, size)
        assert time.monotonic() - started < 5.0
        if status == 200 and page * size > 10_000:
            assert response.get_json()["hits"] == [] and response.get_json()["notice"]
            assert client.get("/", query_string={"q": "khoa", "page": page, "size": size}).status_code == 400
    with pytest.raises(search.QueryError):
        dos_index.search("khoa học", page=101, per_page=100)
    assert best_of(3, dos_index.search, "khoa học", page=1000, per_page=10) < 0.5


def test_dates_far_apart_are_cheap(dos_index):
    assert timed(dos_index.search, "", date_from=dt.date(1, 1, 1), date_to=dt.date(9999, 12, 31)) < 1.0
