"""USearch HNSW index over L2-normalised rows, and the exact top-K neighbour table.

Which rows are indexed: every vocabulary row except special tokens and zero rows (a zero vector
has no direction, and USearch would match zero rows to each other at distance 0). Keys are token ids.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from geometry.topk import top_k_rows
from loaders.artifact import IndexParams

Progress = Callable[[int, int], None]


def unit_rows(matrix: np.ndarray, norms: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """float32 L2-normalised copies of `matrix[rows]` (zero rows stay zero)."""
    block = np.asarray(matrix[rows], dtype=np.float32)
    scale = norms[rows].astype(np.float32)
    return block / np.where(scale > 0, scale, 1.0)[:, None]


def build_index(
    unit: np.ndarray, keys: np.ndarray, params: IndexParams, path: Path, progress: Progress | None = None
) -> IndexParams:
    from usearch.index import Index

    index = Index(
        ndim=unit.shape[1],
        metric=params.metric,
        dtype=params.dtype,
        connectivity=params.connectivity,
        expansion_add=params.expansion_add,
        expansion_search=params.expansion_search,
    )
    step = 8192
    for start in range(0, len(keys), step):
        index.add(keys[start : start + step], unit[start : start + step], threads=0)
        if progress:
            progress(min(start + step, len(keys)), len(keys))
    index.save(str(path))
    return IndexParams(
        metric=params.metric,
        dtype=params.dtype,
        connectivity=params.connectivity,
        expansion_add=params.expansion_add,
        expansion_search=params.expansion_search,
        count=len(index),
    )


def knn_table(
    unit: np.ndarray, keys: np.ndarray, k: int, block: int = 1024, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k cosine neighbours (query excluded) of every indexed row, in token ids.

    Returns (ids, sims) of shape (len(keys), k), row i belonging to token keys[i].
    """
    k = min(k, len(keys) - 1)
    ids = np.empty((len(keys), k), dtype=np.int32)
    sims = np.empty((len(keys), k), dtype=np.float32)
    for start in range(0, len(keys), block):
        stop = min(start + block, len(keys))
        scores = unit[start:stop] @ unit.T
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # the query itself
        local, sims[start:stop] = top_k_rows(scores, k)
        ids[start:stop] = keys[local]
        if progress:
            progress(stop, len(keys))
    return ids, sims
