"""Query use-cases over a loaded model: tokens, neighbours, translations, dictionary evaluation.

Between the HTTP layer (which only decodes and encodes) and the pure analysis functions: resolves
tokens and filters against the model, calls the analysis, and builds response Structs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from loaders import artifact
from service import requests as r
from service import schemas as s
from service.analysis.neighbors import normalise, search_many
from service.analysis.translation import CSLS_K, Pair, Ranked, evaluate, parse_dictionary, translate_many
from service.errors import InvalidInput, NoNeighbours, NothingToFit, OverBudget, TooLarge, at
from service.language_labels import base_language
from service.metrics import metrics
from service.models import WORD_MARK, LoadedModel
from service.settings import Limits

DEFAULT_LIMITS = Limits()
EVALUATION_SCANS = 4  # a dictionary evaluation may scan this many times a request's budget


def languages_out(model: LoadedModel, ids: np.ndarray) -> list[s.LanguageOut | None]:
    details = model.languages_of(np.asarray(ids, dtype=np.int64))
    return [None] * len(ids) if details is None else list(details)


def language_out(model: LoadedModel, ident: int) -> s.LanguageOut | None:
    return languages_out(model, np.array([ident]))[0]


def token_out(model: LoadedModel, ident: int) -> s.TokenOut:
    return s.TokenOut(
        ident,
        model.raw[ident],
        model.display[ident],
        model.kind_of(ident),
        model.label_of(ident),
        language_out(model, ident),
    )


def find_tokens(model: LoadedModel, request: r.TokensRequest) -> s.TokenPage:
    q, match, script, scheme, language = (
        request.q,
        request.match,
        request.script,
        request.scheme,
        request.language,
    )
    limit, cursor = request.limit, int(request.cursor or 0)
    tried = [q] if q.startswith(WORD_MARK) else [q, WORD_MARK + q]
    if match == "exact":
        found = model.lookup(q)
        ids = np.array([found[0]] if found else [], dtype=np.int64)
        matched = found[1] if found else "none"
    else:
        found_ids = np.concatenate([model.prefix(text) for text in tried])
        _, first = np.unique(found_ids, return_index=True)  # each id once, where it first matched
        ids, matched = found_ids[np.sort(first)], "prefix"
    masks = []
    with at("scheme"):
        model.scheme(scheme)
    if script:
        with at("script"):
            masks.append(model.label_mask(scheme, [script]))
    if language:
        with at("language"):
            masks.append(model.language_mask([language]))
    if masks:
        ids = ids[np.logical_and.reduce(masks)[ids]]
    page = ids[cursor : cursor + limit].tolist()
    more = cursor + limit < len(ids)
    return s.TokenPage(
        q, matched, tried, [token_out(model, i) for i in page], str(cursor + limit) if more else None
    )


Resolved = tuple[np.ndarray, int | None, s.QueryOut]  # unit vector, token id (None: a vector), echo


def _vector(model: LoadedModel, values: list[float], where: str) -> np.ndarray:
    """The unit vector of `values`: scaled by its largest magnitude first, so that any finite, non-zero
    vector normalises (1e30 or 1e-30 components would overflow or underflow a plain norm)."""
    if len(values) != model.manifest.dim:
        raise InvalidInput(
            f"vector has {len(values)} values, {model.name} has dimension {model.manifest.dim}",
            field=f"{where}vector",
        )
    vector = np.asarray(values, dtype=np.float64)
    largest = float(np.abs(vector).max()) if np.isfinite(vector).all() else np.inf
    if not 0 < largest < np.inf:
        raise InvalidInput("vector values must be finite numbers, not all zeros", field=f"{where}vector")
    return normalise((vector / largest).astype(np.float32))


def _resolve(model: LoadedModel, query: r.Query | r.QueriesRequest, where: str) -> Resolved:
    """One query with exactly one of token/id/vector; `where` prefixes the field named by errors."""
    given = [name for name in ("token", "id", "vector") if getattr(query, name) is not None]
    prefix = f"{where}." if where else ""
    if len(given) != 1:
        raise InvalidInput("give exactly one of token, id or vector", field=where or "token")
    if query.vector is not None:
        return _vector(model, query.vector, prefix), None, s.QueryOut("vector")
    if query.token is not None:
        with at(f"{prefix}token"):
            ident, matched = model.resolve(query.token)
        kind = "token"
    else:
        with at(f"{prefix}id"):
            ident, matched, kind = model.check_id(int(query.id or 0)), "id", "id"
    if model.space.norms[ident] == 0:
        raise NoNeighbours(
            f"token {ident} ({model.raw[ident]!r}) is a special or zero row and has no neighbours",
            field=f"{prefix}{kind}",
        )
    echo = s.QueryOut(
        kind,  # type: ignore[arg-type]
        ident,
        model.raw[ident],
        model.display[ident],
        matched,
        model.label_of(ident),
        language_out(model, ident),
    )
    return model.space.unit(np.array([ident]))[0], ident, echo


def _resolve_all(model: LoadedModel, request: r.QueriesRequest) -> tuple[list[Resolved], bool]:
    """The request's queries (one, or its batch in order) and whether it was a batch."""
    if request.queries is None:
        return [_resolve(model, request, "")], False
    if any(getattr(request, name) is not None for name in ("token", "id", "vector")):
        raise InvalidInput(
            "give either one query (token, id or vector) or a batch of queries", field="queries"
        )
    return [_resolve(model, q, f"queries[{i}]") for i, q in enumerate(request.queries)], True


