"""Vocabulary health: under-trained token candidates, geometry statistics, and each script's and
language's footprint (what a vocabulary-trimming plan starts from). Computed on first use per model
and kept with it (the table never changes while served)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from geometry import table_statistics as h
from loaders import artifact
from loaders.artifact import SentencePieceSegmenter, UnigramSegmenter, language_scripts
from service import request_types as r
from service import response_types as s
from service.errors import at
from service.registry import LoadedModel
from service.token_descriptions import token_out

NOT_TEXT = [artifact.TOKEN_KINDS.index(k) for k in ("special", "unused")]
PAIRS = 20_000  # random pairs behind a mean cosine
GROUP_PAIRS = 5_000  # ... of one script or language
GROUPS = 12  # scripts or languages reported, the largest first
CAVEAT = (
    "candidates, not verified: these indicators come from the input embeddings and the tokenizer alone;"
    " confirming that a token is under-trained needs the model itself (e.g. asking it to repeat the token)"
)


@dataclass(frozen=True)
class Anomalies:
    ids: np.ndarray  # candidates, most anomalous first
    similarity: np.ndarray | None  # cosine to the unused mean of each candidate (None: no reference)
    norms: np.ndarray  # of each candidate
    norm_percentile: np.ndarray
    reference: s.AnomalyReference
    threshold: float
    flagged: np.ndarray  # bool per token: a candidate


def _reference(model: LoadedModel) -> tuple[np.ndarray, str]:
    unused = np.flatnonzero(model.kinds == artifact.TOKEN_KINDS.index("unused"))
    if len(unused):
        return unused, "tokens the source declares unused"
    if model.reachable is not None:
        return np.flatnonzero(
            model.reachable == artifact.TOKEN_UNREACHABLE
        ), "tokens the model's tokenizer never produces"
    return np.empty(0, dtype=np.int64), "none (no tokenizer, no unused tokens): the norm alone"


def anomalies(model: LoadedModel) -> Anomalies:
    """Computed on first use (seconds), once however many requests arrive together, then kept."""
    return model.derive("anomalies", lambda: _anomalies(model))


def _anomalies(model: LoadedModel) -> Anomalies:
    matrix = model.space.matrix
    rows = np.flatnonzero(~np.isin(model.kinds, NOT_TEXT))
    norms = h.row_norms(matrix, rows)
    order = np.argsort(norms, kind="stable")
    percentile = np.empty(len(rows), dtype=np.float32)
    percentile[order] = 100.0 * np.arange(len(rows)) / max(len(rows) - 1, 1)
    reference, described = _reference(model)
    unreachable = np.zeros(len(rows), dtype=bool)
    if model.reachable is not None:
        unreachable = model.reachable[rows] == artifact.TOKEN_UNREACHABLE
    similarity = None
    if len(reference) >= 1:
        first_pc = h.moments(matrix, rows).components[0]
        similarity = h.untrained_indicator(matrix, rows, reference, first_pc)
        threshold = float(np.percentile(similarity, h.CANDIDATE_PERCENTILE))
        chosen = (similarity >= threshold) | unreachable
        rank = np.lexsort((rows, -similarity))
    else:
        threshold = float(np.percentile(norms, 100 - h.CANDIDATE_PERCENTILE))
        chosen = norms <= threshold
        rank = np.lexsort((rows, norms))
    rank = rank[chosen[rank]]
    flagged = np.zeros(len(model.kinds), dtype=bool)
    flagged[rows[rank]] = True
    return Anomalies(
        rows[rank],
        None if similarity is None else similarity[rank],
        norms[rank],
        percentile[rank],
        s.AnomalyReference(described=described, tokens=len(reference)),
        threshold,
        flagged,
    )


def without_anomalies(model: LoadedModel, mask: np.ndarray | None) -> np.ndarray:
    """A filter mask that also leaves out every candidate."""
    keep = ~anomalies(model).flagged
    return keep & (model.space.norms > 0) if mask is None else mask & keep


def anomalies_out(model: LoadedModel, request: r.AnomaliesRequest) -> s.AnomaliesOut:
    found = anomalies(model)
    keep = np.ones(len(found.ids), dtype=bool)
    if request.kind:
        keep &= model.kinds[found.ids] == artifact.TOKEN_KINDS.index(request.kind)
    if request.script:
        with at("script"):
            keep &= model.label_mask("unicode", [request.script])[found.ids]
    if request.language:
        with at("language"):
            keep &= model.language_mask([request.language])[found.ids]
    positions = np.flatnonzero(keep)
    scripts = model.labels["unicode"]
    by_script: dict[str, int] = {}
    for code in scripts.codes[found.ids].tolist():
        by_script[scripts.names[code]] = by_script.get(scripts.names[code], 0) + 1
    items = []
    for p in positions[: request.limit].tolist():
        ident = int(found.ids[p])
        reachable = (
            None if model.reachable is None or model.reachable[ident] < 0 else bool(model.reachable[ident])
        )
        items.append(
            s.AnomalyOut(
                token=token_out(model, ident),
                norm=round(float(found.norms[p]), 6),
                norm_percentile=round(float(found.norm_percentile[p]), 2),
                unused_similarity=None if found.similarity is None else round(float(found.similarity[p]), 6),
                reachable=reachable,
            )
        )
    return s.AnomaliesOut(
        model=model.name,
        caveat=CAVEAT,
        reference=found.reference,
        threshold=round(found.threshold, 6),
        candidates=len(found.ids),
        by_script=dict(sorted(by_script.items(), key=lambda kv: -kv[1])),
        matching=len(positions),
        items=items,
    )


# ------------------------------------------------------------------ geometry statistics


def _frequency_proxy(model: LoadedModel) -> tuple[str, np.ndarray] | None:
    """A per-token stand-in for training frequency: SentencePiece scores (log probabilities of the
    unigram model), or for BPE the merge order (the id: earlier merges are more frequent pairs)."""
    segmenter = model.segmenter
    if isinstance(segmenter, UnigramSegmenter):
        return "SentencePiece unigram score", np.asarray(segmenter.scores, dtype=np.float64)
    if isinstance(segmenter, SentencePieceSegmenter):
        processor = segmenter.processor
        return "SentencePiece score", np.array([processor.GetScore(i) for i in range(len(model.raw))])
    if model.manifest.vocabulary in ("byte-fallback-bpe", "byte-level-bpe"):
        return "BPE merge order (minus the id)", -np.arange(len(model.raw), dtype=np.float64)
    return None


def _spearman(norms: np.ndarray, proxy: np.ndarray | None) -> float | None:
    if proxy is None or len(norms) < 3:
        return None
    return round(float(spearmanr(norms, proxy).statistic), 6)


def _stats(
    matrix: np.ndarray | h.Transformed,
    rows: np.ndarray,
    seed: int,
    proxy: np.ndarray | None,
    pairs: int = PAIRS,
) -> s.GeometryStats:
    """`proxy`: the frequency proxy of every token (None: the model has none)."""
    moments = h.moments(matrix, rows, vectors=False)  # type: ignore[arg-type]
    norms = h.row_norms(matrix, rows)  # type: ignore[arg-type]
    variance = moments.eigenvalues / max(float(moments.eigenvalues.sum()), 1e-30)
    share, expected = h.rogue_dimensions(matrix, rows)  # type: ignore[arg-type]
    top = np.argsort(-share)[:3]
    return s.GeometryStats(
        tokens=len(rows),
        mean_norm=round(float(norms.mean()), 6),
        mean_pair_cosine=round(h.mean_pair_cosine(matrix, rows, pairs, seed), 6),  # type: ignore[arg-type]
        isoscore=round(h.isoscore(moments.eigenvalues), 6),
        variance_top1=round(float(variance[0]), 6),
        variance_top10=round(float(variance[:10].sum()), 6),
        expected_cosine=round(expected, 6),
        top_dimensions=[
            s.DimensionShare(
                dimension=int(d), share=round(float(share[d]), 6), rogue=bool(share[d] >= h.ROGUE_SHARE)
            )
            for d in top
        ],
        norm_frequency_spearman=_spearman(norms, None if proxy is None else proxy[rows]),
    )


def geometry_out(model: LoadedModel, request: r.GeometryRequest) -> s.GeometryOut:
    rows = np.flatnonzero(~np.isin(model.kinds, NOT_TEXT) & (model.space.norms > 0))
    matrix: np.ndarray | h.Transformed = model.space.matrix
    removed = 0
    if request.postprocess != "none":
        removed = request.components if request.postprocess == "centred-top" else 0
        moments = h.moments(model.space.matrix, rows)
        matrix = h.Transformed(model.space.matrix, moments.mean, moments.components[:removed])
    scheme = "language" if request.by == "language" else "unicode"
    with at("by"):
        labels = model.scheme(scheme)
    counts = np.bincount(labels.codes[rows], minlength=len(labels.names))
    skip = {"Special", artifact.AMBIGUOUS, artifact.UNLABELLED}
    named = [c for c in np.argsort(-counts) if counts[c] >= 2 and labels.names[c] not in skip][:GROUPS]
    proxy = _frequency_proxy(model)
    values = None if proxy is None else proxy[1]
    groups = {
        labels.names[c]: _stats(matrix, rows[labels.codes[rows] == c], request.seed, values, GROUP_PAIRS)
        for c in named
    }
    correlation = None
    if proxy is not None:
        words = rows[model.kinds[rows] != artifact.TOKEN_KINDS.index("byte")]
        rho = _spearman(h.row_norms(model.space.matrix, words), proxy[1][words])
        correlation = s.NormFrequency(proxy=proxy[0], spearman=rho or 0.0)
    overall = _stats(matrix, rows, request.seed, values)
    return s.GeometryOut(
        model=model.name,
        postprocess=request.postprocess,
        components_removed=removed,
        seed=request.seed,
        overall=overall,
        norm_frequency=correlation,
        groups=groups,
    )


# ------------------------------------------------------------------ footprint


def kept_mask(model: LoadedModel, languages: list[str]) -> tuple[np.ndarray, list[str]]:
    """What a vocabulary trimmed to `languages` keeps: special and byte tokens, Common-script tokens,
    and tokens of the languages' scripts unless they are labelled with another language."""
    with at("keep_languages"):
        codes = model.language_table().check_codes(languages)
    scripts = model.labels["unicode"]
    wanted = sorted({name for c in codes for name in language_scripts(c)} | {"Common"})
    present = [name for name in wanted if name in scripts.names]
    language = model.labels["language"]
    allowed_labels = [language.names.index(x) for x in (*codes, artifact.AMBIGUOUS, artifact.UNLABELLED)]
    other_language = ~np.isin(language.codes, allowed_labels)
    structural = np.isin(model.kinds, [artifact.TOKEN_KINDS.index(k) for k in ("special", "byte")])
    return structural | (model.label_mask("unicode", present) & ~other_language), present


