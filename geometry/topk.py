"""Exact top-k selection over score matrices (shared by the loaders' neighbour table and the analyses)."""

from __future__ import annotations

import numpy as np


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k columns of every row of `scores`, best first: (ids int32, scores float32).

    A full argpartition over 250k columns costs ~3 ms a row; instead a threshold is read off a
    column subsample so that only a few hundred candidates per row are sorted, with the full
    partition kept as the fallback for rows where the threshold admits fewer than k.
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols)
    step = max(1, n_cols // (64 * k))
    sample = scores[:, ::step]
    rank = min(sample.shape[1] - 1, max(1, (3 * k) // step))
    threshold = -np.partition(-sample, rank, axis=1)[:, rank]
    mask = scores >= threshold[:, None]
    enough = mask.sum(axis=1) >= k
    mask[~enough] = False
    rows, cols = np.nonzero(mask)
    values = scores[rows, cols]
    order = np.lexsort((-values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    ids = np.empty((n_rows, k), dtype=np.int32)
    out = np.empty((n_rows, k), dtype=np.float32)
    take = starts[enough][:, None] + np.arange(k)
    ids[enough] = cols[take]
    out[enough] = values[take]
    for row in np.flatnonzero(~enough):  # rare: many equal scores or a tiny matrix
        best = np.argsort(-scores[row], kind="stable")[:k]
        ids[row], out[row] = best, scores[row, best]
    return ids, out
