"""Neighbors and translation candidates: one query by GET (query string) or POST (JSON body), or a
batch of queries by POST (answered in order). GET and POST decode into the same request Struct and
give the same answer, cached under the Struct's canonical encoding (`service/api/answers.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route

from service import request_types as r
from service import response_types as s
from service.api.answers import CACHED, CACHED_HEADERS, NOT_MODIFIED, cached_json, json_answer
from service.api.decoding import decoder
from service.api.documented import described, operation
from service.api.params import BODY_ERRORS, ERRORS, SERVICES, ModelName, Services, Svc, query_items
from service.errors import InvalidInput
from service.usecases import dictionary, neighbors, translations
from service.usecases.plan import plan

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]
NEIGHBORS, TRANSLATIONS = "/{model:str}/neighbors", "/{model:str}/translations"


def _check_limits(request: r.NeighborsRequest | r.TranslationsRequest, svc: Services) -> None:
    """The configured limits (they may be lower than the Struct's documented maxima)."""
    limits = svc.settings.limits
    if request.queries is not None and len(request.queries) > limits.max_batch:
        raise InvalidInput(
            f"{len(request.queries)} queries; the limit is {limits.max_batch}", field="queries"
        )
    if request.k > limits.max_k:
        raise InvalidInput(f"k must be between 1 and {limits.max_k}, got {request.k}", field="k")


async def _answer(
    http: Request[Any, Any, Any], svc: Services, model: str, query: r.NeighborsRequest | r.TranslationsRequest
) -> Response[bytes]:
    _check_limits(query, svc)
    found = svc.registry.get(model)
    steps = plan(found, query, svc.settings.limits)
    compute: Callable[[], msgspec.Struct]
    if isinstance(query, r.NeighborsRequest):
        endpoint, compute = (
            "neighbors",
            lambda: neighbors.neighbors(found, query, svc.settings.limits, steps),
        )
    else:
        endpoint, compute = (
            "translations",
            lambda: translations.translations(found, query, svc.settings.limits),
        )
    return await cached_json(
        http,
        svc.cache,
        [found.checksum],
        endpoint,
        query,
        compute,
        inline=steps.inline,
        max_age=svc.settings.http_max_age,
    )


def _route(
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


# One small handler per route (`duplicates` pairs them by shape): Litestar documents each operation from
# its own function and decorator; what they share is one call (`_answer`).
@_route(
    NEIGHBORS, GET_HEAD, r.NeighborsRequest, "Nearest neighbors of one token (by token or id)", s.NeighborsOut
)
async def get_neighbors(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.NeighborsRequest).from_query(query_items(request))
    return await _answer(request, svc, model, query)


@_route(
    NEIGHBORS,
    HttpMethod.POST,
    r.NeighborsRequest,
    "Nearest neighbors of one token, id or vector, or of a batch (`queries`, order kept)",
    s.NeighborsOut | s.NeighborsBatchOut,
)
async def post_neighbors(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.NeighborsRequest).from_body(await request.body())
    return await _answer(request, svc, model, query)


@_route(
    TRANSLATIONS,
    GET_HEAD,
    r.TranslationsRequest,
    "Translation candidates of a token in other scripts",
    s.TranslationsOut,
)
async def get_translations(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.TranslationsRequest).from_query(query_items(request))
    return await _answer(request, svc, model, query)


@_route(
    TRANSLATIONS,
    HttpMethod.POST,
    r.TranslationsRequest,
    "Translation candidates of one query or of a batch (`queries`, order kept)",
    s.TranslationsOut | s.TranslationsBatchOut,
)
async def post_translations(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.TranslationsRequest).from_body(await request.body())
    return await _answer(request, svc, model, query)


@route(
    "/{model:str}/translations/evaluate",
    http_method=HttpMethod.POST,
    responses={**BODY_ERRORS, **NOT_MODIFIED, **json_answer(s.EvaluateOut)},
    response_headers=CACHED_HEADERS,
    status_code=200,
    summary="Precision@1/5/10 of cosine and CSLS retrieval on a bilingual dictionary",
    description=described(r.EvaluateRequest),
    operation_class=operation(r.EvaluateRequest, body=True, headers=CACHED),
)
async def evaluate(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.EvaluateRequest).from_body(await request.body())
    found = svc.registry.get(model)
    return await cached_json(
        request,
        svc.cache,
        [found.checksum],
        "evaluate",
        query,
        lambda: dictionary.evaluate_dictionary(found, query, svc.settings.limits),
        inline=False,
        max_age=svc.settings.http_max_age,
    )


router = Router(
    path="/v1/models",
    route_handlers=[get_neighbors, post_neighbors, get_translations, post_translations, evaluate],
    dependencies=SERVICES,
    tags=["neighbors"],
)
