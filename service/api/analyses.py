"""The seed paper's analyses (separability, diversity, cross-model comparison) and job polling.

Each answers 200 with the result when it is cached or finishes within a few seconds, else 202 with
a job to poll at /v1/jobs/{id}. Identical requests share one computation.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from service import analyses
from service import requests as r
from service import schemas as s
from service.api.decoding import decoder
from service.api.documented import operation
from service.api.params import ERRORS, SERVICES, ModelName, Svc, query_items
from service.cache import cache_key
from service.errors import BadRequest
from service.jobs import Jobs, JobState

T = TypeVar("T", bound=msgspec.Struct)
ACCEPTED = {**ERRORS, 202: ResponseSpec(data_container=s.JobOut, description="still computing: poll the URL")}


def job_out(job: JobState) -> s.JobOut:
    return s.JobOut(job.id, job.kind, job.status, job.progress, f"/v1/jobs/{job.id}", job.result, job.error)


async def answer(
    jobs: Jobs, key: str, kind: str, compute: Any, kind_type: type[T], retry: bool = True
) -> Response[Any]:
    outcome = await jobs.run(key, kind, compute)
    if isinstance(outcome.body, JobState):
        body = job_out(outcome.body)
        return Response(body, status_code=202, headers={"Location": body.url})
    try:
        result = msgspec.json.decode(outcome.body, type=kind_type)
    except (msgspec.DecodeError, msgspec.ValidationError):
        await jobs.forget(key)
        if not (retry and outcome.cached):  # a fresh result that does not decode is a bug: say so once
            raise
        return await answer(jobs, key, kind, compute, kind_type, retry=False)  # corrupted cache: a miss
    if outcome.cached:
        result = msgspec.structs.replace(result, cached=True)
    return Response(result, status_code=200)


def _analysis(path: str, kind: type[r.Request], summary: str) -> HTTPRouteHandler:
    return route(
        path,
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        summary=summary,
        responses=ACCEPTED,
        operation_class=operation(kind),
    )


@_analysis(
    "/models/{model:str}/separability",
    r.SeparabilityRequest,
    "Writing-system separability by logistic regression (paper: 99.2%)",
)
async def get_separability(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.SeparabilityOut]:
    found = svc.registry.get(model)
    query = decoder(r.SeparabilityRequest).from_query(query_items(request))
    resolved, compute = analyses.separability_job(found, query)
    key = cache_key([found.checksum], "separability", resolved)
    return await answer(svc.jobs, key, "separability", compute, s.SeparabilityOut)


@_analysis(
    "/models/{model:str}/diversity",
    r.DiversityRequest,
    "Distinct scripts among each token's nearest neighbours (paper: 7.61)",
)
async def get_diversity(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.DiversityOut]:
    found = svc.registry.get(model)
    query = decoder(r.DiversityRequest).from_query(query_items(request))
    resolved, compute = analyses.diversity_job(found, query)
    key = cache_key([found.checksum], "diversity", resolved)
    return await answer(svc.jobs, key, "diversity", compute, s.DiversityOut)


@_analysis(
    "/models/{model:str}/languages/relations",
    r.RelationsRequest,
    "How often tokens of one language neighbour another's, with a clustering of languages",
)
async def get_language_relations(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.RelationsOut]:
    found = svc.registry.get(model)
    query = decoder(r.RelationsRequest).from_query(query_items(request))
    resolved, compute = analyses.relations_job(found, query)
    key = cache_key([found.checksum], "language-relations", resolved)
    return await answer(svc.jobs, key, "language-relations", compute, s.RelationsOut)


@_analysis(
    "/compare", r.CompareRequest, "Neighbour overlap and canonical angles of two models over shared tokens"
)
async def get_compare(request: Request[Any, Any, Any], svc: Svc) -> Response[s.CompareOut]:
    query = decoder(r.CompareRequest).from_query(query_items(request))
    if query.models[0] == query.models[1]:
        raise BadRequest("models", "name two different models, comma-separated")
    a, b = svc.registry.get(query.models[0]), svc.registry.get(query.models[1])
    resolved, compute = analyses.compare_job(a, b, query)
    key = cache_key([a.checksum, b.checksum], "compare", resolved)
    return await answer(svc.jobs, key, "compare", compute, s.CompareOut)


@route(
    "/jobs/{job_id:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    responses=ERRORS,
    summary="State of a long-running analysis: status, progress, result when done",
)
async def get_job(
    svc: Svc, job_id: Annotated[str, Parameter(description="job id", max_length=64)]
) -> s.JobOut:
    return job_out(await svc.jobs.state(job_id))


router = Router(
    path="/v1",
    route_handlers=[get_separability, get_diversity, get_language_relations, get_compare, get_job],
    dependencies=SERVICES,
    tags=["analyses"],
)
