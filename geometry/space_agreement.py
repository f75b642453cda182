"""Two spaces of the same words compared (the input table's composed rows and the encoder's outputs):
how far each word's nearest neighbors agree, and how alike the two rank its similarities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geometry.interrupt import checkpoint
from geometry.topk import top_k_rows

UnitRows = Callable[[np.ndarray], np.ndarray]  # row ids -> float32 unit rows
BLOCK = 8192


def nearest(unit: UnitRows, count: int, queries: np.ndarray, k: int) -> np.ndarray:
    """len(queries) x k ids of each query's nearest rows among all `count` (itself excluded), exact."""
    q = unit(queries)
    sims = np.full((len(queries), count), -np.inf, dtype=np.float32)
    for start in range(0, count, BLOCK):
        checkpoint()
        ids = np.arange(start, min(start + BLOCK, count))
        sims[:, ids] = q @ unit(ids).T
    sims[np.arange(len(queries)), queries] = -np.inf
    return top_k_rows(sims, k)[0]


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks along the last axis (ties broken by position: similarities of distinct words rarely tie)."""
    order = np.argsort(values, axis=-1, kind="stable")
    out = np.empty_like(order, dtype=np.float64)
    np.put_along_axis(out, order, np.arange(values.shape[-1], dtype=np.float64)[None, :], axis=-1)
    return out


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of a against the same row of b."""
    ra, rb = ranks(a), ranks(b)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    return np.asarray((ra * rb).sum(axis=1) / np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1)))


@dataclass(frozen=True)
class Agreement:
    overlap: np.ndarray  # per query: shared share of the k nearest neighbors in the two spaces
    rank_correlation: np.ndarray  # per query: Spearman of its similarities to the reference rows
    neighbors_a: np.ndarray  # len(queries) x depth
    neighbors_b: np.ndarray


def agreement(
    unit_a: UnitRows,
    unit_b: UnitRows,
    count: int,
    queries: np.ndarray,
    reference: np.ndarray,
    k: int,
    depth: int | None = None,
) -> Agreement:
    """The same `count` rows in spaces a and b: each query's `depth` (default k) nearest in both, the
    share of the first k they have in common (overlap@k), and the rank correlation of its cosines to
    the `reference` rows (itself left out)."""
    depth = k if depth is None else depth
    near_a, near_b = nearest(unit_a, count, queries, depth), nearest(unit_b, count, queries, depth)
    overlap = np.array(
        [len(set(x[:k].tolist()) & set(y[:k].tolist())) / k for x, y in zip(near_a, near_b, strict=True)]
    )
    sims_a = unit_a(queries) @ unit_a(reference).T
    sims_b = unit_b(queries) @ unit_b(reference).T
    keep = reference[None, :] != queries[:, None]
    rho = np.empty(len(queries))
    for i, (a, b, m) in enumerate(zip(sims_a, sims_b, keep, strict=True)):
        if i % 256 == 0:
            checkpoint()
        rho[i] = spearman_rows(a[m][None, :], b[m][None, :])[0]
    return Agreement(overlap, rho, near_a, near_b)
