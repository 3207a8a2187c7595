"""What a search returns: plain dataclasses, with JSON-ready dicts for the API and the CLI."""

import datetime as dt
from dataclasses import asdict, dataclass, field


@dataclass
class Hit:
    id: str
    title: str
    url: str | None
    date: dt.date | None
    category: str | None
    source: str | None
    score: float
    title_html: str  # escaped, <mark> around matches
    snippet_html: str  # escaped, <mark> around matches, about 200 characters
    same_story: int = 0  # other articles of its story in the results, not shown (search.stories)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["date"] = self.date.isoformat() if self.date else None
        d["score"] = round(self.score, 4)
        return d


@dataclass
class Results:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    relaxed: bool = False  # no article held every word: these hold ``required``, not ``dropped``
    required: list[str] = field(default_factory=list)  # the words every result holds
    dropped: list[str] = field(default_factory=list)  # words left out because no article held all
    min_words: int = 0  # each result holds at least this many of ``required`` (all, unless long)
    approximate: bool = False  # the work budget ran out: some results hold the words' syllables apart
    searched: str | None = None  # the query as searched, when words were decoded or are synonyms
    rewrites: list[dict] = field(default_factory=list)  # each: typed, searched, how, also
    stories: int | None = None  # grouped by story: how many stories the ``total`` articles make

    @property
    def pages(self) -> int:
        shown = self.total if self.stories is None else self.stories
        return -(-shown // self.per_page)

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "size": self.per_page,
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
            "suggestion": self.suggestion,
            "relaxed": self.relaxed,
            "required": self.required,
            "dropped": self.dropped,
            "min_words": self.min_words,
            "approximate": self.approximate,
            "searched": self.searched,
            "rewrites": self.rewrites,
            "stories": self.stories,
        }
