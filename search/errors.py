"""The errors the core raises: each carries a message a person can act on."""

# The core's argument names, as the API and the CLI name the same parameter.
PUBLIC_NAMES = {"date_from": "from", "date_to": "to", "per_page": "size"}


class SearchError(Exception):
    """Base class for vnsearch core errors."""


class QueryError(SearchError, ValueError):
    """The query or a search parameter cannot be used; the message says why, in plain words.

    ``param`` names the parameter at fault as the API and the CLI name it ("q", "from", "to",
    "sort", "page", "size"), so a caller can point at the right field; None when not one.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = PUBLIC_NAMES.get(param, param) if param else None

    def __reduce__(self):
        return type(self), (str(self), self.param)


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


class GenerationCopyError(SearchError):
    """A generation copied to a replica is partial, corrupt or not a generation: not activated."""
