"""The seed paper's analyses (separability, diversity, cross-model comparison) and job polling.

Each answers 200 with the result when it is cached or finishes within a few seconds, else 202 with
a job to poll at /v1/jobs/{id}. Identical requests share one computation.
"""

from __future__ import annotations

from collections.abc import Callable
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
from service.api.documented import get_route
from service.api.params import ERRORS, SERVICES, ModelName, Services, Svc, query_items
from service.api.problems import status_named
from service.cache import cache_key
from service.errors import InvalidInput
from service.jobs import Jobs, JobState
from service.models import LoadedModel

T = TypeVar("T", bound=msgspec.Struct)
ACCEPTED = {**ERRORS, 202: ResponseSpec(data_container=s.JobOut, description="still computing: poll the URL")}


def job_out(job: JobState) -> s.JobOut:
    error = None
    if job.error is not None:  # {"kind": domain error class, "detail"} -> {"status", "detail"}
        error = {"status": status_named(str(job.error.get("kind"))), "detail": job.error.get("detail", "")}
    return s.JobOut(job.id, job.kind, job.status, job.progress, f"/v1/jobs/{job.id}", job.result, error)


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
    return get_route(path, summary, kind, ACCEPTED)


Job = Callable[[LoadedModel, Any], tuple[msgspec.Struct, analyses.Compute]]


async def _run(
    request: Request[Any, Any, Any], svc: Services, model: str, name: str, job: Job, kind: type[r.Request]
) -> Response[Any]:
    """Decode, validate and resolve (a 400 now, not a failed job), then compute once per resolved key."""
    found = svc.registry.get(model)
    resolved, compute = job(found, decoder(kind).from_query(query_items(request)))
    return await answer(svc.jobs, cache_key([found.checksum], name, resolved), name, compute, OUT[name])


OUT: dict[str, type[msgspec.Struct]] = {
    "separability": s.SeparabilityOut,
    "diversity": s.DiversityOut,
    "language-relations": s.RelationsOut,
    "compare": s.CompareOut,
}


@_analysis(
    "/models/{model:str}/separability",
    r.SeparabilityRequest,
    "Writing-system separability by logistic regression (paper: 99.2%)",
)
async def get_separability(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.SeparabilityOut]:
    return await _run(request, svc, model, "separability", analyses.separability_job, r.SeparabilityRequest)


@_analysis(
    "/models/{model:str}/diversity",
    r.DiversityRequest,
    "Distinct scripts among each token's nearest neighbours (paper: 7.61)",
)
async def get_diversity(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.DiversityOut]:
    return await _run(request, svc, model, "diversity", analyses.diversity_job, r.DiversityRequest)


@_analysis(
    "/models/{model:str}/languages/relations",
    r.RelationsRequest,
    "How often tokens of one language neighbour another's, with a clustering of languages",
)
async def get_language_relations(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.RelationsOut]:
    return await _run(request, svc, model, "language-relations", analyses.relations_job, r.RelationsRequest)


@_analysis(
    "/compare", r.CompareRequest, "Neighbour overlap and canonical angles of two models over shared tokens"
)
async def get_compare(request: Request[Any, Any, Any], svc: Svc) -> Response[s.CompareOut]:
    query = decoder(r.CompareRequest).from_query(query_items(request))
    if query.models[0] == query.models[1]:
        raise InvalidInput("name two different models, comma-separated", field="models")
    a, b = svc.registry.get(query.models[0]), svc.registry.get(query.models[1])
    resolved, compute = analyses.compare_job(a, b, query)
    key = cache_key([a.checksum, b.checksum], "compare", resolved)
    return await answer(svc.jobs, key, "compare", compute, OUT["compare"])


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