def is_lookup(model: LoadedModel, request: r.QueriesRequest) -> bool:
    """True when the answer is a few table lookups (cheap enough to compute on the event loop)."""
    plain = request.queries is None and request.vector is None and not getattr(request, "exact", False)
    if isinstance(request, r.NeighborsRequest):
        unfiltered = not (request.scripts or request.exclude_scripts or request.languages)
        return plain and unfiltered and request.k <= model.space.table_k
    return False


def _items(
    model: LoadedModel,
    ids: np.ndarray,
    sims: np.ndarray,
    csls: np.ndarray | None,
    fields: Sequence[str] | None,
) -> list[s.NeighborOut]:
    """The neighbour rows, each with the requested fields only (all by default)."""
    wanted = ALL_FIELDS if fields is None else set(fields)
    id_list = ids.tolist()
    columns: dict[str, list[Any]] = {}
    if "token" in wanted:
        columns["token"] = [model.raw[i] for i in id_list]
    if "display" in wanted:
        columns["display"] = [model.display[i] for i in id_list]
    if "similarity" in wanted:
        columns["similarity"] = np.round(sims.astype(np.float64), 6).tolist()
    if "kind" in wanted:
        columns["kind"] = [artifact.TOKEN_KINDS[c] for c in model.kinds[ids].tolist()]
    if "labels" in wanted:
        columns["labels"] = model.labels_of(ids)
    if "csls" in wanted:
        columns["csls"] = (
            [None] * len(id_list) if csls is None else np.round(csls.astype(np.float64), 6).tolist()
        )
    if "language" in wanted:
        columns["language"] = languages_out(model, ids)
    names = list(columns)
    rows = zip(*columns.values(), strict=True) if names else ((),) * len(id_list)
    if fields is None:  # every field, in the Struct's order: positional construction is fastest
        return [
            s.NeighborOut(rank, ident, *row)
            for rank, (ident, row) in enumerate(zip(id_list, rows, strict=True), 1)
        ]
    return [
        s.NeighborOut(rank, ident, **dict(zip(names, row, strict=True)))
        for rank, (ident, row) in enumerate(zip(id_list, rows, strict=True), start=1)
    ]


ALL_FIELDS = frozenset(("token", "display", "similarity", "kind", "labels", "csls", "language"))


def filter_mask(
    model: LoadedModel,
    scheme: str,
    keep: list[str] | None,
    drop: list[str] | None,
    languages: list[str] | None,
    fields: tuple[str, str, str] = ("scripts", "exclude_scripts", "languages"),
) -> np.ndarray | None:
    """Mask of the indexed rows a filter allows (None: no filter); `fields` name the request's."""
    with at("scheme"):
        model.scheme(scheme)
    if not keep and not drop and not languages:
        return None
    mask = model.space.norms > 0
    if keep:
        with at(fields[0]):
            mask &= model.label_mask(scheme, keep)
    if drop:
        with at(fields[1]):
            mask &= ~model.label_mask(scheme, drop)
    if languages:
        with at(fields[2]):
            mask &= model.language_mask(languages)
    return mask


