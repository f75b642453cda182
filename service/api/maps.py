"""The vocabulary map (description + raw columns) and the vocabulary export (Parquet, Projector TSV).

Every answer is immutable while the artifact is loaded: cached, with an ETag and Cache-Control, so a
browser fetches a model's map once and revalidates it with a 304 afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from service import request_types as r
from service import response_types as s
from service.analyses import export, maps
from service.api.answers import CACHED, CACHED_HEADERS, NOT_MODIFIED, cached_bytes, cached_json, json_answer
from service.api.decoding import decoder
from service.api.documented import described, operation
from service.api.params import ERRORS, SERVICES, ModelName, Svc, query_items

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]
OCTETS = "application/octet-stream"


def _get(
    path: str,
    summary: str,
    kind: type[r.Request] = r.NoParams,
    binary: tuple[str, str] | None = None,
    also: tuple[str, ...] = (),
    out: Any = None,
) -> Callable[[Any], HTTPRouteHandler]:
    """A cached GET/HEAD route whose query is `kind`; `out`: the response Struct of a JSON body;
    `binary`: the media type and description of a body that is not JSON (`also`: the other media
    types it may have)."""
    responses: dict[int, ResponseSpec] = {**ERRORS, **NOT_MODIFIED, **(json_answer(out) if out else {})}
    if binary is not None:
        responses[200] = ResponseSpec(
            bytes, media_type=binary[0], description=binary[1], generate_examples=False
        )
    return route(
        path,
        http_method=GET_HEAD,
        responses=responses,
        response_headers=CACHED_HEADERS,
        summary=summary,
        description=described(kind),
        status_code=200,
        operation_class=operation(kind, body=False, also=also, headers=CACHED),
        media_type=binary[0] if binary is not None else None,
    )


Column = Annotated[str, Parameter(description="a column GET /map names: xy, unicode, paper, language, kind")]


@_get(
    "/{model:str}/map",
    "The vocabulary map: its layout and the columns to fetch (positions, label codes)",
    out=s.MapOut,
)
async def get_map(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.NoParams).from_query(query_items(request))
    found = svc.registry.get(model)
    return await cached_json(
        request, svc.cache, [found.checksum], "map", query, lambda: maps.map_out(found),
        inline=True, max_age=svc.settings.http_max_age,
    )  # fmt: skip


@_get(
    "/{model:str}/map/{column:str}",
    "One map column as a raw array (dtype and shape: GET /map)",
    binary=(OCTETS, "the column's raw little-endian array"),
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


@_get(
    "/{model:str}/export",
    "The vocabulary as a file: Parquet, or the Embedding Projector's TSV files",
    r.ExportRequest,
    (export.PARQUET, "a Parquet file; format=projector: a zip of vectors.tsv and metadata.tsv"),
    also=(export.ZIP,),
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
