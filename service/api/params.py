"""What every router shares: injected dependencies, documented error responses, the model path
parameter, and the strict reading of a query string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Parameter

from service import request_types as wire
from service import response_types as s
from service.api.problems import PROBLEM_JSON
from service.cache import ResponseCache
from service.errors import InvalidInput
from service.jobs import Jobs
from service.registry import Registry
from service.settings import Settings


@dataclass(frozen=True)
class Services:
    """What the lifespan loads and the handlers use, injected as one dependency (`svc`): Litestar
    resolves several dependencies of one handler concurrently in a task group, a cost on every request."""

    registry: Registry
    settings: Settings
    cache: ResponseCache
    jobs: Jobs


# Filled by dependency injection (named explicitly, as Litestar 3 requires).
Svc = NamedDependency[Services]


# Error responses every route may give, documented in the OpenAPI spec as problem details.
ERRORS = {
    status: ResponseSpec(s.Problem, description=text, media_type=PROBLEM_JSON, generate_examples=False)
    for status, text in (
        (400, "bad parameter or body: `field` names it"),
        (404, "unknown model, token or job; close matches in `suggestions` or `known`"),
        (413, "body or dictionary over the documented limits"),
        (503, "busy (Retry-After says when to try again), or a computation past its deadline"),
    )
}
BODY_ERRORS = {
    **ERRORS,
    415: ResponseSpec(s.Problem, description="a body that is not application/json", media_type=PROBLEM_JSON),
    408: ResponseSpec(
        s.Problem, description="the body stalled past the body timeout", media_type=PROBLEM_JSON
    ),
}


def query_items(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs; invalid UTF-8 is a 400, not replaced by U+FFFD."""
    raw: bytes = request.scope.get("query_string", b"")
    pairs = [part.split(b"=", 1) for part in raw.split(b"&") if part]
    if len(pairs) > wire.MAX_QUERY_FIELDS:
        raise InvalidInput(f"more than {wire.MAX_QUERY_FIELDS} query parameters", field="query")
    try:
        return [
            (_text(pair[0]), _text(pair[1]) if len(pair) == 2 else "")  # percent-decoded as bytes first
            for pair in pairs
        ]
    except UnicodeDecodeError as exc:
        raise InvalidInput("the query string is not valid UTF-8 once percent-decoded", field="query") from exc


def _text(part: bytes) -> str:
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")


def services(state: State) -> Services:
    return state.services  # type: ignore[no-any-return]


SERVICES = {"svc": Provide(services, sync_to_thread=False)}


def examples(*values: Any) -> list[Example]:
    return [Example(summary=str(v), value=v) for v in values]


ModelName = Annotated[
    str,
    Parameter(
        description="model name, as listed by GET /v1/models",
        examples=examples("multilingual-e5-small", "use-multilingual-v3", "llama2-vocab-wordllama"),
    ),
]
