"""Several token rows -> one query vector (text queries, and examples combined)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from geometry.neighbors import Space, normalize

PoolingRule = Literal["mean", "first", "last"]


def pool(space: Space, ids: np.ndarray, how: PoolingRule = "mean") -> np.ndarray:
    """The unit vector of `ids`' input rows pooled by `how`.

    "mean" averages the raw rows (not unit rows first), as mean-pooling encoders and WordLlama do: a
    piece with a larger norm weighs more. "first"/"last" take one piece, e.g. for models whose last
    piece carries the word (or a word's head in the first)."""
    if len(ids) == 0:
        raise ValueError("nothing to pool")
    if how == "first":
        rows = np.asarray(space.matrix[ids[:1]], dtype=np.float32)
    elif how == "last":
        rows = np.asarray(space.matrix[ids[-1:]], dtype=np.float32)
    else:
        rows = np.asarray(space.matrix[ids], dtype=np.float32)
    return normalize(rows.mean(axis=0))
