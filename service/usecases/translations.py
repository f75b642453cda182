"""Translation candidates of one query or a batch, in other scripts or named languages."""

from __future__ import annotations

import numpy as np

from geometry.translation import CSLS_K, Ranked, translate_many
from service import requests as r
from service import schemas as s
from service.errors import InvalidInput, at
from service.registry import LoadedModel
from service.settings import Limits
from service.usecases import health, shaping
from service.usecases.plan import plan
from service.usecases.resolving import DEFAULT_LIMITS, check_budget, filter_mask, resolve_all
from service.usecases.words import word_translations

TARGET_FIELDS = ("target_scripts", "", "target_languages")
NEUTRAL = {"Common", "Mixed", "Special", "EMPTY", "N", "P", "S", "M", "C", "Z"}  # not writing systems


def _target_names(model: LoadedModel, request: r.TranslationsRequest, echo: s.QueryOut) -> list[str]:
    """The target scripts of one query: as given, or (no languages named) every script but the
    query's own (a text's: its pieces' most common) and the neutral categories."""
    if request.target_languages or request.target_scripts:
        return request.target_scripts or []
    with at("scheme"):
        labels = model.scheme(request.scheme)
    if echo.labels is None:
        raise InvalidInput(
            "a vector query has no script of its own: name target_scripts or target_languages",
            field="target_scripts",
        )
    own = echo.labels[request.scheme]
    return [n for n in labels.names if n != own and n not in NEUTRAL]


def _target_mask(model: LoadedModel, request: r.TranslationsRequest, names: list[str]) -> np.ndarray:
    """The candidates: the named languages (narrowed by the scripts when given), else the scripts."""
    languages = request.target_languages
    mask = filter_mask(model, request.scheme, names or None, None, languages, TARGET_FIELDS)
    assert mask is not None
    return mask


def _out(
    model: LoadedModel,
    request: r.TranslationsRequest,
    echo: s.QueryOut,
    scripts: list[str],
    languages: list[str] | None,
    shown: tuple[list[s.NeighborOut], list[s.GroupOut] | None, str | None],
) -> s.TranslationsOut:
    rows, groups, cursor = shown
    return s.TranslationsOut(
        model.name,
        echo,
        request.k,
        request.method,
        request.scheme,
        scripts,
        languages,
        CSLS_K,
        rows,
        groups,
        cursor,  # fmt: skip
    )


def translations(
    model: LoadedModel, request: r.TranslationsRequest, limits: Limits = DEFAULT_LIMITS
) -> s.TranslationsOut | s.TranslationsBatchOut:
    shaping.check_options(request)
    steps = plan(model, request)
    resolved, batch = resolve_all(model, request)
    free = sum(1 for _, token, _ in resolved if token is None)  # CSLS means of vectors: one more scan
    scans = len(resolved) + (free if request.method == "csls" else 0)
    vocabulary = len(model.space.indexed)
    field = "queries" if batch else "k"
    check_budget(model, limits, len(resolved), steps.answer_size, scans, vocabulary, field)
    depth = steps.depth
    if request.pool == "words":
        answers = word_translations(model, request, resolved, depth)
        words = [
            _out(model, request, echo, [], targets, (rows, groups, cursor))
            for (_, _, echo), (targets, rows, groups, cursor) in zip(resolved, answers, strict=True)
        ]
        return s.TranslationsBatchOut(model.name, words) if batch else words[0]
    # queries with the same targets (by default: all scripts but the query's own) share one search
    groups: dict[tuple[str, ...], list[int]] = {}
    for row, (_, _, echo) in enumerate(resolved):
        groups.setdefault(tuple(_target_names(model, request, echo)), []).append(row)
    ranked: list[Ranked | None] = [None] * len(resolved)
    for names, members in groups.items():
        mask = _target_mask(model, request, list(names))  # once per distinct set of targets
        if request.exclude_anomalous:
            mask = health.without_anomalies(model, mask)
        vectors = np.stack([resolved[row][0] for row in members])
        tokens = [resolved[row][1] for row in members]
        if request.positive and request.strategy == "best_score":
            hits = shaping.best_score_hits(model, request, mask)
            found = [Ranked(hits.ids, hits.sims, None)]
        else:
            extra = len(request.positive or []) + len(request.negative or [])  # examples are left out
            found = translate_many(
                model.space, vectors, depth + extra, mask, request.method, model.csls_r, tokens
            )
        for row, result in zip(members, found, strict=True):
            ranked[row] = result
    names_of = {row: list(names) for names, members in groups.items() for row in members}
    results = []
    for row, ((vector, token, echo), one) in enumerate(zip(resolved, ranked, strict=True)):
        assert one is not None
        keep = shaping.without_examples(echo, one.ids)
        csls = None if one.csls is None else one.csls[keep]
        shaped = shaping.shape(model, request, (vector, token), (one.ids[keep], one.cosine[keep], csls))
        shown = (shaped.rows, shaped.groups, shaped.next_cursor)
        results.append(_out(model, request, echo, names_of[row], request.target_languages, shown))
    return s.TranslationsBatchOut(model.name, results) if batch else results[0]
