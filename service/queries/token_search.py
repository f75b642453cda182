"""Candidates among the vocabulary's tokens (routes table, search and best_score): each query's
nearest tokens, or its translation candidates in other scripts or named languages, chosen by the
options and answered with the fields asked for."""

from __future__ import annotations

import time

import numpy as np

from geometry.neighbors import Hits, search_many
from geometry.translation import Ranked, translate_many
from service import request_types as r
from service.metrics import metrics
from service.queries.answers import Found, QueriesOut, answered
from service.queries.filters import target_mask, target_names
from service.queries.options import best_score_hits, select, without_examples
from service.queries.plan import Plan
from service.queries.resolve import Examples, Resolved, examples_query, resolve_all
from service.registry import LoadedModel

NO_MEANS = np.empty(0, dtype=np.float32)


def neighbors(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Each query's nearest tokens among those the plan's filters allow (the examples' best-score
    ranking for route best_score): from the exact table where it holds them, else HNSW or a scan."""
    request, mask = plan.request, plan.mask
    assert isinstance(request, r.NeighborsRequest)
    queries, examples = _queries(model, plan)
    tokens = [token for _, token, _ in queries]
    plan.admit_search(model, tokens)
    started = time.perf_counter()
    if examples is not None:
        found = [best_score_hits(model, examples, mask, plan.depth)]
    else:
        extra = max((len(echo.examples or []) for _, _, echo in queries), default=0)  # left out below
        found = search_many(
            model.space, np.stack([vector for vector, _, _ in queries]), plan.depth + extra, tokens=tokens,
            mask=mask, exact=request.exact, approximate=request.approximate,
        )  # fmt: skip
    metrics().search_seconds.labels(found[0].method).observe((time.perf_counter() - started) / len(found))
    ranked = []
    for (vector, token, echo), hits in zip(queries, found, strict=True):
        ids, sims = hits.ids, hits.sims
        if request.include_self and token is not None and (mask is None or mask[token]):
            ids, sims = np.concatenate([[token], ids]), np.concatenate([[1.0], sims]).astype(np.float32)
        ranking = without_examples(echo, (ids, sims, None))
        ranked.append(Found(echo, ranking, select(model, request, (vector, token), ranking), hits.method))
    return answered(model, plan, ranked)


def translations(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Each query's candidates in its target scripts or languages, by cosine or CSLS. Queries with the
    same targets (by default: all scripts but the query's own) share one search."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    queries, examples = _queries(model, plan)
    groups: dict[tuple[str, ...], list[int]] = {}
    for row, (_, _, echo) in enumerate(queries):
        groups.setdefault(tuple(target_names(model, request, echo)), []).append(row)
    masks = {names: target_mask(model, request, names) for names in groups}  # once per set of targets
    tokens = [token for _, token, _ in queries]
    plan.admit_translations(model, tokens, [(len(groups[names]), masks[names]) for names in groups])
    ranked: dict[int, Ranked] = {}
    for names, members in groups.items():
        found = _ranked(model, plan, [queries[row] for row in members], masks[names], examples)
        ranked.update(zip(members, found, strict=True))
    names_of = {row: list(names) for names, members in groups.items() for row in members}
    answers = []
    for row, (vector, token, echo) in enumerate(queries):
        one = ranked[row]
        ranking = without_examples(echo, (one.ids, one.cosine, one.csls))
        chosen = select(model, request, (vector, token), ranking)
        answers.append(Found(echo, ranking, chosen, targets=(names_of[row], request.target_languages)))
    return answered(model, plan, answers)


def _queries(model: LoadedModel, plan: Plan) -> tuple[list[Resolved], Examples | None]:
    """The queries resolved, and for route best_score the examples' own vectors."""
    if plan.best_score:
        query, examples = examples_query(model, plan.request)
        return [query], examples
    return resolve_all(model, plan.request), None


def _ranked(
    model: LoadedModel, plan: Plan, queries: list[Resolved], mask: np.ndarray, examples: Examples | None
) -> list[Ranked]:
    """One target group's rankings: best score over the examples, else cosine or CSLS (deeper by the
    examples the answer leaves out)."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    if examples is not None:
        hits: Hits = best_score_hits(model, examples, mask, plan.depth)
        return [Ranked(hits.ids, hits.sims, None)]
    depth = plan.depth + len(request.positive or []) + len(request.negative or [])
    vectors = np.stack([vector for vector, _, _ in queries])
    tokens = [token for _, token, _ in queries]
    means = (
        model.csls_r if request.method == "csls" else NO_MEANS
    )  # cosine reads none (a first build has none)
    return translate_many(model.space, vectors, depth, mask, request.method, means, tokens)
