"""Translation candidates of one query or a batch, in other scripts or named languages."""

from __future__ import annotations

import numpy as np

from geometry.translation import CSLS_K, Ranked, translate_many
from service import requests as r
from service import schemas as s
from service.errors import InvalidInput
from service.registry import LoadedModel
from service.settings import Limits
from service.usecases.resolving import (
    DEFAULT_LIMITS,
    answer_rows,
    check_budget,
    filter_mask,
    resolve_all,
)


def _target_mask(
    model: LoadedModel, scheme: str, targets: list[str] | None, query_ids: list[int]
) -> tuple[np.ndarray, list[str]]:
    """Targets given, or every script except those of the queries (and Common/Mixed/Special)."""
    labels = model.scheme(scheme)
    if targets:
        names = targets
    else:
        own = {labels.names[int(labels.codes[i])] for i in query_ids}
        neutral = {"Common", "Mixed", "Special", "EMPTY", "N", "P", "S", "M", "C", "Z"}
        names = [n for n in labels.names if n not in own and n not in neutral]
    mask = filter_mask(model, scheme, names, None, None, TARGET_FIELDS)
    assert mask is not None
    return mask, names


TARGET_FIELDS = ("target_scripts", "", "target_languages")


def _targets(
    model: LoadedModel, request: r.TranslationsRequest, token: int | None
) -> tuple[np.ndarray, list[str]]:
    """The candidate mask of one query and the target scripts it stands for."""
    targets, languages = request.target_scripts, request.target_languages
    if languages:  # the languages pick the candidates; target_scripts, when given, narrow them
        mask = filter_mask(model, request.scheme, targets, None, languages, TARGET_FIELDS)
        assert mask is not None
        return mask, targets or []
    if token is None and not targets:
        raise InvalidInput(
            "a vector query has no script of its own: name target_scripts or target_languages",
            field="target_scripts",
        )
    return _target_mask(model, request.scheme, targets, [token] if token is not None else [])


def translations(
    model: LoadedModel, request: r.TranslationsRequest, limits: Limits = DEFAULT_LIMITS
) -> s.TranslationsOut | s.TranslationsBatchOut:
    resolved, batch = resolve_all(model, request)
    free = sum(1 for _, token, _ in resolved if token is None)  # CSLS means of vectors: one more scan
    scans = len(resolved) + (free if request.method == "csls" else 0)
    vocabulary = len(model.space.indexed)
    check_budget(model, limits, len(resolved), request.k, scans, vocabulary, "queries" if batch else "k")
    # queries with the same targets (by default: all scripts but the query's own) share one search
    groups: dict[tuple[str, ...], tuple[np.ndarray, list[int]]] = {}
    for row, (_, token, _) in enumerate(resolved):
        mask, names = _targets(model, request, token)
        groups.setdefault(tuple(names), (mask, []))[1].append(row)
    ranked: list[Ranked | None] = [None] * len(resolved)
    for mask, members in groups.values():
        vectors = np.stack([resolved[row][0] for row in members])
        tokens = [resolved[row][1] for row in members]
        found = translate_many(model.space, vectors, request.k, mask, request.method, model.csls_r, tokens)
        for row, result in zip(members, found, strict=True):
            ranked[row] = result
    names_of = {row: list(names) for names, (_, members) in groups.items() for row in members}
    results = [
        s.TranslationsOut(
            model.name,
            echo,
            request.k,
            request.method,
            request.scheme,
            names_of[row],
            request.target_languages,
            CSLS_K,  # type: ignore[arg-type]
            answer_rows(model, found.ids, found.cosine, found.csls, request.fields),
        )
        for row, ((_, _, echo), found) in enumerate(zip(resolved, ranked, strict=True))
        if found is not None
    ]
    return s.TranslationsBatchOut(model.name, results) if batch else results[0]
