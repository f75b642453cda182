"""Language relations: how often one language's tokens have another's among their neighbors."""

from __future__ import annotations

import numpy as np

from geometry.relations import Relations, neighbor_counts, relations, sample_per_label
from service import request_types as r
from service import response_types as s
from service.analyses.token_sets import neighbor_ids, neighbor_work
from service.budget import Work
from service.echo import echoed
from service.errors import NothingToFit, at
from service.progress import Compute, Progress, timed
from service.registry import LoadedModel


def chosen_languages(model: LoadedModel, languages: list[str] | None, min_tokens: int) -> list[str]:
    """Requested (or all supported) languages with at least `min_tokens` labelled tokens, sorted."""
    with at("languages"):
        table = model.language_table()
        chosen = table.check_codes(languages) if languages else table.supported
    counts = model.labels["language"].counts()
    kept = sorted({c for c in chosen if counts.get(c, 0) >= min_tokens})
    if len(kept) < 2:
        raise NothingToFit(f"fewer than two languages have {min_tokens} labelled tokens", field="min_tokens")
    return kept


def language_relations(
    model: LoadedModel, chosen: list[str], k: int, per_language: int, seed: int, progress: Progress
) -> Relations:
    labels = model.labels["language"]
    counts = labels.counts()
    wanted = [labels.names.index(c) for c in chosen]
    samples = sample_per_label(
        np.flatnonzero(model.space.norms > 0), labels.codes, wanted, per_language, seed
    )
    neighbors = neighbor_ids(model, np.concatenate(samples), k, progress)
    sizes = [len(x) for x in samples]
    found = neighbor_counts(neighbors, sizes, labels.codes, wanted)
    return relations(found, np.array([counts[c] for c in chosen], dtype=np.float64), chosen, sizes)


def relations_job(model: LoadedModel, request: r.RelationsRequest) -> tuple[Compute, Work]:
    """The job's computation and its work: up to `sample` tokens of each chosen language, k
    neighbors each (from the table or, before it is built, from exact scans)."""
    k, per_language, seed, min_tokens = request.k, request.sample, request.seed, request.min_tokens
    chosen = chosen_languages(model, request.languages, min_tokens)
    work = neighbor_work(model, len(chosen) * per_language, k)

    def matrix(values: np.ndarray) -> list[list[float]]:
        return [[round(float(v), 4) for v in row] for row in values]

    def answer(result: Relations, took: float) -> s.RelationsOut:
        names = model.language_table().info.names
        return echoed(
            request,
            s.RelationsOut,
            model=model.name,
            languages=result.languages,
            names={c: names.get(c, c) for c in chosen},
            tokens=result.tokens,
            queries=result.queries,
            share=matrix(result.share),
            lift=matrix(result.lift),
            affinity=matrix(result.affinity),
            order=result.order,
            merges=[
                s.MergeOut(left=m.left, right=m.right, distance=round(m.distance, 4)) for m in result.merges
            ],
            took_seconds=took,
        )

    return timed(
        lambda progress: language_relations(model, chosen, k, per_language, seed, progress), answer
    ), work
