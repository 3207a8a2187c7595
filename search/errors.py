"""The errors the core raises: each carries a message a person can act on."""


class SearchError(Exception):
    """Base class for vnsearch core errors."""


class QueryError(SearchError, ValueError):
    """The query or a search parameter cannot be used; the message says why, in plain words."""


class IndexLockedError(SearchError):
    """Another writer holds the index's write lock."""


class IndexCorruptError(SearchError):
    """The index directory is not usable (e.g. the generation pointer is broken)."""
