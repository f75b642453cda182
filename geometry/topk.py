"""Exact top-k selection over score matrices (shared by the loaders' neighbor table and the analyses)."""

from __future__ import annotations

import numpy as np


def top_k_rows(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k columns of every row of `scores`, best first: (ids int32, scores float32).

    A full argpartition over 250k columns costs ~3 ms a row; instead a threshold is read off a
    column subsample so that only a few hundred candidates per row are sorted, with the full
    partition kept as the fallback for rows where the threshold admits fewer than k. `mask`, a
    reused boolean buffer at least as large as `scores`, spares a fresh allocation's page faults.
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols)
    step = max(1, n_cols // (64 * k))
    sample = scores[:, ::step]
    rank = min(sample.shape[1] - 1, max(1, (3 * k) // step))
    threshold = -np.partition(-sample, rank, axis=1)[:, rank]
    # 1-D flatnonzero over the mask is ~30x faster than a 2-D np.nonzero (measured 12 ms vs 400 ms
    # on 1,024 x 250k): the selection then costs a third of the product instead of more than it.
    above = None if mask is None else mask.reshape(-1)[: scores.size].reshape(scores.shape)
    flat = np.flatnonzero(np.greater_equal(scores, threshold[:, None], out=above))
    rows, cols = np.divmod(flat, n_cols)
    enough = np.bincount(rows, minlength=n_rows) >= k
    keep = enough[rows]
    rows, cols = rows[keep], cols[keep]
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
