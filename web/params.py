"""Search parameters parsed and checked once, for both the HTML page and the JSON API.

The URL is the whole state of a search page, so these parameters also turn back into URL
query arguments (``to_args``) for links that change one thing and keep the rest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping

from search.limits import MAX_CATEGORY_CHARS, MAX_ID_CHARS, MAX_PAGE, MAX_QUERY_CHARS
from search.limits import MAX_PER_PAGE as MAX_SIZE

DEFAULT_SIZE = 10
SORTS = {"relevance": "Liên quan nhất", "newest": "Mới nhất", "oldest": "Cũ nhất"}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ParamError(ValueError):
    """A parameter the client got wrong; ``message`` is plain Vietnamese, shown as is."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclasses.dataclass(frozen=True)
class SearchParams:
    """One validated search request: what to look for, which filters, which page."""

    q: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: str = ""
    sort: str = "relevance"
    page: int = 1
    size: int = DEFAULT_SIZE
    group: bool = True  # one hit per story; group=0 shows every copy
    story: str = ""  # an article id: only the articles of its story

    @property
    def is_blank(self) -> bool:
        """Nothing asked yet: no words and no filter (the landing page)."""
        return not (self.q or self.date_from or self.date_to or self.category)

    def replace(self, **changes: object) -> SearchParams:
        return dataclasses.replace(self, **changes)

    def to_args(self) -> dict[str, str]:
        """URL query arguments that reproduce these parameters, defaults left out."""
        args = {
            "q": self.q,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "category": self.category,
            "sort": "" if self.sort == "relevance" else self.sort,
            "page": "" if self.page == 1 else str(self.page),
            "size": "" if self.size == DEFAULT_SIZE else str(self.size),
            "group": "" if self.group else "0",
            "story": self.story,
        }
        return {name: value for name, value in args.items() if value}


def parse_search_args(args: Mapping[str, str]) -> SearchParams:
    """Read ``q, from, to, category, sort, page, size, group, story``; raise ParamError on the first
    bad one."""
    q = args.get("q", "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise ParamError("q", f"Từ khóa dài quá {MAX_QUERY_CHARS} ký tự, hãy rút ngắn lại.")
    date_from = parse_date(args, "from", "Ngày bắt đầu")
    date_to = parse_date(args, "to", "Ngày kết thúc")
    if date_from and date_to and date_from > date_to:
        raise ParamError("from", "Ngày bắt đầu phải trước hoặc trùng ngày kết thúc.")
    category = args.get("category", "").strip()
    if len(category) > MAX_CATEGORY_CHARS:
        raise ParamError("category", "Tên chuyên mục quá dài.")
    sort = args.get("sort", "").strip() or "relevance"
    if sort not in SORTS:
        raise ParamError("sort", "Cách sắp xếp phải là relevance, newest hoặc oldest.")
    return SearchParams(
        q=q,
        date_from=date_from,
        date_to=date_to,
        category=category,
        sort=sort,
        page=parse_int(args, "page", 1, MAX_PAGE, default=1, label="Số trang"),
        size=parse_size(args),
        group=parse_int(args, "group", 0, 1, default=1, label="group") == 1,
        story=parse_story(args),
    )


def parse_story(args: Mapping[str, str]) -> str:
    """The article id whose story to list (empty: no such filter)."""
    story = args.get("story", "").strip()
    if len(story) > MAX_ID_CHARS:
        raise ParamError("story", f"Mã bài (story) dài quá {MAX_ID_CHARS} ký tự.")
    return story


def parse_size(args: Mapping[str, str], default: int = DEFAULT_SIZE) -> int:
    """Results per page, 1..MAX_SIZE."""
    return parse_int(args, "size", 1, MAX_SIZE, default=default, label="Số kết quả mỗi trang")


def parse_date(args: Mapping[str, str], name: str, label: str) -> dt.date | None:
    """A YYYY-MM-DD date (the value of <input type=date>), None when absent or empty."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ParamError(name, f"{label} không hợp lệ, hãy dùng dạng YYYY-MM-DD.") from None


def parse_int(args: Mapping[str, str], name: str, low: int, high: int, *, default: int, label: str) -> int:
    """An integer in low..high, ``default`` when absent or empty."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise ParamError(name, f"{label} phải là số nguyên từ {low} đến {high}.")
    return int(raw)
