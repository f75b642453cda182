"""Vocabulary health: under-trained token candidates, geometry statistics and footprints. Each is
computed once per model (in a worker thread) and answered from the response cache afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route

from service import request_types as r
from service import response_types as s
from service.analyses import vocabulary_health
from service.api.answers import CACHED, CACHED_HEADERS, NOT_MODIFIED, cached_json, json_answer
from service.api.decoding import decoder
from service.api.documented import described, operation
from service.api.params import ERRORS, SERVICES, ModelName, Svc, query_items
from service.errors import InvalidInput

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


def _get(path: str, kind: type[r.Request], summary: str, out: Any) -> Callable[[Any], HTTPRouteHandler]:
    return route(
        path,
        http_method=GET_HEAD,
        responses={**ERRORS, **NOT_MODIFIED, **json_answer(out)},
        response_headers=CACHED_HEADERS,
        summary=summary,
        description=described(kind),
        status_code=200,
        operation_class=operation(kind, body=False, headers=CACHED),
    )


async def _cached(
    request: Request[Any, Any, Any], svc: Svc, model: str, name: str, query: msgspec.Struct, compute: Any
) -> Response[bytes]:
    found = svc.registry.get(model)
    return await cached_json(
        request,
        svc.cache,
        [found.checksum],
        name,
        query,
        lambda: compute(found, query),
        inline=False,
        max_age=svc.settings.http_max_age,
    )


# One small handler per route (`duplicates` pairs them by shape): Litestar documents each operation from
# its own function and decorator; what they share is one call (`_cached`).
@_get(
    "/{model:str}/tokens/anomalies",
    r.AnomaliesRequest,
    "Under-trained token candidates (not verified)",
    s.AnomaliesOut,
)
async def get_anomalies(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.AnomaliesRequest).from_query(query_items(request))
    return await _cached(request, svc, model, "anomalies", query, vocabulary_health.anomalies_out)


@_get(
    "/{model:str}/geometry",
    r.GeometryRequest,
    "Geometry statistics: isotropy, rogue dimensions, norms",
    s.GeometryOut,
)
async def get_geometry(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.GeometryRequest).from_query(query_items(request))
    return await _cached(request, svc, model, "geometry", query, vocabulary_health.geometry_out)


@_get(
    "/{model:str}/footprint",
    r.FootprintRequest,
    "Tokens and parameters per script and language; trimming",
    s.FootprintOut,
)
async def get_footprint(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.FootprintRequest).from_query(query_items(request))
    return await _cached(request, svc, model, "footprint", query, vocabulary_health.footprint_out)


@route(
    "/{model:str}/footprint/ids",
    http_method=GET_HEAD,
    responses=ERRORS,
    summary="The token ids a vocabulary trimmed to keep_languages keeps, one per line (text/plain)",
    description=described(r.FootprintRequest),
    status_code=200,
    media_type="text/plain",
    operation_class=operation(r.FootprintRequest, body=False),
)
async def get_kept_ids(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[str]:
    query = decoder(r.FootprintRequest).from_query(query_items(request))
    if not query.keep_languages:
        raise InvalidInput("name the languages to keep", field="keep_languages")
    found = svc.registry.get(model)
    text = await anyio.to_thread.run_sync(vocabulary_health.kept_ids_text, found, query)
    name = f"{found.name}-{'-'.join(query.keep_languages)}-ids.txt"
    return Response(
        text, media_type="text/plain", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


router = Router(
    path="/v1/models",
    route_handlers=[get_anomalies, get_geometry, get_footprint, get_kept_ids],
    dependencies=SERVICES,
    tags=["vocabulary"],
)
