"""Publication dates as Vietnamese news sources write them.

Accepted: ISO 8601 (``2023-11-13``, ``2023-11-13T08:30``, ``2023-11-13 08:30:00+07:00``, ``…Z``) and
the Vietnamese day-first forms ``13/11/2023``, ``13-11-2023``, ``13.11.2023``, optionally after a
weekday (``Thứ hai, 13/11/2023 08:30``) and followed by a time and a ``(GMT+7)`` note. Anything else
is rejected rather than guessed, so a wrong date never silently lands in the index.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_WEEKDAY = r"(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s+nhật|cn|t[2-7])\s*,?\s*"
_TIME = r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_VIETNAMESE = re.compile(
    rf"(?:{_WEEKDAY})?"
    r"(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})"
    rf"(?:\s*[,|-]?\s*{_TIME})?"
    r"(?:\s*\(?\s*GMT\s*[+-]\s*\d{1,2}\s*\)?)?",
    re.IGNORECASE,
)
_TIME_FIRST = re.compile(rf"{_TIME}\s*[,|-]?\s*(?P<rest>.+)")


class DateError(ValueError):
    """The text is not a date in any accepted form."""


def parse_date(text: str) -> dt.date | dt.datetime:
    """Parse a date string; a ``datetime`` when it carries a time, else a ``date``."""
    value = " ".join(unicodedata.normalize("NFC", text).split())
    if not value:
        raise DateError("empty date")
    try:
        return _parse_iso(value)
    except ValueError:
        pass
    try:
        return _parse_vietnamese(value)
    except ValueError:
        raise DateError(f"unparsable date {text!r}") from None


def _parse_iso(value: str) -> dt.date | dt.datetime:
    if len(value) == 10:
        return dt.date.fromisoformat(value)
    return dt.datetime.fromisoformat(value)


def _parse_vietnamese(value: str) -> dt.date | dt.datetime:
    time_first = _TIME_FIRST.fullmatch(value)
    if time_first:  # "08:30 13/11/2023"
        date_part = _VIETNAMESE.fullmatch(time_first["rest"])
        if date_part is None or date_part["hour"] is not None:
            raise ValueError(value)
        return _build(date_part, time_first)
    match = _VIETNAMESE.fullmatch(value)
    if match is None:
        raise ValueError(value)
    return _build(match, match if match["hour"] is not None else None)


def _build(date_match: re.Match[str], time_match: re.Match[str] | None) -> dt.date | dt.datetime:
    day = dt.date(int(date_match["year"]), int(date_match["month"]), int(date_match["day"]))
    if time_match is None:
        return day
    clock = dt.time(int(time_match["hour"]), int(time_match["minute"]), int(time_match["second"] or 0))
    return dt.datetime.combine(day, clock)


def find_date(text: str) -> dt.date | dt.datetime | None:
    """The first Vietnamese day-first date (with its time, if any) inside free text."""
    for match in _VIETNAMESE.finditer(unicodedata.normalize("NFC", text)):
        try:
            return _build(match, match if match["hour"] is not None else None)
        except ValueError:
            continue
    return None
