"""OpenAPI 3.1 description of the JSON API (tests validate real responses against it)."""

from __future__ import annotations

from typing import Any

from search.limits import MAX_CATEGORY_CHARS, MAX_DEPTH, MAX_ID_CHARS, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS
from web.params import SORTS

MAX_SIZE = MAX_PER_PAGE


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
DATE = {"type": "string", "format": "date"}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
BAD_REQUEST = _json(_ref("Error"), "A parameter is wrong; the message says which and why.")
NOT_FOUND = _json(_ref("Error"), "No article has this id.")
ARTICLE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
SIZE = {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these properties, all present (null where unknown)."""
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


HIT = _closed(
    {
        "id": {"type": "string"},
        "title": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "date": NULLABLE_DATE,
        "category": NULLABLE_STRING,
        "source": NULLABLE_STRING,
        "score": {"type": "number"},
        "title_html": {"type": "string", "description": "Escaped title with <mark> around matches."},
        "snippet_html": {"type": "string", "description": "Escaped excerpt with <mark> around matches."},
        "same_story": {
            "type": "integer",
            "minimum": 0,
            "description": "Other results of the same story (near-duplicate articles) not shown as "
            "hits when grouped; list them with `story=<this id>`.",
        },
    }
)
FACETS = _closed(
    {
        "years": {**COUNTS, "description": "Articles per year, keys YYYY."},
        "months": {**COUNTS, "description": "Articles per month, keys YYYY-MM."},
        "categories": {**COUNTS, "description": "Articles per category."},
    }
)
REWRITE = _closed(
    {
        "typed": {"type": "string", "description": "The word(s) as typed."},
        "searched": {"type": "string", "description": "What they were searched as."},
        "how": {
            "type": "string",
            "enum": ["telex", "vni", "same", "synonyms"],
            "description": "telex/vni: typed with the input method off; same: a form of a name, searched "
            "as its first form; synonyms: a synonyms entry (the form typed ranks first).",
        },
        "also": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The other forms an article may hold instead.",
        },
    }
)
SEARCH_RESPONSE = _closed(
    {
        "query": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
        "took_ms": {"type": "number", "minimum": 0},
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": FACETS,
        "suggestion": {**NULLABLE_STRING, "description": "A likelier spelling of the query, if any."},
        "relaxed": {
            "type": "boolean",
            "description": "No article held every word of the query: the results hold `required`, "
            "not `dropped`, and `total` counts them alone.",
        },
        "required": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The words (as typed) every result holds: each word's syllables adjacent "
            "and in order; function words such as 'của', 'là' only add score.",
        },
        "dropped": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Words left out because no article held them all (empty unless relaxed).",
        },
        "min_words": {
            "type": "integer",
            "minimum": 0,
            "description": "Each result holds at least this many of `required`: all of them, except "
            "in a query of more than 3 words, where 60% (rounded up) suffice.",
        },
        "approximate": {
            "type": "boolean",
            "description": "The request's work budget ran out before every candidate's word order "
            "was checked: some results hold a word's syllables, not necessarily together.",
        },
        "searched": {
            **NULLABLE_STRING,
            "description": "The query as searched, when words of it were rewritten (see `rewrites`): "
            "the page shows it as 'Đang tìm: …'. Null when searched as typed.",
        },
        "rewrites": {
            "type": "array",
            "items": REWRITE,
            "description": "Each word searched otherwise than typed: Telex/VNI decoded, or a form "
            "of a synonyms entry.",
        },
        "stories": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "Grouped (the default): how many stories the `total` articles make; "
            "pages count stories. null with group=0 or story=.",
        },
    }
)
ARTICLE = _closed(
    {
        "id": {"type": "string"},
        "title": NULLABLE_STRING,
        "summary": NULLABLE_STRING,
        "body": NULLABLE_STRING,
        "date": NULLABLE_DATE,
        "category": NULLABLE_STRING,
        "source": NULLABLE_STRING,
        "url": NULLABLE_STRING,
    }
)
RELATED_RESPONSE = _closed({"id": {"type": "string"}, "hits": {"type": "array", "items": _ref("Hit")}})
HEALTH = _closed(
    {
        "status": {"const": "ok"},
        "generation": {**NULLABLE_STRING, "description": "null while the index is empty."},
        "articles": {"type": "integer", "minimum": 0},
    }
)
ERROR = _closed(
    {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "param": {"type": "string", "description": "The query parameter at fault (400 only)."},
            },
        }
    }
)
SCHEMAS = {
    "Hit": HIT,
    "SearchResponse": SEARCH_RESPONSE,
    "Article": ARTICLE,
    "RelatedResponse": RELATED_RESPONSE,
    "Health": HEALTH,
    "Error": ERROR,
}

PATHS: dict[str, Any] = {
    "/api/search": {
        "get": {
            "summary": "Search articles; an empty q with filters lists the newest articles.",
            "parameters": [
                _query(
                    "q",
                    "Words, with or without diacritics.",
                    {"type": "string", "maxLength": MAX_QUERY_CHARS},
                ),
                _query("from", "First day, inclusive.", DATE),
                _query("to", "Last day, inclusive.", DATE),
                _query(
                    "category", "Only this category.", {"type": "string", "maxLength": MAX_CATEGORY_CHARS}
                ),
                _query(
                    "sort", "Order of hits.", {"type": "string", "enum": list(SORTS), "default": "relevance"}
                ),
                _query(
                    "page",
                    f"Page number; page × size may not exceed {MAX_DEPTH}.",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                ),
                _query(
                    "size", f"Hits per page; page × size may not exceed {MAX_DEPTH}.", {**SIZE, "default": 10}
                ),
                _query(
                    "group",
                    "1: one hit per story (near-duplicates counted in `same_story`); 0: every article.",
                    {"type": "integer", "enum": [0, 1], "default": 1},
                ),
                _query(
                    "story",
                    "An article id: only the articles of its story (every one shown).",
                    {"type": "string", "maxLength": MAX_ID_CHARS},
                ),
            ],
            "responses": {
                "200": _json(_ref("SearchResponse"), "One page of hits with facets."),
                "400": BAD_REQUEST,
            },
        }
    },
    "/api/articles/{id}": {
        "get": {
            "summary": "One stored article.",
            "parameters": [ARTICLE_ID],
            "responses": {"200": _json(_ref("Article"), "The article."), "404": NOT_FOUND},
        }
    },
    "/api/articles/{id}/related": {
        "get": {
            "summary": "Articles about the same things as this one.",
            "parameters": [ARTICLE_ID, _query("size", "How many.", {**SIZE, "default": 5})],
            "responses": {
                "200": _json(_ref("RelatedResponse"), "Related articles, best first."),
                "400": BAD_REQUEST,
                "404": NOT_FOUND,
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Index generation and article count.",
            "responses": {
                "200": _json(_ref("Health"), "The index is usable."),
                "503": _json(_ref("Error"), "The index cannot be read."),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document.",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 description.")},
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vnsearch",
            "version": "0.1.0",
            "description": "Full-text search over Vietnamese news. Errors are "
            '{"error": {"code", "message"}} with status 400, 404, 405 or 503; a 400 names the '
            'parameter at fault in "param".',
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