def check_budget(
    model: LoadedModel, limits: Limits, queries: int, k: int, scans: int, rows: int, field: str
) -> None:
    """Refuse, before any work, an answer of more rows or a brute force of more cells than allowed."""
    answer = queries * k
    if answer > limits.max_answer_rows:
        raise OverBudget(
            f"{queries} queries x k={k} = {answer:,} result rows; one request may return "
            f"{limits.max_answer_rows:,} (send fewer queries or a smaller k)",
            field=field,
            budget={"max_answer_rows": limits.max_answer_rows},
        )
    cells = scans * rows * model.manifest.dim
    if cells > limits.max_scan_cells:
        raise OverBudget(
            f"{scans} brute-force searches over {rows:,} rows of {model.manifest.dim} values = {cells:.3g} "
            f"cells; one request may scan {limits.max_scan_cells:.3g} (send fewer queries, leave out "
            "exact=true, or ask approximate=true for vectors)",
            field=field,
            budget={"max_scan_cells": limits.max_scan_cells},
        )


def neighbors(
    model: LoadedModel, request: r.NeighborsRequest, limits: Limits = DEFAULT_LIMITS
) -> s.NeighborsOut | s.NeighborsBatchOut:
    resolved, batch = _resolve_all(model, request)
    mask = filter_mask(model, request.scheme, request.scripts, request.exclude_scripts, request.languages)
    tokens = [token for _, token, _ in resolved]
    table_may_answer = not request.exact and request.k <= model.space.table_k
    scans = sum(
        1
        for token in tokens
        if not table_may_answer or mask is not None or (token is None and not request.approximate)
    )
    rows = len(model.space.indexed) if mask is None else int(mask.sum())
    check_budget(model, limits, len(resolved), request.k, scans, rows, "queries" if batch else "k")
    started = time.perf_counter()
    found = search_many(
        model.space,
        np.stack([vector for vector, _, _ in resolved]),
        request.k,
        tokens=[token for _, token, _ in resolved],
        mask=mask,
        exact=request.exact,
        approximate=request.approximate,
    )
    if found:
        elapsed = (time.perf_counter() - started) / len(found)
        metrics().search_seconds.labels(found[0].method).observe(elapsed)
    results = []
    for (_, token, echo), hits in zip(resolved, found, strict=True):
        ids, sims = hits.ids, hits.sims
        if request.include_self and token is not None and (mask is None or mask[token]):
            ids, sims = (
                np.concatenate([[token], ids])[: request.k],
                np.concatenate([[1.0], sims])[: request.k],
            )
        results.append(
            s.NeighborsOut(
                model.name,
                echo,
                request.k,
                request.scheme,
                request.scripts,
                request.exclude_scripts,
                request.include_self,
                request.languages,
                hits.method,
                _items(model, ids, sims, None, request.fields),
            )
        )
    return s.NeighborsBatchOut(model.name, results) if batch else results[0]


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
    resolved, batch = _resolve_all(model, request)
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
            _items(model, found.ids, found.cosine, found.csls, request.fields),
        )
        for row, ((_, _, echo), found) in enumerate(zip(resolved, ranked, strict=True))
        if found is not None
    ]
    return s.TranslationsBatchOut(model.name, results) if batch else results[0]


def _dictionary_pairs(request: r.EvaluateRequest, max_pairs: int) -> list[Pair]:
    if (request.dictionary is None) == (request.pairs is None):
        raise InvalidInput("give exactly one of dictionary (MUSE text) or pairs (JSON)", field="dictionary")
    if request.dictionary is not None:
        try:
            pairs = parse_dictionary(request.dictionary, max_pairs)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="dictionary") from exc
        except OverflowError as exc:
            raise TooLarge(
                f"dictionary has {exc}; the limit is {max_pairs} pairs", field="dictionary"
            ) from exc
    else:
        pairs = [
            (p.source, p.target, p.language)
            if isinstance(p, r.DictionaryPair)
            else (p[0], p[1], p[2] if len(p) == 3 else None)
            for p in request.pairs or []
        ]
        if len(pairs) > max_pairs:
            raise TooLarge(f"{len(pairs)} pairs; the limit is {max_pairs}", field="pairs")
    if not pairs:
        raise InvalidInput("the dictionary holds no pairs", field="dictionary")
    for number, (_, _, lang) in enumerate(pairs, start=1):
        if lang is not None and base_language(lang) is None:
            raise InvalidInput(f"pair {number}: {lang!r} is not an ISO 639 language code", field="dictionary")
    return pairs


