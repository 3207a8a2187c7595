"""What a source yields: a raw record to validate, or a rejection to report, each with its origin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    """Raw fields read from ``origin`` (``file:line`` or ``file``), not yet validated."""

    origin: str
    fields: Mapping[str, object]
    repaired: str | None = None  # how its text was repaired (indexer.encodings), if it was


@dataclass(frozen=True)
class Rejection:
    """Input that produced no article; ``reason`` is short so that rejections can be counted."""

    origin: str
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.origin}: {self.reason}{detail}"
