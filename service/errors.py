"""Domain errors and their one mapping to HTTP (RFC 9457 problem details).

    ServiceError                 status, title, detail, extra members of the problem body
    ├── NotFound (404)
    │   ├── UnknownModel         lists the loaded models
    │   └── UnknownToken         suggests close matches from the vocabulary
    ├── BadRequest (400)         names the offending field
    └── TooLarge (413)

Litestar's own validation errors (msgspec decoding of bodies and query parameters) and any other
HTTP exception are rendered in the same problem-details shape; nothing else reaches the client.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("service")


class ServiceError(Exception):
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class UnknownModel(NotFound):
    title = "Unknown model"


class UnknownToken(NotFound):
    title = "Unknown token"


class BadRequest(ServiceError):
    status = 400
    title = "Bad request"

    def __init__(self, field: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, field=field, **extra)


class TooLarge(ServiceError):
    status = 413
    title = "Request too large"


def problem(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    return problem(request, exc.status, exc.title, exc.detail, **exc.extra)


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    fields = [str(e.get("key")) for e in errors if isinstance(e, dict) and e.get("key")]
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    detail = "; ".join(f"{f}: {m}" for f, m in zip(fields, messages, strict=False)) or str(exc.detail)
    return problem(
        request, 400, "Invalid request", detail, field=fields[0] if fields else None, errors=errors
    )


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    titles = {
        404: "Not found",
        405: "Method not allowed",
        413: "Request too large",
        415: "Unsupported media type",
    }
    # keep the exception's headers: a 405 must say which methods are allowed (Allow)
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
    return problem(
        request, exc.status_code, titles.get(exc.status_code, "Request failed"), str(exc.detail), headers
    )


def on_undecodable(request: Request[Any, Any, Any], exc: UnicodeError) -> Response[Any]:
    reason = getattr(exc, "reason", str(exc))
    return problem(
        request, 400, "Invalid request", f"the body is not valid UTF-8 text ({reason})", field="body"
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.url.path)
    return problem(request, 500, "Internal error", "the server failed to answer; the error was logged")


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    ServiceError: on_service_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    UnicodeError: on_undecodable,
    Exception: on_unexpected,
}
