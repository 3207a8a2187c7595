"""Errors as JSON for the API and as a Vietnamese page for people; never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

import search
from web.serialize import error_json

# What a person reads for each status; the API adds its own detail when it has one.
MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    404: "Không tìm thấy trang hoặc bài viết này.",
    405: "Phương thức này không được hỗ trợ; hãy dùng GET.",
    500: "Máy chủ gặp lỗi, xin thử lại sau.",
    503: "Chỉ mục tìm kiếm chưa sẵn sàng, xin thử lại sau.",
}
CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """API paths answer in JSON, even for routes that do not exist."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, detail: str | None = None) -> tuple[Any, int]:
    """Statuses without words of their own (413, 502, ...) borrow those of 400 or 500."""
    known = status if status in MESSAGES else (400 if status < 500 else 500)
    message = detail or MESSAGES[known]
    if wants_json():
        return error_json(CODES[known], message), status
    return render_template("error.html", status=status, message=message), status


def handle_http_error(error: HTTPException) -> tuple[Any, int, dict[str, str]]:
    status = error.code or 500
    # Werkzeug's own descriptions are English boilerplate; only ours (set by abort) are shown.
    detail = error.description if error.description != type(error).description else None
    body, status = error_response(status, detail if status < 500 else None)
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return body, status, headers


def handle_corrupt_index(error: search.IndexCorruptError) -> tuple[Any, int]:
    """Logged with its path for the operator; the client only learns to come back later."""
    current_app.logger.error("search index unusable: %s", error)
    return error_response(503)


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(search.IndexCorruptError, handle_corrupt_index)
