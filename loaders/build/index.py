"""USearch HNSW index over L2-normalized rows, and the exact top-K neighbor table.

Which rows are indexed: every vocabulary row except special tokens and zero rows (a zero vector
has no direction, and USearch would match zero rows to each other at distance 0). Keys are token ids.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from loaders.artifact import IndexParams

Progress = Callable[[int, int], None]


def unit_rows(matrix: np.ndarray, norms: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """float32 L2-normalized copies of `matrix[rows]` (zero rows stay zero)."""
    block = np.asarray(matrix[rows], dtype=np.float32)
    scale = norms[rows].astype(np.float32)
    return block / np.where(scale > 0, scale, 1.0)[:, None]


def build_index(
    unit_of: Callable[[np.ndarray], np.ndarray],
    keys: np.ndarray,
    params: IndexParams,
    path: Path,
    progress: Progress | None = None,
) -> IndexParams:
    """Add the rows `keys` in blocks (`unit_of(block_keys)` gives their unit rows) and save."""
    from usearch.index import Index

    index = None
    step = 8192
    for start in range(0, len(keys), step):
        block = keys[start : start + step]
        unit = unit_of(block.astype(np.int64))
        if index is None:
            index = Index(
                ndim=unit.shape[1],
                metric=params.metric,
                dtype=params.dtype,
                connectivity=params.connectivity,
                expansion_add=params.expansion_add,
                expansion_search=params.expansion_search,
            )
        index.add(block, unit, threads=0)
        if progress:
            progress(min(start + step, len(keys)), len(keys))
    assert index is not None  # keys is never empty (build._indexed_rows)
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
    """Exact top-k cosine neighbors (query excluded) of every indexed row, in token ids
    (loaders/build/neighbor_table.py; kept as the small entry point the analyses' tests use)."""
    from loaders.build.neighbor_table import exact_table

    table = exact_table(unit, keys, k, block=block, device="", progress=progress)
    return table.ids, table.sims
