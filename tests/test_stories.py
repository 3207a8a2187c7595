"""Stories: a republished, lightly edited article is grouped with its original; the page and the API
show one hit per story with the others counted, and list the story on demand; the Atom feed of a
search holds its newest articles."""

from __future__ import annotations

import datetime as dt

import feedparser
import lxml.html
import numpy as np
import pytest
from factories import article

import search
from search import stories
from web import create_app

STORY = (
    "Chiều nay, mưa lớn kéo dài nhiều giờ khiến nước sông Hương dâng cao, nhiều tuyến phố ở trung tâm "
    "thành phố Huế bị ngập sâu. Ban chỉ huy phòng chống thiên tai đã sơ tán hơn hai trăm hộ dân ở vùng "
    "trũng thấp đến nơi an toàn, đồng thời cấm tàu thuyền ra khơi cho đến khi có thông báo mới. Lực "
    "lượng cứu hộ túc trực suốt đêm tại các điểm xung yếu, các trường học cho học sinh nghỉ học một ngày."
)
# The same report as another outlet republished it: a word changed here and there (under 10 %).
COPY = (
    "Chiều qua, mưa lớn kéo dài nhiều giờ khiến nước sông Hương dâng cao, nhiều tuyến đường ở trung tâm "
    "thành phố Huế bị ngập sâu. Ban chỉ huy phòng chống thiên tai đã sơ tán hơn hai trăm hộ dân ở vùng "
    "trũng thấp tới nơi an toàn, đồng thời cấm tàu thuyền ra khơi cho đến khi có thông báo mới. Lực "
    "lượng cứu hộ túc trực suốt đêm tại các điểm xung yếu, nhiều trường học cho học sinh nghỉ một ngày."
)
OTHER = (
    "Mưa lớn ở Huế chiều nay làm nước sông Hương lên nhanh; chính quyền đưa người dân vùng thấp đi sơ "
    "tán, tàu cá được gọi về bờ và học sinh được nghỉ học. Theo đài khí tượng, mưa còn kéo dài đến cuối "
    "tuần, lượng mưa phổ biến từ một trăm đến hai trăm milimét, có nơi trên ba trăm milimét."
)


def articles() -> list[dict]:
    return [
        article("hue-1", "Mưa lớn, phố Huế ngập sâu", STORY, "2025-10-27", source="Báo A"),
        article("hue-2", "Huế ngập sâu sau mưa lớn", COPY, "2025-10-28", source="Báo B"),
        article("hue-3", "Phố Huế ngập sau trận mưa lớn", STORY, "2025-10-26", source="Báo C"),
        article("hue-own", "Huế sơ tán dân vì mưa lớn", OTHER, "2025-10-27", source="Báo D"),
        article("brief", "Tin ngắn", "Mưa lớn ở Huế.", "2025-10-29"),
    ]


@pytest.fixture(scope="module")
def ix(tmp_path_factory) -> search.Index:
    index = search.Index(tmp_path_factory.mktemp("stories"), workers=1)
    with index.new_generation() as gen:
        gen.add_many(articles())
    return index


def test_a_lightly_edited_copy_has_a_near_identical_signature_and_another_report_does_not():
    def sig(text: str) -> np.ndarray:
        return np.frombuffer(stories.signature(text.lower().split()), "<u2")

    original, copy, other = sig(STORY), sig(COPY), sig(OTHER)
    assert (original == copy).mean() >= stories.SIMILARITY
    assert (original == other).mean() < stories.SIMILARITY / 2
    assert stories.signature(["mưa", "lớn", "ở", "Huế"]) == stories.NO_SIGNATURE


def test_a_huge_article_is_signed_in_bounded_chunks():
    words = [f"w{i % 5000}" for i in range(300_000)]
    assert len(stories.signature(words)) == stories.SIGNATURE_BYTES


def test_labels_join_chains_of_copies_and_leave_strangers_alone():
    rng = np.random.default_rng(7)
    base = rng.integers(1, 2**16, stories.NUM_PERM, dtype=np.uint16)
    near = base.copy()
    near[:30] = rng.integers(1, 2**16, 30, dtype=np.uint16)  # 77 % of values agree
    stranger = rng.integers(1, 2**16, stories.NUM_PERM, dtype=np.uint16)
    unsigned = np.zeros(stories.NUM_PERM, np.uint16)
    sigs = np.stack([stranger, base, unsigned, near, unsigned])
    labels = stories.labels(sigs, np.ones(5, bool))
    assert list(labels) == [0, 1, 2, 1, 4]
    dead = stories.labels(sigs, np.array([True, False, True, True, True]))
    assert dead[3] == 3  # a deleted article links nothing


def test_search_shows_one_hit_per_story_and_counts_the_copies(ix):
    res = ix.search("mưa lớn Huế")
    assert res.total == 5 and res.stories == 3
    assert len({h.id for h in res.hits} & {"hue-1", "hue-2", "hue-3"}) == 1
    counts = {h.id: h.same_story for h in res.hits}
    assert sorted(counts.values()) == [0, 0, 2] and counts["hue-own"] == 0
    assert res.pages == 1 and ix.search("mưa lớn Huế", per_page=1).pages == 3


