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
    """Elapsed time in seconds with a decimal comma: 0,012 giây; under a millisecond (an answer
    kept from an earlier search) "dưới 0,001 giây", never "0,000 giây"."""
    if milliseconds < 1:
        return "dưới 0,001 giây"
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


def safe_image(url: str | None) -> str | None:
    """A thumbnail URL to show: https only (the page's CSP allows no other remote images)."""
    href = safe_href(url)
    return href if href and href.lower().startswith("https://") else None


def schema_text(schema: dict) -> str:
    """A JSON schema in a few words, for the API docs page: type, format, range, default."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " hoặc ".join(schema_text(option) for option in schema["anyOf"])
    kind = schema.get("type", "")
    words = [" hoặc ".join(kind) if isinstance(kind, list) else kind]
    if "items" in schema:
        words.append(f"của {schema_text(schema['items'])}")
    if "format" in schema:
        words.append(schema["format"])
    if "enum" in schema:
        words.append("|".join(map(str, schema["enum"])))
    if "const" in schema:
        words.append(f"= {schema['const']!r}")
    if "minimum" in schema or "maximum" in schema:
        words.append(f"{schema.get('minimum', '')}–{schema.get('maximum', '')}")
    if schema.get("maxLength") == 0:
        words.append("rỗng")
    elif "maxLength" in schema:
        words.append(f"tối đa {schema['maxLength']} ký tự")
    if "maxItems" in schema:
        words.append(f"tối đa {schema['maxItems']}")
    if "default" in schema:
        words.append(f"mặc định {schema['default']}")
    return ", ".join(word for word in words if word)


def register(app: Flask) -> None:
    app.add_template_filter(vn_date)
    app.add_template_filter(vn_number)
    app.add_template_filter(vn_seconds)
    app.add_template_filter(safe_href)
    app.add_template_filter(safe_image)
    app.add_template_filter(schema_text)
