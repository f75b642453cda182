"""The seed paper's analyses (separability, diversity, cross-model comparison) and job polling.

Each answers 200 with the result when it is cached or finishes within a few seconds, else 202 with
a job to poll at /v1/jobs/{id}. Identical requests share one computation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from service import analyses
from service import schemas as s
from service.api.params import (
    ERRORS,
    JobsDep,
    LanguagesParam,
    ModelName,
    Reg,
    examples,
    model_of,
    registry,
    split,
)
from service.cache import cache_key
from service.errors import BadRequest
from service.jobs import Jobs, JobState

T = TypeVar("T", bound=msgspec.Struct)
ACCEPTED = {**ERRORS, 202: ResponseSpec(data_container=s.JobOut, description="still computing: poll the URL")}

Seed = Annotated[
    int, Parameter(description="random seed (echoed; same seed, same numbers)", ge=0, le=2**32 - 1)
]
Sample = Annotated[
    float, Parameter(description="share of the vocabulary used as queries (1.0 = all)", gt=0, le=1)
]
AnalysisScheme = Annotated[
    Literal["paper", "unicode", "language"],
    Parameter(
        description="label scheme: 'paper' (the seed paper's categories), 'unicode' (Unicode scripts) or "
        "'language' (word-frequency language labels: only language-labelled tokens are classified or "
        "used as queries)"
    ),
]


def jobs_of(state: State) -> Jobs:
    return state.jobs  # type: ignore[no-any-return]


def job_out(job: JobState) -> s.JobOut:
    return s.JobOut(job.id, job.kind, job.status, job.progress, f"/v1/jobs/{job.id}", job.result, job.error)


async def answer(
    jobs: JobsDep, key: str, kind: str, compute: Any, kind_type: type[T], retry: bool = True
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


@get(
    "/models/{model:str}/separability",
    summary="Writing-system separability by logistic regression (paper: 99.2%)",
    responses=ACCEPTED,
)
async def get_separability(
    reg: Reg,
    jobs: JobsDep,
    model: ModelName,
    scheme: AnalysisScheme = "paper",
    mode: Annotated[
        Literal["one-vs-rest", "pairwise"],
        Parameter(description="category against the rest, or every pair of categories"),
    ] = "one-vs-rest",
    min_tokens: Annotated[
        int, Parameter(description="skip categories with fewer tokens", ge=20, le=1_000_000)
    ] = 500,
    folds: Annotated[int, Parameter(description="cross-validation folds", ge=2, le=20)] = 10,
    seed: Seed = 0,
    categories: Annotated[
        str | None,
        Parameter(
            description="comma-separated categories (default: all eligible); ISO 639 codes for "
            "scheme=language",
            max_length=2000,
            examples=examples("LATIN,CYRILLIC", "fr,es,it,pt,de,nl"),
        ),
    ] = None,
    within: Annotated[
        str | None,
        Parameter(
            description="scheme=language only: use tokens of this Unicode script only (languages that "
            "share a script)",
            max_length=100,
            examples=examples("Latin", "Cyrillic"),
        ),
    ] = None,
) -> Response[s.SeparabilityOut]:
    found = model_of(reg, model)
    params, compute = analyses.separability_job(
        found, scheme, mode, min_tokens, folds, seed, split(categories), within
    )
    key = cache_key([found.checksum], "separability", params)
    return await answer(jobs, key, "separability", compute, s.SeparabilityOut)


@get(
    "/models/{model:str}/diversity",
    summary="Distinct scripts among each token's nearest neighbours (paper: 7.61)",
    responses=ACCEPTED,
)
async def get_diversity(
    reg: Reg,
    jobs: JobsDep,
    model: ModelName,
    k: Annotated[int, Parameter(description="neighbours per query", ge=1, le=100)] = 50,
    sample: Sample = 0.01,
    seed: Seed = 0,
    scheme: AnalysisScheme = "paper",
    include_self: Annotated[bool, Parameter(description="count the query itself (the paper does)")] = True,
    count: Annotated[
        Literal["all", "scripts-only"],
        Parameter(
            description="count every category, or writing systems only (scheme=language: languages only, "
            "not 'ambiguous' or 'unlabelled')"
        ),
    ] = "all",
) -> Response[s.DiversityOut]:
    found = model_of(reg, model)
    params, compute = analyses.diversity_job(found, scheme, k, sample, seed, include_self, count)
    key = cache_key([found.checksum], "diversity", params)
    return await answer(jobs, key, "diversity", compute, s.DiversityOut)


@get(
    "/models/{model:str}/languages/relations",
    summary="How often tokens of one language neighbour another's, with a clustering of languages",
    responses=ACCEPTED,
)
async def get_language_relations(
    reg: Reg,
    jobs: JobsDep,
    model: ModelName,
    k: Annotated[int, Parameter(description="neighbours per sampled token", ge=1, le=100)] = 10,
    sample: Annotated[
        int, Parameter(description="tokens sampled per language (all when fewer)", ge=1, le=100_000)
    ] = 1000,
    seed: Seed = 0,
    min_tokens: Annotated[
        int, Parameter(description="leave out languages with fewer labelled tokens", ge=1, le=1_000_000)
    ] = 200,
    languages: LanguagesParam = None,  # default: every language with min_tokens labelled tokens
) -> Response[s.RelationsOut]:
    found = model_of(reg, model)
    params, compute = analyses.relations_job(found, k, sample, seed, min_tokens, split(languages))
    key = cache_key([found.checksum], "language-relations", params)
    return await answer(jobs, key, "language-relations", compute, s.RelationsOut)


@get(
    "/compare",
    summary="Neighbour overlap and canonical angles of two models over shared tokens",
    responses=ACCEPTED,
)
async def get_compare(
    reg: Reg,
    jobs: JobsDep,
    models: Annotated[
        str,
        Parameter(
            description="two model names, comma-separated",
            examples=examples("multilingual-e5-small,use-multilingual-v3"),
        ),
    ],
    k: Annotated[int, Parameter(description="neighbours compared per token", ge=1, le=1000)] = 100,
    sample: Sample = 0.05,
    seed: Seed = 0,
) -> Response[s.CompareOut]:
    names = split(models) or []
    if len(names) != 2 or names[0] == names[1]:
        raise BadRequest("models", "name two different models, comma-separated")
    a, b = model_of(reg, names[0]), model_of(reg, names[1])
    params, compute = analyses.compare_job(a, b, k, sample, seed)
    key = cache_key([a.checksum, b.checksum], "compare", params)
    return await answer(jobs, key, "compare", compute, s.CompareOut)


@get(
    "/jobs/{job_id:str}",
    responses=ERRORS,
    summary="State of a long-running analysis: status, progress, result when done",
)
async def get_job(
    jobs: JobsDep, job_id: Annotated[str, Parameter(description="job id", max_length=64)]
) -> s.JobOut:
    return job_out(await jobs.state(job_id))


router = Router(
    path="/v1",
    route_handlers=[get_separability, get_diversity, get_language_relations, get_compare, get_job],
    dependencies={
        "reg": Provide(registry, sync_to_thread=False),
        "jobs": Provide(jobs_of, sync_to_thread=False),
    },
    tags=["analyses"],
)
