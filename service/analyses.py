"""Analysis use-cases (separability, diversity, compare): validate, compute, encode.

Each `*_job` validates its parameters at once (so bad input is a 400, not a failed job) and returns
the computation as a closure for `Jobs.run`, which caches and schedules it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
import numpy as np

from service import requests as r
from service import schemas as s
from service.analysis.compare import compare, shared_tokens
from service.analysis.diversity import NON_SCRIPT, diversity, sample_queries
from service.analysis.neighbors import search
from service.analysis.relations import Relations, neighbour_counts, relations, sample_per_label
from service.analysis.separability import separability
from service.errors import InvalidInput, NothingToFit, UnknownLabel, at
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
            raise UnknownLabel(f"unknown {scheme} labels {unknown}", field="categories", known=known)
    return sorted(categories) if categories else None


def language_tokens(model: LoadedModel, within: str | None) -> np.ndarray:
    """Indexed tokens labelled with a language (not ambiguous/unlabelled), optionally of one script."""
    with at("scheme"):
        keep = model.language_mask(model.language_table().supported) & (model.space.norms > 0)
    if within:
        with at("within"):
            keep &= model.label_mask("unicode", [within])
    return np.flatnonzero(keep)


def _check_eligible(
    codes: np.ndarray, names: list[str], chosen: list[str] | None, mode: str, min_tokens: int, folds: int
) -> None:
    """400 when no classifier can be fitted (the rule `separability` applies, checked up front)."""
    counts = np.bincount(codes, minlength=len(names))
    pool = [i for i, name in enumerate(names) if not chosen or name in chosen]
    eligible = [i for i in pool if counts[i] >= min_tokens]
    if mode == "one-vs-rest":
        eligible = [i for i in eligible if counts.sum() - counts[i] >= folds]
    need = 2 if mode == "pairwise" else 1
    if len(eligible) < need:
        largest = ", ".join(f"{names[i]} {counts[i]}" for i in sorted(pool, key=lambda i: -counts[i])[:5])
        raise NothingToFit(
            f"{len(eligible)} categories have {min_tokens} tokens (and, one-vs-rest, {folds} others);"
            f" {mode} needs {need}; largest: {largest} of {counts.sum()}",
            field="min_tokens",
        )


def separability_job(
    model: LoadedModel, request: r.SeparabilityRequest
) -> tuple[r.SeparabilityRequest, Compute]:
    """The request with its categories resolved (the cache key), and the computation."""
    scheme, mode, min_tokens, folds = request.scheme, request.mode, request.min_tokens, request.folds
    seed, categories, within = request.seed, request.categories, request.within
    with at("scheme"):
        labels = model.scheme(scheme)
    ids = model.space.indexed
    chosen: list[str] | None
    if scheme == "language":
        ids = language_tokens(model, within)
        table = model.language_table()
        with at("categories"):
            chosen = sorted(table.check_codes(categories)) if categories else table.supported
    elif within:
        raise InvalidInput("within= (a Unicode script) applies to scheme=language only", field="within")
    else:
        chosen = _check_categories(model, scheme, categories)
    if chosen is None and scheme == "unicode":  # Common/Mixed/Special are not writing systems
        chosen = [n for n in labels.names if n not in NON_SCRIPT[scheme]]
    _check_eligible(labels.codes[ids], labels.names, chosen, mode, min_tokens, folds)
    resolved = msgspec.structs.replace(request, categories=chosen)

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        result = separability(
            model.space.unit,
            ids,
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
            within=within,
        )
        return msgspec.json.encode(out)

    return resolved, compute


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


def diversity_job(model: LoadedModel, request: r.DiversityRequest) -> tuple[r.DiversityRequest, Compute]:
    scheme, k, sample, seed = request.scheme, request.k, request.sample, request.seed
    include_self, count = request.include_self, request.count
    with at("scheme"):
        labels = model.scheme(scheme)
    # language: queries are language-labelled tokens (validated now: a 400, not a failed job)
    pool = language_tokens(model, None) if scheme == "language" else model.space.indexed

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        queries = sample_queries(pool, sample, seed)
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

    return request, compute


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
    neighbours = _neighbour_ids(model, np.concatenate(samples), k, progress)
    sizes = [len(x) for x in samples]
    found = neighbour_counts(neighbours, sizes, labels.codes, wanted)
    return relations(found, np.array([counts[c] for c in chosen], dtype=np.float64), chosen, sizes)


def relations_job(model: LoadedModel, request: r.RelationsRequest) -> tuple[r.RelationsRequest, Compute]:
    k, per_language, seed, min_tokens = request.k, request.sample, request.seed, request.min_tokens
    chosen = chosen_languages(model, request.languages, min_tokens)
    resolved = msgspec.structs.replace(request, languages=chosen)

    def matrix(values: np.ndarray) -> list[list[float]]:
        return [[round(float(v), 4) for v in row] for row in values]

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        result = language_relations(model, chosen, k, per_language, seed, progress)
        names = model.language_table().info.names
        out = s.RelationsOut(
            model.name,
            k,
            per_language,
            seed,
            min_tokens,
            result.languages,
            {c: names.get(c, c) for c in chosen},
            result.tokens,
            result.queries,
            matrix(result.share),
            matrix(result.lift),
            matrix(result.affinity),
            result.order,
            [s.MergeOut(m.left, m.right, round(m.distance, 4)) for m in result.merges],
            round(time.perf_counter() - started, 3),
        )
        return msgspec.json.encode(out)

    return resolved, compute


def compare_job(
    a: LoadedModel, b: LoadedModel, request: r.CompareRequest
) -> tuple[r.CompareRequest, Compute]:
    k, sample, seed = request.k, request.sample, request.seed

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        ids_a, ids_b = shared_tokens(a.raw, b.raw)
        usable = (a.space.norms[ids_a] > 0) & (b.space.norms[ids_b] > 0)
        ids_a, ids_b = ids_a[usable], ids_b[usable]
        if len(ids_a) <= k:
            raise NothingToFit(
                f"{a.name} and {b.name} share only {len(ids_a)} tokens; need more than k={k}", field="models"
            )
        result = compare(
            a.space.unit, b.space.unit, ids_a, ids_b, k=k, sample=sample, seed=seed, progress=progress
        )
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

    return request, compute
