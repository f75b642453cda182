"""Writing-system and language separability (the paper protocol) as a job."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import msgspec
import numpy as np

from geometry.diversity import NON_SCRIPT
from geometry.separability import Separability, separability
from service import request_types as r
from service import response_types as s
from service.analyses.token_sets import language_tokens
from service.budget import Work
from service.echo import echoed
from service.errors import InvalidInput, NothingToFit, UnknownLabel, at
from service.progress import Compute, Progress, timed
from service.registry import LoadedModel

PROTOCOL = (  # answers carry it as written (the spelling of the wire, not of the code)
    "balanced undersampling; L2-normalised rows; logistic regression, C=1, unpenalised intercept "
    "(scikit-learn LogisticRegression() objective, solved by batched Newton-CG); stratified k-fold accuracy"
)


def _check_categories(model: LoadedModel, scheme: str, categories: list[str] | None) -> list[str] | None:
    if categories:
        known = model.scheme(scheme).names
        unknown = [c for c in categories if c not in known]
        if unknown:
            raise UnknownLabel(f"unknown {scheme} labels {unknown}", field="categories", known=known)
    return sorted(categories) if categories else None


def _check_eligible(
    codes: np.ndarray, names: list[str], chosen: list[str] | None, mode: str, min_tokens: int, folds: int
) -> int:
    """400 when no classifier can be fitted (the rule `separability` applies, checked up front);
    else the balanced samples of all the classifiers together (their work)."""
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
    if mode == "pairwise":
        return sum(2 * min(counts[a], counts[b]) for a, b in combinations(eligible, 2))
    return sum(2 * min(counts[c], counts.sum() - counts[c]) for c in eligible)


def prepare(
    model: LoadedModel, request: r.SeparabilityRequest
) -> tuple[r.SeparabilityRequest, Callable[[Progress], Separability]]:
    """Validate and resolve the request (its categories filled in) and return the computation of the
    domain result, which the API's job encodes and the report draws."""
    resolved, run, _ = _prepared(model, request)
    return resolved, run


def _prepared(
    model: LoadedModel, request: r.SeparabilityRequest
) -> tuple[r.SeparabilityRequest, Callable[[Progress], Separability], Work]:
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
    samples = _check_eligible(labels.codes[ids], labels.names, chosen, mode, min_tokens, folds)
    resolved = msgspec.structs.replace(request, categories=chosen)
    work = Work().fits(samples, model.manifest.dim, folds)

    def run(progress: Progress) -> Separability:
        return separability(
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

    return resolved, run, work


def separability_job(model: LoadedModel, request: r.SeparabilityRequest) -> tuple[Compute, Work]:
    """The job's computation (the encoded answer) and its predicted work."""
    resolved, run, work = _prepared(model, request)

    def answer(result: Separability, took: float) -> s.SeparabilityOut:
        scores = [
            s.CategoryScore(
                category=x.category,
                tokens=x.tokens,
                other=x.other,
                samples=x.samples,
                accuracy=round(x.accuracy, 6),
                sd=round(x.sd, 6),
                folds=[round(f, 6) for f in x.folds],
            )
            for x in result.scores
        ]
        return echoed(
            resolved,
            s.SeparabilityOut,
            model=model.name,
            categories=request.categories,  # as asked (None: every category)
            protocol=PROTOCOL,
            scores=scores,
            mean=round(result.mean, 6),
            skipped=result.skipped,
            took_seconds=took,
        )

    return timed(run, answer), work
