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


SIF_A = 1e-3  # Arora et al. 2017's smoothing: a word of probability p weighs a / (a + p)


def phrase_weights(places: np.ndarray, sizes: np.ndarray, a: float = SIF_A) -> np.ndarray:
    """Each word's weight in a phrase (smooth inverse frequency): a / (a + p), p its probability
    estimated from its place in its language's frequency list by Zipf's law, p = 1 / ((place + 1) H),
    H the harmonic number of the list's size. In e5's 8,283 English words *to* (place 1) weighs 0.02
    and *eat* (place 754) 0.88: a phrase is ranked by its content words, not by the function words
    every phrase shares."""
    harmonic = np.log(np.maximum(sizes, 1)) + 0.5772  # H_n ~ ln n + Euler's constant
    p = 1.0 / ((np.asarray(places, dtype=np.float64) + 1.0) * harmonic)
    weights: np.ndarray = a / (a + p)
    return weights
