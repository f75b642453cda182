"""The one mapping from errors to HTTP: RFC 9457 problem details (`application/problem+json`).

Domain errors (`service/errors.py`) get a status by kind and name their request field; Litestar's
own validation errors and HTTP exceptions are rendered in the same shape; anything else is a
logged 500 that says nothing about the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from service import errors

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("service")

# (status, title) by kind; the most specific class listed first wins
KINDS: list[tuple[type[errors.DomainError], int, str]] = [
    (errors.UnknownModel, 404, "Unknown model"),
    (errors.UnknownToken, 404, "Unknown token"),
    (errors.NotFound, 404, "Not found"),
    (errors.InvalidInput, 400, "Bad request"),
    (errors.OverBudget, 400, "Over the work budget"),
    (errors.TooLarge, 413, "Request too large"),
    (errors.StillBuilding, 503, "Model still building"),
    (errors.TooManyRequests, 429, "Too many requests"),
    (errors.Forbidden, 403, "Forbidden"),
    (errors.Overloaded, 503, "Service busy"),
    (errors.TookTooLong, 503, "Computation took too long"),
    (errors.ClientGone, 499, "Client closed request"),
    (errors.SlowClient, 408, "Request timeout"),
]
HTTP_TITLES = {
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
}


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


def status_of(exc: errors.DomainError) -> tuple[int, str]:
    return next(
        ((status, title) for kind, status, title in KINDS if isinstance(exc, kind)), (400, "Bad request")
    )


def status_named(kind: str) -> int:
    """The status of a domain error by class name (a failed job records the name), else 500."""
    found = getattr(errors, kind, None)
    if isinstance(found, type) and issubclass(found, errors.DomainError):
        return status_of(found(""))[0]
    return 500


def on_domain_error(request: Request[Any, Any, Any], exc: errors.DomainError) -> Response[Any]:
    status, title = status_of(exc)
    named: dict[str, Any] = {"field": exc.field} if exc.field is not None else {}
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, errors.Overloaded) else None
    return problem(request, status, title, exc.detail, headers, **named, **exc.extra)


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    found = exc.extra if isinstance(exc.extra, list) else []
    fields = [str(e.get("key")) for e in found if isinstance(e, dict) and e.get("key")]
    messages = [str(e.get("message")) for e in found if isinstance(e, dict) and e.get("message")]
    detail = "; ".join(f"{f}: {m}" for f, m in zip(fields, messages, strict=False)) or str(exc.detail)
    return problem(request, 400, "Invalid request", detail, field=fields[0] if fields else None, errors=found)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    # keep the exception's headers: a 405 must say which methods are allowed (Allow)
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
    title = HTTP_TITLES.get(exc.status_code, "Request failed")
    return problem(request, exc.status_code, title, str(exc.detail), headers)


def on_undecodable(request: Request[Any, Any, Any], exc: UnicodeError) -> Response[Any]:
    reason = getattr(exc, "reason", str(exc))
    return problem(
        request, 400, "Invalid request", f"the body is not valid UTF-8 text ({reason})", field="body"
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.url.path)
    return problem(request, 500, "Internal error", "the server failed to answer; the error was logged")


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    errors.DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    UnicodeError: on_undecodable,
    Exception: on_unexpected,
}
