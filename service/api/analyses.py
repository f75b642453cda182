"""The seed paper's analyses (separability, diversity, cross-model comparison) and job polling.

Each answers 200 with the result when it is cached or finishes within a few seconds, else 202 with
a job to poll at /v1/jobs/{id}. Identical requests share one computation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request, Response, Router
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler, route
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from service import request_types as r
from service import response_types as s
from service.analyses import compare, compare_spaces, diversity, relations, separability
from service.api.access import client_of
from service.api.decoding import decoder
from service.api.documented import get_route
from service.api.params import ERRORS, SERVICES, ModelName, Services, Svc, query_items
from service.api.problems import status_named
from service.budget import Work, check_work
from service.cache import cache_key
from service.echo import echoed
from service.errors import InvalidInput
from service.jobs import JobRequest, Jobs, JobState
from service.progress import Compute
from service.queries.evaluation import evaluation_job
from service.registry import LoadedModel

T = TypeVar("T", bound=msgspec.Struct)
ACCEPTED = {**ERRORS, 202: ResponseSpec(data_container=s.JobOut, description="still computing: poll the URL")}


def job_out(job: JobState) -> s.JobOut:
    error = None
    if job.error is not None:  # {"kind": domain error class, "detail"} -> {"status", "detail"}
        error = {"status": status_named(str(job.error.get("kind"))), "detail": job.error.get("detail", "")}
    return echoed(job, s.JobOut, url=f"/v1/jobs/{job.id}", error=error)


async def answer(
    jobs: Jobs,
    key: str,
    kind: str,
    compute: Any,
    request: JobRequest,
    client: str = "",
    cost: float = 1.0,
    retry: bool = True,
) -> Response[Any]:
    outcome = await jobs.run(key, kind, compute, request, client=client, cost=cost)
    if isinstance(outcome.body, JobState):
        body = job_out(outcome.body)
        return Response(body, status_code=202, headers={"Location": body.url})
    try:
        result = msgspec.json.decode(outcome.body, type=OUT[kind])
    except (msgspec.DecodeError, msgspec.ValidationError):
        await jobs.forget(key)
        if not (retry and outcome.cached):  # a fresh result that does not decode is a bug: say so once
            raise
        return await answer(jobs, key, kind, compute, request, client, cost, retry=False)  # corrupted cache
    if outcome.cached:
        result = msgspec.structs.replace(result, cached=True)
    return Response(result, status_code=200)


def _analysis(path: str, kind: type[r.Request], summary: str) -> HTTPRouteHandler:
    return get_route(path, summary, kind, ACCEPTED)


OUT: dict[str, type[msgspec.Struct]] = {
    "evaluate": s.EvaluateOut,
    "separability": s.SeparabilityOut,
    "diversity": s.DiversityOut,
    "language-relations": s.RelationsOut,
    "compare": s.CompareOut,
    "compare-spaces": s.CompareSpacesOut,
}
KINDS: dict[str, type[r.Request]] = {
    "evaluate": r.EvaluateRequest,
    "separability": r.SeparabilityRequest,
    "diversity": r.DiversityRequest,
    "language-relations": r.RelationsRequest,
    "compare": r.CompareRequest,
    "compare-spaces": r.CompareSpacesRequest,
}
Job = Callable[[LoadedModel, Any], tuple[Compute, Work]]  # the computation and its predicted work
MODEL_JOBS: dict[str, Job] = {
    "separability": separability.separability_job,
    "diversity": diversity.diversity_job,
    "language-relations": relations.relations_job,
    "compare-spaces": compare_spaces.compare_spaces_job,
}


async def begin(
    svc: Services, name: str, path: dict[str, str], query: r.Request, client: str = ""
) -> Response[Any]:
    """Validate and resolve (a 400 now, not a failed job), then compute once per canonical request.
    The job is keyed by the canonical request as asked and records it, so that any replica that
    restarts it (this one dies) resolves it again into the same job."""
    checksums: list[str]
    limits = svc.settings.limits
    if isinstance(query, r.CompareRequest):
        if query.models[0] == query.models[1]:
            raise InvalidInput("name two different models, comma-separated", field="models")
        a, b = svc.registry.get(query.models[0]), svc.registry.get(query.models[1])
        # its budget matches the two vocabularies' tokens: ~0.3 s once per pair, not on the loop
        compute, work = await anyio.to_thread.run_sync(compare.compare_job, a, b, query)
        checksums = [a.checksum, b.checksum]
    elif isinstance(query, r.EvaluateRequest):  # a dictionary too large for one request's budget
        found = svc.registry.get(path["model"])
        compute, work = evaluation_job(found, query, limits)
        checksums = [found.checksum]
    else:
        found = svc.registry.get(path["model"])
        compute, work = MODEL_JOBS[name](found, query)
        checksums = [found.checksum]
    field, advice = (
        ("dictionary", "send fewer pairs") if name == "evaluate" else ("sample", "ask for a smaller sample")
    )
    check_work(work, limits.max_job_seconds, "max_job_seconds", field, advice)
    again = JobRequest(name, path, msgspec.to_builtins(query), client)
    key = cache_key(checksums, name, query)
    return await answer(svc.jobs, key, name, compute, again, client, work.seconds)


async def _run(
    request: Request[Any, Any, Any], svc: Services, name: str, model: str | None = None
) -> Response[Any]:
    query = decoder(KINDS[name]).from_query(query_items(request))
    client = client_of(request.scope)
    return await begin(svc, name, {"model": model} if model is not None else {}, query, client)


# One small handler per route (`duplicates` pairs them by shape): Litestar documents each operation from
# its own function and decorator; what they share is one call (`_run`).
@_analysis(
    "/models/{model:str}/separability",
    r.SeparabilityRequest,
    "Writing-system separability by logistic regression (paper: 99.2%)",
)
async def get_separability(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.SeparabilityOut]:
    return await _run(request, svc, "separability", model)


@_analysis(
    "/models/{model:str}/diversity",
    r.DiversityRequest,
    "Distinct scripts among each token's nearest neighbors (paper: 7.61)",
)
async def get_diversity(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.DiversityOut]:
    return await _run(request, svc, "diversity", model)


@_analysis(
    "/models/{model:str}/languages/relations",
    r.RelationsRequest,
    "How often tokens of one language neighbor another's, with a clustering of languages",
)
async def get_language_relations(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.RelationsOut]:
    return await _run(request, svc, "language-relations", model)


@_analysis(
    "/compare", r.CompareRequest, "Neighbor overlap and canonical angles of two models over shared tokens"
)
async def get_compare(request: Request[Any, Any, Any], svc: Svc) -> Response[s.CompareOut]:
    return await _run(request, svc, "compare")


@_analysis(
    "/models/{model:str}/compare-spaces",
    r.CompareSpacesRequest,
    "The input and encoder spaces side by side: neighbor overlap, rank correlation, diversity, separability",
)
async def get_compare_spaces(
    request: Request[Any, Any, Any], svc: Svc, model: ModelName
) -> Response[s.CompareSpacesOut]:
    return await _run(request, svc, "compare-spaces", model)


def recorded_query(recorded: JobRequest) -> r.Request:
    """The request a job record carries, as a replica restarting the job decodes it."""
    return msgspec.convert(recorded.query, KINDS[recorded.endpoint]).canonical()


JobId = Annotated[str, Parameter(description="job id", max_length=64)]


@route(
    "/jobs/{job_id:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    responses=ACCEPTED,
    summary="State of a long-running analysis: status, progress, result when done",
)
async def get_job(svc: Svc, job_id: JobId) -> s.JobOut:
    job = await svc.jobs.state(job_id)
    if job.request is not None and await svc.jobs.orphaned(job):  # its replica died: restart it here
        again = job.request
        restarted = await begin(svc, again.endpoint, again.path, recorded_query(again), again.client)
        if restarted.status_code == 202:
            return restarted.content  # type: ignore[no-any-return]
        job = await svc.jobs.state(job_id)
    return job_out(job)


@route(
    "/jobs/{job_id:str}",
    http_method=HttpMethod.DELETE,
    responses=ERRORS,
    status_code=202,
    summary="Cancel a running analysis (it stops between blocks of work; its state says 'cancelled'); with "
    "API keys, only the key that asked for it may",
)
async def cancel_job(request: Request[Any, Any, Any], svc: Svc, job_id: JobId) -> s.JobOut:
    return job_out(await svc.jobs.cancel(job_id, client_of(request.scope)))


router = Router(
    path="/v1",
    route_handlers=[
        get_separability,
        get_diversity,
        get_language_relations,
        get_compare,
        get_compare_spaces,
        get_job,
        cancel_job,
    ],
    dependencies=SERVICES,
    tags=["analyses"],
)