def test_the_newest_of_a_story_stands_for_it_when_sorted_newest(ix):
    res = ix.search("mưa lớn Huế", sort="newest")
    assert [h.id for h in res.hits] == ["brief", "hue-2", "hue-own"]
    assert ix.search("mưa lớn Huế", sort="oldest").hits[0].id == "hue-3"


def test_group_off_shows_every_article_and_a_story_lists_its_members(ix):
    every = ix.search("mưa lớn Huế", group=False)
    assert len(every.hits) == every.total == 5 and every.stories is None
    story = ix.search("mưa lớn Huế", story="hue-3", sort="oldest")
    assert [h.id for h in story.hits] == ["hue-3", "hue-1", "hue-2"] and story.stories is None
    with pytest.raises(search.QueryError) as missing:
        ix.search("", story="no-such-id")
    assert missing.value.param == "story"


def test_an_upserted_copy_joins_its_story_after_the_commit(tmp_path):
    index = search.Index(tmp_path, workers=1)
    with index.new_generation() as gen:
        gen.add_many(articles()[:1] + articles()[3:])
    assert index.search("sông Hương").stories == 2
    with index.updating() as up:
        up.upsert(article("late", "Huế ngập", COPY, "2025-10-30"))
    res = index.search("sông Hương")
    assert res.total == 3 and res.stories == 2
    assert {h.id: h.same_story for h in res.hits}["late"] == 1


@pytest.fixture(scope="module")
def client(ix):
    return create_app({"INDEX": ix.path, "TESTING": True}).test_client()


def test_the_page_links_the_copies_of_a_story_and_back(client):
    doc = lxml.html.fromstring(client.get("/?q=mua+lon+Hue").get_data(as_text=True))
    links = doc.xpath("//a[@class='same-story']")
    assert [a.text_content() for a in links] == ["và 2 bài cùng nội dung"]
    story = lxml.html.fromstring(client.get(links[0].get("href")).get_data(as_text=True))
    assert len(story.xpath("//li[@class='hit']")) == 3
    back = story.xpath("//p[@class='story-view']/a/@href")
    assert back and "story" not in back[0]


def test_the_api_says_how_many_stories_and_copies(client):
    data = client.get("/api/search?q=mua+lon+Hue").get_json()
    assert data["total"] == 5 and data["stories"] == 3
    assert sorted(h["same_story"] for h in data["hits"]) == [0, 0, 2]
    flat = client.get("/api/search?q=mua+lon+Hue&group=0").get_json()
    assert flat["stories"] is None and len(flat["hits"]) == 5
    bad = client.get("/api/search?q=x&group=2")
    assert bad.status_code == 400 and bad.get_json()["error"]["param"] == "group"


def test_the_feed_of_a_search_is_valid_atom_with_its_newest_articles(client):
    page = lxml.html.fromstring(client.get("/?q=mua+lon+Hue&sort=oldest&page=1").get_data(as_text=True))
    href = page.xpath("//link[@rel='alternate' and @type='application/atom+xml']/@href")[0]
    assert page.xpath("//p[@class='follow']/a/@href") == [href] and "sort" not in href
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert [e.link.rsplit("/", 1)[-1] for e in feed.entries] == ["brief", "hue-2", "hue-own"]
    assert feed.entries[1].published_parsed[:3] == (2025, 10, 27)  # 00:00 in Vietnam is 17:00 UTC
    assert feed.feed.title == "vnsearch: mua lon Hue"
    assert any(link.rel == "self" for link in feed.feed.links)


def test_a_feed_reader_revalidating_an_unchanged_feed_gets_304(client):
    first = client.get("/feed.atom?q=sông+Hương")
    assert first.headers["ETag"]
    again = client.get("/feed.atom?q=sông+Hương", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    other = client.get("/feed.atom?q=thành+phố")
    assert other.headers["ETag"] != first.headers["ETag"]


def test_undated_articles_stay_out_of_the_feed(tmp_path):
    index = search.Index(tmp_path, workers=1)
    with index.new_generation() as gen:
        gen.add_many([article("dated", "Huế", STORY, "2025-10-27"), article("undated", "Huế", OTHER, None)])
    client = create_app({"INDEX": index.path, "TESTING": True}).test_client()
    feed = feedparser.parse(client.get("/feed.atom?q=Huế").data)
    assert [e.link.rsplit("/", 1)[-1] for e in feed.entries] == ["dated"]
    assert dt.datetime(*feed.feed.updated_parsed[:6]) == dt.datetime(2025, 10, 26, 17)


def test_related_articles_are_other_stories_not_copies_of_this_one(ix):
    related = [h.id for h in ix.related("hue-1", n=5)]
    assert "hue-own" in related and not {"hue-1", "hue-2", "hue-3"} & set(related)
