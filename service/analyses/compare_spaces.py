"""The two spaces of one model side by side (GET /v1/models/{model}/compare-spaces), as a job: over
the encoded lexicon words, each sampled word's nearest words in both spaces (overlap@k), the rank
correlation of its similarities, and the paper's diversity and separability in each space.

The input space's row of a word is its lexicon row (its pieces' mean input rows); the candidates are
the same words in both spaces, so the two rankings differ only by the geometry."""

from __future__ import annotations

import msgspec
import numpy as np

from geometry.diversity import diversity
from geometry.separability import separability
from geometry.space_agreement import UnitRows, agreement
from loaders.artifact import encode_labels, unicode_label
from service import request_types as r
from service import response_types as s
from service.budget import Work
from service.progress import Compute, Progress, timed
from service.registry import LoadedModel

DIVERSITY_K = 50  # the paper's neighborhood
REFERENCE = 1000  # words each sampled word's similarities are rank-correlated over
FOLDS = 5
MIN_WORDS = 200  # a script with fewer sampled words gets no classifier


def _geometry(
    unit: UnitRows,
    near: np.ndarray,
    queries: np.ndarray,
    languages: np.ndarray,
    language_names: list[str],
    scripts: tuple[np.ndarray, list[str]],
    separable: np.ndarray,
    seed: int,
) -> s.SpaceGeometryOut:
    codes, names = scripts
    by_language = diversity(near, queries, languages, language_names, scheme="language")
    by_script = diversity(near, queries, codes, names, count="scripts-only", scheme="unicode")
    fitted = None
    if len(separable):
        fitted = separability(unit, separable, codes, names, min_tokens=MIN_WORDS, folds=FOLDS, seed=seed)
    return s.SpaceGeometryOut(
        diversity_languages=round(by_language.mean, 4),
        diversity_scripts=round(by_script.mean, 4),
        separability=None if fitted is None else round(fitted.mean, 4),
        separability_by_script={}
        if fitted is None
        else {x.category: round(x.accuracy, 4) for x in fitted.scores},
    )


def compare_spaces_job(model: LoadedModel, request: r.CompareSpacesRequest) -> tuple[Compute, Work]:
    encoded, lexicon = model.encoded(), model.pool()  # 400s now, not a failed job
    words, shared = encoded.words, encoded.shared  # the words both spaces hold
    count, dim = len(shared), words.space.matrix.shape[1]
    sample = min(request.sample, count)
    fits = min(request.separability_words, count)
    work = Work().scans(2 * sample, count, dim, batched=True).scans(2 * sample, REFERENCE, dim, batched=True)
    work = work.fits(2 * fits, dim, FOLDS) if fits else work

    def input_unit(ids: np.ndarray) -> np.ndarray:
        return lexicon.space.unit(encoded.lexicon_rows[shared[ids]])

    def encoder_unit(ids: np.ndarray) -> np.ndarray:
        return words.space.unit(shared[ids])

    def run(progress: Progress) -> s.CompareSpacesOut:
        rng = np.random.default_rng(request.seed)
        queries = np.sort(rng.choice(count, sample, replace=False))
        reference = np.sort(rng.choice(count, min(REFERENCE, count), replace=False))
        separable = np.sort(rng.choice(count, fits, replace=False)) if fits else np.empty(0, dtype=np.int64)
        scripts = encode_labels([unicode_label(words.words[i]) for i in shared])
        depth = min(max(request.k, DIVERSITY_K), count - 1)  # the diversity needs 50
        found = agreement(input_unit, encoder_unit, count, queries, reference, request.k, depth)
        progress(0.4)
        overlap = found.overlap
        language = words.language[shared[queries]]
        by_language = {
            words.languages[code]: s.SpaceAgreementOut(
                queries=int((language == code).sum()),
                overlap=round(float(overlap[language == code].mean()), 4),
                rank_correlation=round(float(found.rank_correlation[language == code].mean()), 4),
            )
            for code in np.unique(language)
        }
        codes = np.asarray(words.language[shared], dtype=np.int64)
        spaces = {}
        for step, (name, unit, near) in enumerate(
            (("input", input_unit, found.neighbors_a), ("encoder", encoder_unit, found.neighbors_b))
        ):
            near50 = near[:, :DIVERSITY_K]
            spaces[name] = _geometry(
                unit, near50, queries, codes, words.languages, scripts, separable, request.seed
            )
            progress(0.7 + 0.3 * step)
        return s.CompareSpacesOut(
            model=model.name,
            encoder=encoded.spec.describe(),
            words=count,
            sample=sample,
            k=request.k,
            seed=request.seed,
            overlap=round(float(overlap.mean()), 4),
            rank_correlation=round(float(found.rank_correlation.mean()), 4),
            by_language=by_language,
            spaces=spaces,
            took_seconds=0.0,
        )

    return timed(run, _with_time), work


def _with_time(out: s.CompareSpacesOut, took: float) -> s.CompareSpacesOut:
    return msgspec.structs.replace(out, took_seconds=took)
