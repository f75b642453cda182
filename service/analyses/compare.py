"""Neighbor overlap and canonical angles of two models over shared tokens, as a job."""

from __future__ import annotations

import numpy as np

from geometry.compare import Comparison, compare, shared_tokens
from service import request_types as r
from service import response_types as s
from service.budget import Work
from service.echo import echoed
from service.errors import NothingToFit
from service.progress import Compute, Progress, timed
from service.registry import LoadedModel


def shared_ids(a: LoadedModel, b: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """The ids in A and in B of the token strings both hold, matched once per pair (~0.3 s for e5
    and USE) and kept: the budget needs their count."""
    return a.derive(f"tokens shared with {b.name}", lambda: shared_tokens(a.raw, b.raw))


def compared(a: LoadedModel, b: LoadedModel, request: r.CompareRequest, progress: Progress) -> Comparison:
    """Neighbor overlap and canonical angles over the usable tokens both vocabularies hold."""
    ids_a, ids_b = shared_ids(a, b)
    usable = (a.space.norms[ids_a] > 0) & (b.space.norms[ids_b] > 0)
    ids_a, ids_b = ids_a[usable], ids_b[usable]
    if len(ids_a) <= request.k:
        raise NothingToFit(
            f"{a.name} and {b.name} share only {len(ids_a)} tokens; need more than k={request.k}",
            field="models",
        )
    found = compare(
        a.space.unit,
        b.space.unit,
        ids_a,
        ids_b,
        k=request.k,
        sample=request.sample,
        seed=request.seed,
        progress=progress,
    )
    progress(1.0)
    return found


def compare_work(a: LoadedModel, b: LoadedModel, request: r.CompareRequest) -> Work:
    """Every sampled shared token ranks every shared token in both models (the tokens are matched
    here: call it off the event loop)."""
    shared = len(shared_ids(a, b)[0])
    queries = max(1, round(request.sample * shared))
    da, db = a.manifest.dim, b.manifest.dim
    work = Work().reading(shared * (da + db)).gram(shared * (da * da + db * db + da * db))
    return work.rankings(2 * queries, shared)  # in each model


def compare_job(a: LoadedModel, b: LoadedModel, request: r.CompareRequest) -> tuple[Compute, Work]:
    """The job's computation and its work (`compare_work`)."""

    def answer(result: Comparison, took: float) -> s.CompareOut:
        return echoed(
            request,
            s.CompareOut,
            models=[a.name, b.name],
            shared_tokens=result.shared,
            queries=result.queries,
            overlap_mean=round(result.overlap_mean, 4),
            overlap_sd=round(result.overlap_sd, 4),
            canonical_correlations=result.canonical,
            took_seconds=took,
        )

    return timed(lambda progress: compared(a, b, request, progress), answer), compare_work(a, b, request)