def _skip_reason(model: LoadedModel, src: tuple[int, str] | None, tgt: tuple[int, str] | None) -> str | None:
    if src is None or tgt is None:
        return (
            "source and target are not single tokens"
            if src is None and tgt is None
            else "source is not a single token"
            if src is None
            else "target is not a single token"
        )
    if model.space.norms[src[0]] == 0 or model.space.norms[tgt[0]] == 0:
        return "special token"
    return None


def evaluate_dictionary(
    model: LoadedModel, request: r.EvaluateRequest, limits: Limits = DEFAULT_LIMITS
) -> s.EvaluateOut:
    pairs = _dictionary_pairs(request, limits.max_dictionary_pairs)
    gold: dict[int, set[int]] = {}
    by_language: dict[str, dict[int, set[int]]] = {}  # target language -> source -> targets
    names: dict[int, str] = {}
    skipped: list[s.SkippedPair] = []
    for source, target, lang in pairs:
        src, tgt = model.lookup(source, prefer_word=True), model.lookup(target, prefer_word=True)
        reason = _skip_reason(model, src, tgt)
        if reason is not None or src is None or tgt is None:
            skipped.append(s.SkippedPair(source, target, reason or "not a token"))
            continue
        gold.setdefault(src[0], set()).add(tgt[0])
        if lang is not None:
            by_language.setdefault(base_language(lang) or lang, {}).setdefault(src[0], set()).add(tgt[0])
        names[src[0]] = source
    if not gold:
        raise NothingToFit(
            "no pair has single-token source and target", field="dictionary", skipped=skipped[:20]
        )
    targets = request.target_scripts
    if not targets:
        with at("scheme"):
            labels = model.scheme(request.scheme)
        targets = sorted({labels.names[int(labels.codes[t])] for want in gold.values() for t in want})
    with at("target_scripts"):
        allowed = model.label_ids(request.scheme, targets)
    sources = np.array(sorted(gold), dtype=np.int64)
    wanted = [gold[int(i)] for i in sources]
    # all sources against the pool, then each language's sources again (against at most the pool)
    scans = len(sources) + sum(len(sources_of) for sources_of in by_language.values())
    evaluation = dataclasses.replace(limits, max_scan_cells=EVALUATION_SCANS * limits.max_scan_cells)
    check_budget(model, evaluation, 0, 0, scans, max(len(allowed), 1), "dictionary")
    result = evaluate(model.space, sources, wanted, allowed, model.csls_r)
    per_language = {}
    for lang, lang_gold in sorted(by_language.items()):
        pool = allowed
        if request.language_pool == "language":
            with at("dictionary"):
                pool = np.flatnonzero(model.language_mask([lang]) & (model.space.norms > 0))
        lang_sources = np.array(sorted(lang_gold), dtype=np.int64)
        lang_wanted = [lang_gold[int(i)] for i in lang_sources]
        lang_result = evaluate(model.space, lang_sources, lang_wanted, pool, model.csls_r)
        in_pool = np.isin(np.array([t for want in lang_wanted for t in want]), pool)
        per_want = np.split(in_pool, np.cumsum([len(w) for w in lang_wanted])[:-1])
        reachable = float(np.mean([part.any() for part in per_want]))
        per_language[lang] = s.LanguagePrecision(
            len(lang_sources), lang_result.precision, request.language_pool, len(pool), round(reachable, 4)
        )
    misses = None
    if request.include_misses:
        misses = [
            s.Miss(
                names[int(src)],
                [model.raw[t] for t in sorted(want)],
                [model.raw[t] for t in result.ranks["cosine"][row]],
                [model.raw[t] for t in result.ranks["csls"][row]],
            )
            for row, (src, want) in enumerate(zip(sources, wanted, strict=True))
            if not set(result.ranks["csls"][row][:1]) & want
        ]
    return s.EvaluateOut(
        model.name,
        len(pairs),
        len(pairs) - len(skipped),
        len(sources),
        targets,
        len(allowed),
        result.precision,
        skipped,
        misses,
        per_language or None,
    )
