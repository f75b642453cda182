"""The vocabulary map (description + raw columns) and the vocabulary export (Parquet, Projector TSV).

Every answer is immutable while the artifact is loaded: cached, with an ETag and Cache-Control, so a
browser fetches a model's map once and revalidates it with a 304 afterwards.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import route
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from service import requests as r
from service import schemas as s
from service.api.answers import CACHED_HEADERS, NOT_MODIFIED, cached_bytes, cached_json
from service.api.decoding import decoder
from service.api.documented import described, operation
from service.api.params import ERRORS, SERVICES, ModelName, Svc, query_items
from service.usecases import export, maps

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]
OCTETS = "application/octet-stream"
Column = Annotated[str, Parameter(description="a column GET /map names: xy, unicode, paper, language, kind")]


@route(
    "/{model:str}/map",
    http_method=GET_HEAD,
    responses={**ERRORS, **NOT_MODIFIED},
    response_headers=CACHED_HEADERS,
    summary="The vocabulary map: its layout and the columns to fetch (positions, label codes)",
    description=described(r.NoParams),
    status_code=200,
    operation_class=operation(r.NoParams, body=False),
)
async def get_map(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[s.MapOut]:
    query = decoder(r.NoParams).from_query(query_items(request))
    found = svc.registry.get(model)
    return await cached_json(  # type: ignore[return-value]
        request, svc.cache, [found.checksum], "map", query, lambda: maps.map_out(found),
        inline=True, max_age=svc.settings.http_max_age,
    )  # fmt: skip


@route(
    "/{model:str}/map/{column:str}",
    http_method=GET_HEAD,
    responses={
        200: ResponseSpec(
            bytes,
            media_type=OCTETS,
            description="the column's raw little-endian array",
            generate_examples=False,
        ),
        **ERRORS,
        **NOT_MODIFIED,
    },
    response_headers=CACHED_HEADERS,
    summary="One map column as a raw array (dtype and shape: GET /map)",
    description=described(r.NoParams),
    status_code=200,
    media_type=OCTETS,
    operation_class=operation(r.NoParams, body=False),
)
async def get_map_column(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName, column: Column
) -> Response[bytes]:
    query = decoder(r.NoParams).from_query(query_items(request))
    found = svc.registry.get(model)
    maps.column(found, column)  # an unknown column is a 404 before any tag is made
    body = lambda: maps.column_bytes(found, column)  # noqa: E731 (a mapped array's copy: 1 MB at 250k)
    return await cached_bytes(
        request, svc.cache, [found.checksum], f"map/{column}", query, body,
        media_type=OCTETS, inline=True, max_age=svc.settings.http_max_age,
    )  # fmt: skip


@route(
    "/{model:str}/export",
    http_method=GET_HEAD,
    responses={
        200: ResponseSpec(
            bytes,
            media_type=export.PARQUET,
            description="a Parquet file; format=projector: a zip of vectors.tsv and metadata.tsv",
            generate_examples=False,
        ),
        **ERRORS,
        **NOT_MODIFIED,
    },
    response_headers=CACHED_HEADERS,
    summary="The vocabulary as a file: Parquet, or the Embedding Projector's TSV files",
    description=described(r.ExportRequest),
    status_code=200,
    operation_class=operation(r.ExportRequest, body=False),
)
async def get_export(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.ExportRequest).from_query(query_items(request)).canonical()
    found = svc.registry.get(model)
    export.check(found, query)  # unknown labels, empty subsets and over-limit sizes: before any work
    name = export.filename(found, query)
    return await cached_bytes(
        request, svc.cache, [found.checksum], "export", query, lambda: export.export_bytes(found, query),
        media_type=export.media_type(query), inline=False, max_age=svc.settings.http_max_age,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


router = Router(
    path="/v1/models",
    route_handlers=[get_map, get_map_column, get_export],
    dependencies=SERVICES,
    tags=["map"],
)
