"""The app factory: where config comes from, and the one index per process that follows
new generations and commits without a restart."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from flask.testing import FlaskClient
from web_fixtures import articles, build_index

import search
from web import create_app
from web.index import IndexHolder


def test_index_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VNSEARCH_INDEX", str(tmp_path / "from-env"))
    assert create_app().config["INDEX"] == str(tmp_path / "from-env")


def test_mapping_wins_over_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VNSEARCH_INDEX", str(tmp_path / "from-env"))
    app = create_app({"INDEX": str(tmp_path / "given")})
    assert app.config["INDEX"] == str(tmp_path / "given")
    assert app.extensions["vnsearch"].path == str(tmp_path / "given")


def test_default_index_path(monkeypatch):
    monkeypatch.delenv("VNSEARCH_INDEX", raising=False)
    assert create_app().config["INDEX"] == ".vnsearch/index"


def test_one_index_per_process(tmp_path, monkeypatch):
    holder = IndexHolder(str(tmp_path), cache_size=16)
    first = holder.get()
    assert holder.get() is first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a freshly forked worker
    assert holder.get() is not first


def test_the_index_is_opened_on_first_request(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(search, "Index", lambda path: opened.append(path))
    create_app({"INDEX": str(tmp_path)})
    assert opened == []


def found_ids(client: FlaskClient, query: str) -> list[str]:
    hits = client.get("/api/search", query_string={"q": query}).get_json()["hits"]
    return [hit["id"] for hit in hits]


@pytest.fixture
def live_index(tmp_path):
    return build_index(tmp_path / "index")


def test_new_generation_is_served_without_restart(live_index):
    client = create_app({"INDEX": str(live_index), "TESTING": True}).test_client()
    before = client.get("/healthz").get_json()
    assert "moi-1" not in found_ids(client, "khinh khi cau")

    balloon = {
        "id": "moi-1",
        "title": "Lễ hội khinh khí cầu ở Huế",
        "body": "Khinh khí cầu bay trên sông Hương.",
        "date": dt.date(2024, 12, 1),
        "category": "Văn hóa",
        "source": "Báo Mẫu",
        "url": "https://tin.example.vn/moi-1",
    }
    with search.Index(str(live_index)).new_generation() as gen:
        gen.add_many([*articles(), balloon])

    after = client.get("/healthz").get_json()
    assert after["generation"] != before["generation"]
    assert after["articles"] == before["articles"] + 1
    assert found_ids(client, "khinh khi cau")[0] == "moi-1"
    assert "Văn hóa" in client.get("/").get_data(as_text=True)


def test_commit_is_served_without_restart(live_index):
    client = create_app({"INDEX": str(live_index), "TESTING": True}).test_client()
    assert client.get("/api/articles/kh-1").status_code == 200
    with search.Index(str(live_index)).updating() as writer:
        writer.delete("kh-1")
    assert client.get("/api/articles/kh-1").status_code == 404
    assert client.get("/articles/kh-1/related").status_code == 404


def test_empty_index_pages(tmp_path):
    client = create_app({"INDEX": str(tmp_path / "empty"), "TESTING": True}).test_client()
    assert "chưa có bài nào" in client.get("/").get_data(as_text=True)
    response = client.get("/?q=khoa+hoc")
    assert response.status_code == 200 and "Không có kết quả" in response.get_data(as_text=True)
    assert client.get("/api/search?q=khoa+hoc").get_json()["total"] == 0
