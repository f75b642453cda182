"""Analysis use-cases (separability, diversity, compare): validate, compute, encode.

Each `*_job` validates its parameters at once (so bad input is a 400, not a failed job) and returns
the computation as a closure for `Jobs.run`, which caches and schedules it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
import numpy as np

from service import schemas as s
from service.analysis.compare import compare, shared_tokens
from service.analysis.diversity import NON_SCRIPT, diversity, sample_queries
from service.analysis.neighbors import search
from service.analysis.separability import separability
from service.errors import BadRequest
from service.jobs import Progress
from service.models import LoadedModel

PROTOCOL = (
    "balanced undersampling; L2-normalised rows; logistic regression, C=1, unpenalised intercept "
    "(scikit-learn LogisticRegression() objective, solved by batched Newton-CG); stratified k-fold accuracy"
)
Compute = Callable[[Progress], bytes]


def _check_categories(model: LoadedModel, scheme: str, categories: list[str] | None) -> list[str] | None:
    if categories:
        known = model.scheme(scheme).names
        unknown = [c for c in categories if c not in known]
        if unknown:
            raise BadRequest("categories", f"unknown {scheme} labels {unknown}", known=known)
    return sorted(categories) if categories else None


def separability_job(
    model: LoadedModel,
    scheme: str,
    mode: str,
    min_tokens: int,
    folds: int,
    seed: int,
    categories: list[str] | None,
) -> tuple[dict[str, object], Compute]:
    labels = model.scheme(scheme)
    chosen = _check_categories(model, scheme, categories)
    if chosen is None and scheme == "unicode":  # Common/Mixed/Special are not writing systems
        chosen = [n for n in labels.names if n not in NON_SCRIPT[scheme]]
    params = {
        "scheme": scheme,
        "mode": mode,
        "min_tokens": min_tokens,
        "folds": folds,
        "seed": seed,
        "categories": chosen,
    }

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        result = separability(
            model.space.unit,
            model.space.indexed,
            labels.codes,
            labels.names,
            mode=mode,
            min_tokens=min_tokens,
            folds=folds,
            seed=seed,
            categories=chosen,
            progress=progress,
        )
        scores = [
            s.CategoryScore(
                x.category,
                x.tokens,
                x.other,
                x.samples,
                round(x.accuracy, 6),
                round(x.sd, 6),
                [round(f, 6) for f in x.folds],
            )
            for x in result.scores
        ]
        out = s.SeparabilityOut(
            model.name,
            scheme,
            mode,
            min_tokens,
            folds,
            seed,
            categories,
            PROTOCOL,
            scores,
            round(result.mean, 6),
            result.skipped,
            round(time.perf_counter() - started, 3),
        )
        return msgspec.json.encode(out)

    return params, compute


def _neighbour_ids(model: LoadedModel, queries: np.ndarray, k: int, progress: Progress) -> np.ndarray:
    space = model.space
    if space.knn_ids is not None and space.table_k >= k:
        return np.asarray(space.knn_ids[queries, :k], dtype=np.int64)
    out = np.empty((len(queries), k), dtype=np.int64)
    for row, ident in enumerate(queries):
        out[row] = search(space, space.unit(np.array([ident]))[0], k, token=int(ident)).ids
        if row % 1000 == 0:
            progress(row / len(queries))
    return out


def diversity_job(
    model: LoadedModel, scheme: str, k: int, sample: float, seed: int, include_self: bool, count: str
) -> tuple[dict[str, object], Compute]:
    labels = model.scheme(scheme)
    params = {
        "scheme": scheme,
        "k": k,
        "sample": sample,
        "seed": seed,
        "include_self": include_self,
        "count": count,
    }

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        queries = sample_queries(model.space.indexed, sample, seed)
        neighbours = _neighbour_ids(model, queries, k, progress)
        result = diversity(
            neighbours,
            queries,
            labels.codes,
            labels.names,
            include_self=include_self,
            count=count,
            scheme=scheme,
        )
        out = s.DiversityOut(
            model.name,
            scheme,
            k,
            sample,
            seed,
            include_self,
            count,
            result.queries,
            round(result.mean, 6),
            round(result.sd, 6),
            result.histogram,
            result.mix,
            result.mix_queries,
            round(time.perf_counter() - started, 3),
        )
        return msgspec.json.encode(out)

    return params, compute


def compare_job(
    a: LoadedModel, b: LoadedModel, k: int, sample: float, seed: int
) -> tuple[dict[str, object], Compute]:
    params = {"models": [a.name, b.name], "k": k, "sample": sample, "seed": seed}

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        ids_a, ids_b = shared_tokens(a.raw, b.raw)
        usable = (a.space.norms[ids_a] > 0) & (b.space.norms[ids_b] > 0)
        ids_a, ids_b = ids_a[usable], ids_b[usable]
        if len(ids_a) <= k:
            raise BadRequest(
                "models", f"{a.name} and {b.name} share only {len(ids_a)} tokens; need more than k={k}"
            )
        result = compare(a.space.unit, b.space.unit, ids_a, ids_b, k=k, sample=sample, seed=seed)
        progress(1.0)
        out = s.CompareOut(
            [a.name, b.name],
            result.shared,
            k,
            sample,
            seed,
            result.queries,
            round(result.overlap_mean, 4),
            round(result.overlap_sd, 4),
            result.canonical,
            round(time.perf_counter() - started, 3),
        )
        return msgspec.json.encode(out)

    return params, compute
