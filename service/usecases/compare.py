"""Neighbour overlap and canonical angles of two models over shared tokens, as a job."""

from __future__ import annotations

import time

import msgspec

from geometry.compare import Comparison, compare, shared_tokens
from service import requests as r
from service import schemas as s
from service.errors import NothingToFit
from service.jobs import Compute, Progress
from service.registry import LoadedModel


def compared(a: LoadedModel, b: LoadedModel, request: r.CompareRequest, progress: Progress) -> Comparison:
    """Neighbour overlap and canonical angles over the usable tokens both vocabularies hold."""
    ids_a, ids_b = shared_tokens(a.raw, b.raw)
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


def compare_job(
    a: LoadedModel, b: LoadedModel, request: r.CompareRequest
) -> tuple[r.CompareRequest, Compute]:
    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        result = compared(a, b, request, progress)
        out = s.CompareOut(
            [a.name, b.name],
            result.shared,
            request.k,
            request.sample,
            request.seed,
            result.queries,
            round(result.overlap_mean, 4),
            round(result.overlap_sd, 4),
            result.canonical,
            round(time.perf_counter() - started, 3),
        )
        return msgspec.json.encode(out)

    return request, compute
