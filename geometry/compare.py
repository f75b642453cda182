"""Cross-model comparison over shared tokens (seed paper, Figs. 7-8).

- Neighbor overlap: restricted to the tokens both vocabularies share, each sampled token's top-k
  cosine neighbors (query excluded) in model A and in model B; the mean size of the intersection.
- Canonical angles: QR-decompose each model's matrix restricted to the shared tokens (rows in the
  same order), SVD of Q_A^T Q_B; the singular values are the cosines of the principal angles
  between the two column spaces (1 = a shared direction).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from geometry.topk import top_k_rows

BLOCK = 512


@dataclass(frozen=True)
class Comparison:
    shared: int
    queries: int
    k: int
    overlap_mean: float
    overlap_sd: float
    canonical: list[float]  # top singular values, largest first


def shared_tokens(a: Sequence[str], b: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Ids in A and in B of the token strings both vocabularies hold, in A's order."""
    where_b = {token: i for i, token in enumerate(b)}
    pairs = [(i, where_b[token]) for i, token in enumerate(a) if token in where_b]
    if not pairs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    ids = np.array(pairs, dtype=np.int64)
    return ids[:, 0], ids[:, 1]


def _top(
    unit: np.ndarray,
    queries: np.ndarray,
    k: int,
    progress: Callable[[float], None],
    part: tuple[float, float],
) -> np.ndarray:
    """Top-k neighbors of each query row; progress runs from part[0] to part[0] + part[1]."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), BLOCK):
        progress(part[0] + part[1] * start / len(queries))
        rows = queries[start : start + BLOCK]
        scores = unit[rows] @ unit.T
        scores[np.arange(len(rows)), rows] = -np.inf
        out[start : start + BLOCK] = top_k_rows(scores, k)[0]
    return out


def _whitener(gram: np.ndarray) -> np.ndarray:
    """W with W^T G W = I on the column space of a matrix whose Gram matrix is G (null directions,
    eigenvalues under 1e-12 of the largest, dropped): A W has orthonormal columns spanning A's."""
    values, vectors = np.linalg.eigh(gram)
    keep = values > 1e-12 * max(float(values[-1]), 1e-300)
    return vectors[:, keep] / np.sqrt(values[keep])


def canonical_correlations(a: np.ndarray, b: np.ndarray, top: int = 10) -> list[float]:
    """The singular values of Q_A^T Q_B for orthonormal bases of the two column spaces, from the Gram
    matrices (three float64 matrix products and two small eigendecompositions): the same values as
    QR-decomposing both matrices, ~20x faster at 66k x 512 (QR: 9.7 s)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    wa, wb = _whitener(a64.T @ a64), _whitener(b64.T @ b64)
    values = np.linalg.svd(wa.T @ (a64.T @ b64) @ wb, compute_uv=False)
    return [round(float(min(v, 1.0)), 6) for v in values[:top]]


def compare(
    unit_a: Callable[[np.ndarray], np.ndarray],
    unit_b: Callable[[np.ndarray], np.ndarray],
    ids_a: np.ndarray,
    ids_b: np.ndarray,
    *,
    k: int = 100,
    sample: float = 0.1,
    seed: int = 0,
    progress: Callable[[float], None] = lambda share: None,
) -> Comparison:
    """`ids_a[i]` and `ids_b[i]` are the same token string in models A and B."""
    shared = len(ids_a)
    if shared <= k:
        raise ValueError(f"only {shared} shared tokens; need more than k = {k}")
    a, b = unit_a(ids_a), unit_b(ids_b)
    count = max(1, min(shared, round(sample * shared)))
    queries = np.sort(np.random.default_rng(seed).choice(shared, count, replace=False))
    top_a, top_b = _top(a, queries, k, progress, (0.0, 0.45)), _top(b, queries, k, progress, (0.45, 0.45))
    overlap = np.array(
        [len(np.intersect1d(x, y, assume_unique=True)) for x, y in zip(top_a, top_b, strict=True)]
    )
    return Comparison(
        shared, count, k, float(overlap.mean()), float(overlap.std()), canonical_correlations(a, b)
    )
