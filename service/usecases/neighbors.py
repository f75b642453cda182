"""Nearest neighbors of one query or a batch (`request_types.NeighborsRequest` taken whole)."""

from __future__ import annotations

import time

import numpy as np

from geometry.neighbors import BATCH_EXACT, search_many
from service import request_types as r
from service import response_types as s
from service.metrics import metrics
from service.registry import LoadedModel
from service.settings import Limits
from service.usecases import shaping, vocabulary_health
from service.usecases.budget import check_query_work
from service.usecases.encoded import encoded_neighbors
from service.usecases.plan import Plan, plan
from service.usecases.resolving import DEFAULT_LIMITS, filter_mask, resolve_all


def neighbors(
    model: LoadedModel,
    request: r.NeighborsRequest,
    limits: Limits = DEFAULT_LIMITS,
    steps: Plan | None = None,
) -> s.NeighborsOut | s.NeighborsBatchOut:
    if request.space == "encoder":
        return encoded_neighbors(model, request, limits)
    shaping.check_options(request)
    steps = steps or plan(model, request, limits)
    resolved, batch = resolve_all(model, request)
    mask = filter_mask(model, request.scheme, request.scripts, request.exclude_scripts, request.languages)
    if request.exclude_anomalous:
        mask = vocabulary_health.without_anomalies(model, mask)
    tokens = [token for _, token, _ in resolved]
    depth = steps.depth
    table_may_answer = not request.exact and depth <= model.space.table_k
    scans = sum(
        1
        for token in tokens
        if not table_may_answer or mask is not None or (token is None and not request.approximate)
    )
    rows = len(model.space.indexed) if mask is None else int(mask.sum())
    examples = len(request.positive or []) + len(request.negative or [])
    if request.positive and request.strategy == "best_score":  # every row against every example
        scans, batched = examples, True
    else:
        batched = scans >= BATCH_EXACT
    work = steps.work.scans(scans, rows, model.manifest.dim, batched=batched)
    check_query_work(work, limits, steps.field)
    started = time.perf_counter()
    if request.positive and request.strategy == "best_score":
        found = [shaping.best_score_hits(model, request, mask)]
    else:
        vectors = np.stack([vector for vector, _, _ in resolved])
        extra = max((len(echo.examples or []) for _, _, echo in resolved), default=0)  # left out below
        found = search_many(
            model.space,
            vectors,
            depth + extra,
            tokens=tokens,
            mask=mask,
            exact=request.exact,
            approximate=request.approximate,
        )
    if found:
        elapsed = (time.perf_counter() - started) / len(found)
        metrics().search_seconds.labels(found[0].method).observe(elapsed)
    results = []
    for (vector, token, echo), hits in zip(resolved, found, strict=True):
        ids, sims = hits.ids, hits.sims
        if request.include_self and token is not None and (mask is None or mask[token]):
            ids, sims = np.concatenate([[token], ids]), np.concatenate([[1.0], sims]).astype(np.float32)
        if echo.examples:
            own = shaping.without_examples(echo, ids)
            ids, sims = ids[own], sims[own]
        shaped = shaping.shape(model, request, (vector, token), (ids, sims, None))
        shown = (shaped.rows, shaped.groups, shaped.next_cursor)
        results.append(shaping.neighbors_out(model, request, echo, hits.method, shown))
    return s.NeighborsBatchOut(model=model.name, results=results) if batch else results[0]
