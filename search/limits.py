"""The request limits, declared once: validation, the pager, the OpenAPI document and the CLI
help all read them from here, so what one layer accepts every other layer accepts too.

They bound the work one request can ask for: the characters and words of a query, the page
size, and how deep into the results a page may start (``page * per_page``).
"""

MAX_QUERY_CHARS = 500  # characters of a query, after NFC; longer ones are refused, not cut
MAX_WORDS = 32  # words beyond this are dropped: hundreds of terms would only cost time
MAX_CLAUSES = 16  # phrases, title: clauses and exclusions beyond this are dropped, likewise
MAX_PER_PAGE = 100  # hits per page ("size" in the API and the CLI)
MAX_PAGE = 1000  # page numbers run 1..MAX_PAGE
MAX_DEPTH = 10_000  # page * per_page: deeper pages cost memory for nothing a reader uses
MAX_CATEGORY_CHARS = 200  # a category filter longer than any category name is refused
MAX_ID_CHARS = 200  # an article id (a path segment of /articles/ID): the indexer refuses longer ones


def deepest_page(per_page: int) -> int:
    """The last page number the core serves at this page size (page * per_page ≤ MAX_DEPTH)."""
    return max(1, min(MAX_PAGE, MAX_DEPTH // max(1, per_page)))