def _shares(labels_codes: np.ndarray, names: list[str], dim: int) -> dict[str, s.FootprintRow]:
    counts = np.bincount(labels_codes, minlength=len(names))
    total = max(int(counts.sum()), 1)
    order = np.argsort(-counts, kind="stable")
    return {
        names[c]: s.FootprintRow(
            tokens=int(counts[c]), share=round(float(counts[c]) / total, 6), parameters=int(counts[c]) * dim
        )
        for c in order
        if counts[c]
    }


def footprint_out(model: LoadedModel, request: r.FootprintRequest) -> s.FootprintOut:
    dim, total = model.manifest.dim, len(model.raw)
    trimmed = None
    if request.keep_languages:
        keep, scripts = kept_mask(model, request.keep_languages)
        kept = int(keep.sum())
        trimmed = s.TrimOut(
            languages=request.keep_languages,
            scripts=scripts,
            kept_tokens=kept,
            dropped_tokens=total - kept,
            saved_share=round(1 - kept / total, 6),
            saved_parameters=(total - kept) * dim,
        )
    by_language = None
    if "language" in model.labels:
        by_language = _shares(model.labels["language"].codes, model.labels["language"].names, dim)
    return s.FootprintOut(
        model=model.name,
        tokens=total,
        dim=dim,
        parameters=total * dim,
        by_script=_shares(model.labels["unicode"].codes, model.labels["unicode"].names, dim),
        by_language=by_language,
        trimmed=trimmed,
    )


def kept_ids_text(model: LoadedModel, request: r.FootprintRequest) -> str:
    """The ids a vocabulary trimmed to `keep_languages` keeps, one per line (a plain-text download)."""
    keep, _ = kept_mask(model, request.keep_languages or [])
    return "\n".join(str(i) for i in np.flatnonzero(keep).tolist()) + "\n"
