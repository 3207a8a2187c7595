"""The errors the core raises: each carries a message a person can act on."""


class SearchError(Exception):
    """Base class for vnsearch core errors."""


class QueryError(SearchError, ValueError):
    """The query or a search parameter cannot be used; the message says why, in plain words."""


class IndexLockedError(SearchError):
    """Another writer holds the index's write lock."""


class IndexCorruptError(SearchError):
    """The index directory is not usable (e.g. the generation pointer is broken)."""


class IndexShrinkError(SearchError):
    """A new generation would replace the current one with far fewer articles, or with none."""


class IndexFormatError(IndexCorruptError):
    """A generation written in another on-disk format than this vnsearch reads."""


class IndexUnreadableError(IndexCorruptError):
    """The index directory or its files cannot be read (permissions, I/O errors)."""
