"""Distinct categories among each token's nearest neighbors, as a job."""

from __future__ import annotations

from collections.abc import Callable

from geometry.diversity import Diversity, diversity, sample_queries
from service import request_types as r
from service import response_types as s
from service.analyses.token_sets import language_tokens, neighbor_ids, neighbor_work
from service.budget import Work
from service.echo import echoed
from service.errors import at
from service.progress import Compute, Progress, timed
from service.registry import LoadedModel


def prepare(model: LoadedModel, request: r.DiversityRequest) -> Callable[[Progress], Diversity]:
    """Validate now (a 400, not a failed job); return the computation of the domain result."""
    scheme, k, sample, seed = request.scheme, request.k, request.sample, request.seed
    with at("scheme"):
        labels = model.scheme(scheme)
    # language: queries are language-labelled tokens
    pool = language_tokens(model, None) if scheme == "language" else model.space.indexed

    def run(progress: Progress) -> Diversity:
        queries = sample_queries(pool, sample, seed)
        neighbors = neighbor_ids(model, queries, k, progress)
        return diversity(
            neighbors,
            queries,
            labels.codes,
            labels.names,
            include_self=request.include_self,
            count=request.count,
            scheme=scheme,
        )

    return run


def diversity_job(model: LoadedModel, request: r.DiversityRequest) -> tuple[Compute, Work]:
    """The job's computation and its work: every sampled token's k neighbors, from the table or, before
    it is built, from exact scans (an upper bound: the sample of all indexed rows)."""
    run = prepare(model, request)
    work = neighbor_work(model, max(1, round(request.sample * len(model.space.indexed))), request.k)

    def answer(result: Diversity, took: float) -> s.DiversityOut:
        return echoed(
            request,
            s.DiversityOut,
            model=model.name,
            queries=result.queries,
            mean=round(result.mean, 6),
            sd=round(result.sd, 6),
            histogram=result.histogram,
            mix=result.mix,
            mix_queries=result.mix_queries,
            took_seconds=took,
        )

    return timed(run, answer), work
