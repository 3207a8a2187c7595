"""Jinja filters that write dates, numbers and links the Vietnamese way, safely."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Flask

LINK_SCHEMES = {"http", "https"}


def vn_date(value: dt.date | None) -> str:
    """dd/mm/yyyy, empty when the date is unknown."""
    return value.strftime("%d/%m/%Y") if value else ""


def vn_number(value: int) -> str:
    """Thousands separated by dots: 12.345."""
    return f"{value:,}".replace(",", ".")


def vn_seconds(milliseconds: float) -> str:
    """Elapsed time in seconds with a decimal comma: 0,012 giây."""
    return f"{milliseconds / 1000:.3f}".replace(".", ",") + " giây"


def safe_href(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link, else None (never ``javascript:`` and co)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in LINK_SCHEMES and parts.netloc else None


def register(app: Flask) -> None:
    app.add_template_filter(vn_date)
    app.add_template_filter(vn_number)
    app.add_template_filter(vn_seconds)
    app.add_template_filter(safe_href)
