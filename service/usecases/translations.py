"""Translation candidates of one query or a batch, in other scripts or named languages."""

from __future__ import annotations

import numpy as np

from geometry.translation import CSLS_K, Ranked, translate_many
from service import request_types as r
from service import response_types as s
from service.errors import InvalidInput, at
from service.registry import LoadedModel
from service.settings import Limits
from service.usecases import shaping, vocabulary_health
from service.usecases.budget import Work, check_query_work
from service.usecases.encoded import check_encoder_request, encoded_given, encoded_queries, encoding_work
from service.usecases.given import check_given, given, given_translations
from service.usecases.plan import Plan, plan
from service.usecases.resolving import DEFAULT_LIMITS, Resolved, filter_mask, resolve_all
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
        model=model.name,
        query=echo,
        k=request.k,
        method=request.method,
        scheme=request.scheme,
        target_scripts=scripts,
        target_languages=languages,
        csls_k=CSLS_K,
        candidates=rows,
        groups=groups,
        next_cursor=cursor,  # fmt: skip
        space=request.space,
    )


def _search_work(
    model: LoadedModel,
    request: r.TranslationsRequest,
    work: Work,
    resolved: list[Resolved],
    groups: dict[tuple[str, ...], list[int]],
    masks: dict[tuple[str, ...], np.ndarray],
) -> Work:
    """Each group of queries scans its targets (best_score: each example does); CSLS adds a scan of
    the whole vocabulary for every query that is not a token (its neighborhood mean)."""
    dim = model.manifest.dim
    for names, members in groups.items():
        rows = int(masks[names].sum())
        if request.positive and request.strategy == "best_score":
            work = work.scans(len(request.positive) + len(request.negative or []), rows, dim, batched=True)
        else:
            work = work.scans(len(members), rows, dim)
    free = sum(1 for _, token, _ in resolved if token is None)
    return work.scans(free, len(model.space.indexed), dim) if request.method == "csls" else work


def _encoded_translations(
    model: LoadedModel, request: r.TranslationsRequest, limits: Limits, steps: Plan
) -> s.TranslationsOut | s.TranslationsBatchOut:
    """space=encoder: queries encoded, ranked among the encoded words (or the given candidates,
    encoded too); CSLS means among the encoded words."""
    check_encoder_request(model, request)
    if request.candidates is not None:
        check_given(request)  # refused before anything is encoded
    words = model.encoded().words
    queries = len(request.queries or [request])
    texts = queries + len(request.candidates or [])
    scans = queries * (2 if request.method == "csls" else 1)
    work = encoding_work(model, texts, steps.work).scans(scans, len(words.words), words.space.matrix.shape[1])
    check_query_work(work, limits, steps.field)
    resolved, batch = encoded_queries(model, request)
    if request.candidates is not None:
        chosen = encoded_given(model, request.candidates)
        ranked = given_translations(model, request, resolved, chosen)
        shown: list[tuple[list[s.NeighborOut], list[s.GroupOut] | None, str | None]]
        shown = [(rows, None, None) for rows in ranked]
        targets: list[list[str] | None] = [None] * len(resolved)
    else:
        answers = word_translations(model, request, resolved, steps.depth)
        shown = [(rows, groups, cursor) for _, rows, groups, cursor in answers]
        targets = [languages for languages, *_ in answers]
    results = [
        _out(model, request, echo, [], languages, one)
        for (_, _, echo), languages, one in zip(resolved, targets, shown, strict=True)
    ]
    return s.TranslationsBatchOut(model=model.name, results=results) if batch else results[0]


def translations(
    model: LoadedModel, request: r.TranslationsRequest, limits: Limits = DEFAULT_LIMITS
) -> s.TranslationsOut | s.TranslationsBatchOut:
    shaping.check_options(request)
    steps = plan(model, request, limits)
    if request.space == "encoder":
        return _encoded_translations(model, request, limits, steps)
    resolved, batch = resolve_all(model, request)
    depth, dim = steps.depth, model.manifest.dim
    if request.candidates is not None:
        check_given(request)
        free = sum(1 for _, token, _ in resolved if token is None) if request.method == "csls" else 0
        check_query_work(steps.work.scans(free, len(model.space.indexed), dim), limits, steps.field)
        chosen = given(model, request.candidates)
        given_rows = given_translations(model, request, resolved, chosen)
        ranked_given = [
            _out(model, request, echo, [], None, (rows, None, None))
            for (_, _, echo), rows in zip(resolved, given_rows, strict=True)
        ]
        return s.TranslationsBatchOut(model=model.name, results=ranked_given) if batch else ranked_given[0]
    if request.pool == "words":  # each query against the pool's words, one at a time
        words_work = steps.work.scans(len(resolved), len(model.pool().words), dim, batched=False)
        check_query_work(words_work, limits, steps.field)
        answers = word_translations(model, request, resolved, depth)
        words = [
            _out(model, request, echo, [], targets, (rows, groups, cursor))
            for (_, _, echo), (targets, rows, groups, cursor) in zip(resolved, answers, strict=True)
        ]
        return s.TranslationsBatchOut(model=model.name, results=words) if batch else words[0]
    # queries with the same targets (by default: all scripts but the query's own) share one search
    groups: dict[tuple[str, ...], list[int]] = {}
    for row, (_, _, echo) in enumerate(resolved):
        groups.setdefault(tuple(_target_names(model, request, echo)), []).append(row)
    masks = {names: _target_mask(model, request, list(names)) for names in groups}  # once per set of targets
    if request.exclude_anomalous:
        masks = {names: vocabulary_health.without_anomalies(model, mask) for names, mask in masks.items()}
    check_query_work(_search_work(model, request, steps.work, resolved, groups, masks), limits, steps.field)
    ranked: list[Ranked | None] = [None] * len(resolved)
    for names, members in groups.items():
        mask = masks[names]
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
    return s.TranslationsBatchOut(model=model.name, results=results) if batch else results[0]
