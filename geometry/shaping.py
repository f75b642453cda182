"""Shaping a ranked candidate list the way vector-search applications ask for it.

Every function takes a ranking (candidate ids best first, with their scores) and returns the
*positions* it keeps, in answer order, so that callers carry any per-candidate values along
(cosine and CSLS for translations). The candidates come from an exact search deep enough for the
option (`depth`); nothing here searches the vocabulary again except `examples_best_score`.
"""

from __future__ import annotations

import numpy as np

from geometry.interrupt import checkpoint
from geometry.neighbors import CHUNK_ROWS, Space, normalize

MMR_POOL_FACTOR = 4  # maximal marginal relevance re-ranks this many times k candidates ...
MMR_MIN_POOL = 100  # ... and at least this many
GROUP_POOL_FACTOR = 10  # groups are filled from the best max(this x groups x group_size, GROUP_MIN_POOL)
GROUP_MIN_POOL = 1000


def depth(k: int, *, mmr: bool = False, groups: int = 0, group_size: int = 0) -> int:
    """How many ranked candidates an option needs to choose its k (or its groups) from."""
    if mmr:
        return max(MMR_POOL_FACTOR * k, MMR_MIN_POOL)
    if groups:
        return max(GROUP_POOL_FACTOR * groups * group_size, GROUP_MIN_POOL)
    return k


def above(scores: np.ndarray, floor: float) -> np.ndarray:
    """Positions whose score reaches `floor` (a ranking stays sorted, so this is a prefix)."""
    return np.flatnonzero(scores >= floor)


def mutual(space: Space, query: np.ndarray, ids: np.ndarray, k: int, token: int | None = None) -> np.ndarray:
    """Positions of candidates that have the query among their own k nearest neighbors (k at most
    the exact table's width): a query token must be in the candidate's table row; a free vector's
    cosine to the candidate must reach the candidate's k-th neighbor similarity."""
    if space.knn_ids is None or space.knn_sims is None:
        raise ValueError("mutual neighbors need the exact neighbor table")
    if len(ids) == 0:
        return np.empty(0, dtype=np.int64)
    k = min(k, space.table_k)
    if token is not None:
        return np.flatnonzero((np.asarray(space.knn_ids[ids, :k]) == token).any(axis=1))
    kth = np.asarray(space.knn_sims[ids, k - 1], dtype=np.float32)
    return np.flatnonzero(space.unit(ids) @ query >= kth)


def mmr(space: Space, query: np.ndarray, ids: np.ndarray, k: int, lam: float) -> np.ndarray:
    """Maximal marginal relevance: greedily the candidate maximising
    lam * cos(query, c) - (1 - lam) * max cos(c, already chosen). lam = 1 is the plain ranking."""
    if len(ids) == 0:
        return np.empty(0, dtype=np.int64)
    rows = space.unit(ids)
    relevance = rows @ query
    redundancy = np.full(len(ids), -np.inf, dtype=np.float32)
    chosen: list[int] = []
    free = np.ones(len(ids), dtype=bool)
    for _ in range(min(k, len(ids))):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        score = np.where(free, lam * relevance - (1 - lam) * penalty, -np.inf)
        best = int(np.argmax(score))  # the first of equal scores: the better-ranked candidate
        chosen.append(best)
        free[best] = False
        redundancy = np.maximum(redundancy, rows @ rows[best])
    return np.array(chosen, dtype=np.int64)


def grouped(codes: np.ndarray, group_size: int, groups: int) -> list[tuple[int, np.ndarray]]:
    """(label code, positions) of the best `group_size` candidates of each label, for the `groups`
    labels whose best candidate ranks highest (whole-array steps: group_by ranks 100,000 candidates,
    and a Python loop over them held the GIL long enough to stall the event loop)."""
    if len(codes) == 0:
        return []
    labels, first = np.unique(codes, return_index=True)
    chosen = labels[np.argsort(first, kind="stable")][:groups]
    return [(int(code), np.flatnonzero(codes == code)[:group_size]) for code in chosen]


def page(positions: np.ndarray, offset: int, limit: int | None) -> tuple[np.ndarray, int | None]:
    """One page of positions and the offset of the next page (None on the last page)."""
    if limit is None:
        return positions[offset:], None
    end = offset + limit
    return positions[offset:end], end if end < len(positions) else None


def examples_average(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """One query from examples: the sum of the positive unit vectors minus the sum of the negative
    ones, normalized (3CosAdd: king - man + woman)."""
    total = positives.sum(axis=0) - (negatives.sum(axis=0) if len(negatives) else 0.0)
    return normalize(total)


def squash(x: np.ndarray) -> np.ndarray:
    """A monotone map of any score into (0, 1): 0.5 (x / (1 + |x|) + 1)."""
    return 0.5 * (x / (1.0 + np.abs(x)) + 1.0)


def best_scores(positive: np.ndarray, negative: np.ndarray | None) -> np.ndarray:
    """Qdrant's best-score rule from each candidate's best cosine to a positive and to a negative:
    squash(positive) in (0, 1) when the positive is closer, else -squash(negative) in (-1, 0). So
    every candidate won by a positive outranks every one won by a negative, and among the latter the
    farther from the negatives ranks higher."""
    if negative is None:
        return squash(positive)
    return np.where(positive > negative, squash(positive), -squash(negative))


def examples_best_score(
    space: Space, positives: np.ndarray, negatives: np.ndarray, k: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The best-score strategy over `rows` (blocked, exact). Returns (ids, scores) best first, ties
    by id."""
    best_ids: list[np.ndarray] = []
    kept_scores: list[np.ndarray] = []
    for start in range(0, len(rows), CHUNK_ROWS):
        checkpoint()
        chunk = rows[start : start + CHUNK_ROWS]
        unit = space.unit(chunk)
        negative = (unit @ negatives.T).max(axis=1) if len(negatives) else None
        score = best_scores((unit @ positives.T).max(axis=1), negative)
        keep = np.argsort(-score, kind="stable")[:k]
        best_ids.append(chunk[keep])
        kept_scores.append(score[keep].astype(np.float32))
    ids = np.concatenate(best_ids) if best_ids else np.empty(0, dtype=np.int64)
    scores = np.concatenate(kept_scores) if kept_scores else np.empty(0, dtype=np.float32)
    order = np.lexsort((ids, -scores))[:k]
    return ids[order].astype(np.int64), scores[order]
