"""GET /v1/models, /v1/models/{model}, token search and lookup."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Router
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from service import request_types as r
from service import response_types as s
from service.analyses.lexicon_costs import lexicon_out
from service.api.decoding import decoder
from service.api.documented import get_route
from service.api.params import ERRORS, SERVICES, ModelName, Svc, examples, query_items
from service.catalog import find_tokens, model_out
from service.errors import at
from service.token_descriptions import token_out


def _get(path: str, summary: str, kind: type[r.Request] = r.NoParams) -> HTTPRouteHandler:
    return get_route(path, summary, kind, ERRORS)


@_get("/", "List the loaded models")
async def list_models(request: Request[Any, Any, Any], svc: Svc) -> s.ModelsOut:
    decoder(r.NoParams).from_query(query_items(request))
    registry = svc.registry
    return s.ModelsOut(
        models=[model_out(m) for m in registry.models.values()], building=sorted(registry.building)
    )


@_get("/{model:str}", "Describe one model: sizes, index, label schemes and token counts per script")
async def get_model(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> s.ModelOut:
    decoder(r.NoParams).from_query(query_items(request))
    return model_out(svc.registry.get(model))


@_get(
    "/{model:str}/tokens",
    "Search the vocabulary (exact or prefix), optionally by script or language",
    r.TokensRequest,
)
async def search_tokens(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> s.TokenPage:
    query = decoder(r.TokensRequest).from_query(query_items(request))
    found = svc.registry.get(model)
    return await anyio.to_thread.run_sync(find_tokens, found, query)  # a prefix may match 100k tokens


@_get("/{model:str}/tokens/{token_id:int}", "One token by id: raw and display form, kind, labels")
async def get_token(
    request: Request[Any, Any, Any],
    svc: Svc,
    model: ModelName,
    token_id: Annotated[int, Parameter(description="token id", ge=0, examples=examples(70))],
) -> s.TokenOut:
    decoder(r.NoParams).from_query(query_items(request))
    found = svc.registry.get(model)
    with at("token_id"):
        return token_out(found, found.check_id(token_id))


@_get(
    "/{model:str}/lexicon",
    "The model's lexicon by language: sizes, and what a lookup costs (pieces per word, parity with English)",
)
async def get_lexicon(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> s.LexiconOut:
    decoder(r.NoParams).from_query(query_items(request))
    return lexicon_out(svc.registry.get(model))


router = Router(
    path="/v1/models",
    route_handlers=[list_models, get_model, search_tokens, get_token, get_lexicon],
    dependencies=SERVICES,
    tags=["models"],
)
