"""What the neighbors and translations routes share: the request planned once, here at the HTTP edge
(refused over its limits or budget before any work), and the route decorator that documents it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route

from service import request_types as r
from service.api.answers import CACHED, CACHED_HEADERS, NOT_MODIFIED, cached_json, json_answer
from service.api.documented import described, operation
from service.api.params import BODY_ERRORS, ERRORS, Services
from service.queries import Plan, QueriesOut, QueryRequest, answered_items, plan
from service.registry import LoadedModel

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


async def planned_answer(
    http: Request[Any, Any, Any],
    svc: Services,
    model: str,
    query: QueryRequest,
    answer: Callable[[LoadedModel, Plan], QueriesOut],
) -> Response[bytes]:
    """The answer from the cache, or by the plan's route (inline on the event loop when the plan
    says it is a few table lookups, else in a worker thread)."""
    found = svc.registry.get(model)
    steps = plan(found, query, svc.settings.limits)
    return await cached_json(
        http,
        svc.cache,
        [found.checksum],
        "neighbors" if isinstance(query, r.NeighborsRequest) else "translations",
        query,
        lambda: answered_items(found, steps, answer),
        inline=steps.inline,
        max_age=svc.settings.http_max_age,
        cost=steps.work.seconds,
    )


def query_route(
    path: str, method: list[HttpMethod] | HttpMethod, kind: type[r.Request], summary: str, out: Any
) -> HTTPRouteHandler:
    return route(
        path,
        http_method=method,
        responses={
            **(BODY_ERRORS if method == HttpMethod.POST else ERRORS),
            **NOT_MODIFIED,
            **json_answer(out),
        },
        response_headers=CACHED_HEADERS,
        summary=summary,
        description=described(kind),
        status_code=200,
        operation_class=operation(kind, body=method == HttpMethod.POST, headers=CACHED),
    )
