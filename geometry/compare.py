"""Cross-model comparison over shared tokens (seed paper, Figs. 7-8).

- Neighbour overlap: restricted to the tokens both vocabularies share, each sampled token's top-k
  cosine neighbours (query excluded) in model A and in model B; the mean size of the intersection.
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
    """Top-k neighbours of each query row; progress runs from part[0] to part[0] + part[1]."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), BLOCK):
        progress(part[0] + part[1] * start / len(queries))
        rows = queries[start : start + BLOCK]
        scores = unit[rows] @ unit.T
        scores[np.arange(len(rows)), rows] = -np.inf
        out[start : start + BLOCK] = top_k_rows(scores, k)[0]
    return out


def canonical_correlations(a: np.ndarray, b: np.ndarray, top: int = 10) -> list[float]:
    qa, _ = np.linalg.qr(a.astype(np.float64))
    qb, _ = np.linalg.qr(b.astype(np.float64))
    values = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return [round(float(v), 6) for v in values[:top]]


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
