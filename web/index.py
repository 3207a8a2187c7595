"""The one search.Index of this worker process, and the search call both blueprints share."""

from __future__ import annotations

import os
import threading

from flask import current_app

import search
from web.params import ParamError, SearchParams


class IndexHolder:
    """Opens the index on first use, so each gunicorn worker gets its own after the fork.

    search.Index notices new generations and commits itself, so one per process serves
    fresh results without a restart.
    """

    def __init__(self, path: str, cache_size: int) -> None:
        self.path = path
        self.cache_size = cache_size
        self._index: search.Index | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> search.Index:
        with self._lock:
            if self._index is None or self._pid != os.getpid():
                self._index = search.Index(self.path, cache_size=self.cache_size)
                self._pid = os.getpid()
            return self._index


def current_index() -> search.Index:
    """The index of the app handling this request."""
    holder: IndexHolder = current_app.extensions["vnsearch"]
    return holder.get()


def run_search(params: SearchParams) -> search.Results:
    """Search with checked parameters; what the core still rejects is reported against the
    parameter it names (the query itself when it names none)."""
    try:
        return current_index().search(
            params.q,
            date_from=params.date_from,
            date_to=params.date_to,
            category=params.category or None,
            sort=params.sort,
            page=params.page,
            per_page=params.size,
            group=params.group,
            story=params.story or None,
        )
    except search.QueryError as exc:  # its message is already in plain Vietnamese (and English)
        raise ParamError(exc.param or "q", str(exc)) from None
