"""Nearest neighbors: one query by GET (query string) or POST (JSON body), or a batch of queries by
POST (answered in order). GET and POST decode into the same request Struct and give the same answer,
cached under the Struct's canonical encoding (`service/api/answers.py`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.enums import HttpMethod

from service import request_types as r
from service import response_types as s
from service.api.decoding import decoder
from service.api.params import SERVICES, ModelName, Svc, query_items
from service.api.query_routes import GET_HEAD, planned_answer, query_route
from service.queries import neighbors

PATH = "/{model:str}/neighbors"


# One small handler per route (`duplicates` pairs them by shape): Litestar documents each operation from
# its own function and decorator; what they share is one call (`planned_answer`).
@query_route(
    PATH, GET_HEAD, r.NeighborsRequest, "Nearest neighbors of one token (by token or id)", s.NeighborsOut
)
async def get_neighbors(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.NeighborsRequest).from_query(query_items(request))
    return await planned_answer(request, svc, model, query, neighbors)


@query_route(
    PATH,
    HttpMethod.POST,
    r.NeighborsRequest,
    "Nearest neighbors of one token, id or vector, or of a batch (`queries`, order kept)",
    s.NeighborsOut | s.NeighborsBatchOut,
)
async def post_neighbors(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.NeighborsRequest).from_body(await request.body())
    return await planned_answer(request, svc, model, query, neighbors)


router = Router(
    path="/v1/models",
    route_handlers=[get_neighbors, post_neighbors],
    dependencies=SERVICES,
    tags=["neighbors"],
)
