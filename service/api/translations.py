"""Translation candidates (one query by GET or POST, a batch by POST, as neighbors) and their
evaluation against a bilingual dictionary."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import route

from service import request_types as r
from service import response_types as s
from service.api.access import client_of
from service.api.analyses import ACCEPTED, begin
from service.api.answers import CACHED, CACHED_HEADERS, NOT_MODIFIED, cached_json, json_answer
from service.api.decoding import decoder
from service.api.documented import described, operation
from service.api.params import BODY_ERRORS, SERVICES, ModelName, Svc, query_items
from service.api.query_routes import GET_HEAD, planned_answer, query_route
from service.queries import evaluate_dictionary, translations
from service.queries.evaluation import upfront_work

PATH = "/{model:str}/translations"


@query_route(
    PATH,
    GET_HEAD,
    r.TranslationsRequest,
    "Translation candidates of a token in other scripts",
    s.TranslationsOut,
)
async def get_translations(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.TranslationsRequest).from_query(query_items(request))
    return await planned_answer(request, svc, model, query, translations)


@query_route(
    PATH,
    HttpMethod.POST,
    r.TranslationsRequest,
    "Translation candidates of one query or of a batch (`queries`, order kept)",
    s.TranslationsOut | s.TranslationsBatchOut,
)
async def post_translations(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.TranslationsRequest).from_body(await request.body())
    return await planned_answer(request, svc, model, query, translations)


@route(
    "/{model:str}/translations/evaluate",
    http_method=HttpMethod.POST,
    responses={**BODY_ERRORS, **NOT_MODIFIED, **json_answer(s.EvaluateOut), 202: ACCEPTED[202]},
    response_headers=CACHED_HEADERS,
    status_code=200,
    summary="Precision@1/5/10 of cosine and CSLS retrieval on a bilingual dictionary (a job, 202, when it "
    "is too large for one request)",
    description=described(r.EvaluateRequest),
    operation_class=operation(r.EvaluateRequest, body=True, headers=CACHED),
)
async def evaluate(request: Request[Any, Any, Any], svc: Svc, model: ModelName) -> Response[bytes]:
    query = decoder(r.EvaluateRequest).from_body(await request.body())
    found = svc.registry.get(model)
    limits = svc.settings.limits
    work = upfront_work(found, query, limits)[2].seconds
    if work > limits.max_evaluation_seconds:
        return await begin(svc, "evaluate", {"model": model}, query, client_of(request.scope))  # type: ignore[return-value]
    return await cached_json(
        request,
        svc.cache,
        [found.checksum],
        "evaluate",
        query,
        lambda: evaluate_dictionary(found, query, svc.settings.limits),
        inline=False,
        max_age=svc.settings.http_max_age,
        cost=work,
    )


router = Router(
    path="/v1/models",
    route_handlers=[get_translations, post_translations, evaluate],
    dependencies=SERVICES,
    tags=["neighbors"],
)
