"""How a model relates languages: neighbor language mixing between language-labelled tokens.

For sampled tokens of each language a, count how many of their k nearest neighbors carry language
b. `share[a, b]` is b's part of a's language-labelled neighbors; `lift[a, b]` divides it by b's
part of all labelled tokens, so big languages do not look close to everything (1 = as often as
chance, > 1 closer). `affinity` is the symmetric mean of lift and its transpose; average-linkage
clustering on the distance 1 / (1 + affinity) gives the order and merge tree of the languages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform


@dataclass(frozen=True)
class Merge:
    left: list[str]
    right: list[str]
    distance: float


@dataclass(frozen=True)
class Relations:
    languages: list[str]
    tokens: list[int]  # labelled tokens per language
    queries: list[int]  # sampled per language
    share: np.ndarray  # rows sum to 1 (or 0 when no labelled neighbor was found)
    lift: np.ndarray
    affinity: np.ndarray  # symmetric
    order: list[str]  # dendrogram leaf order
    merges: list[Merge]  # first merge first
    tree: np.ndarray  # scipy linkage matrix ((n-1) x 4) over `languages`, for dendrograms


def sample_per_label(
    ids: np.ndarray, codes: np.ndarray, wanted: list[int], per_label: int, seed: int
) -> list[np.ndarray]:
    """Up to `per_label` ids of each wanted code, drawn without replacement, sorted."""
    rng = np.random.default_rng(seed)
    out = []
    for code in wanted:
        pool = ids[codes[ids] == code]
        take = min(per_label, len(pool))
        out.append(np.sort(rng.choice(pool, take, replace=False)) if take < len(pool) else pool)
    return out


def neighbor_counts(
    neighbors: np.ndarray, query_rows: list[int], codes: np.ndarray, wanted: list[int]
) -> np.ndarray:
    """counts[a, b]: neighbors (rows of `neighbors`, -1 padding) of language a's queries in language b."""
    position = np.full(int(codes.max()) + 2, -1, dtype=np.int64)
    position[wanted] = np.arange(len(wanted))
    valid = neighbors >= 0
    column = np.where(valid, position[codes[np.where(valid, neighbors, 0)]], -1)
    counts = np.zeros((len(wanted), len(wanted)), dtype=np.int64)
    start = 0
    for a, size in enumerate(query_rows):
        block = column[start : start + size]
        counts[a] = np.bincount(block[block >= 0], minlength=len(wanted))
        start += size
    return counts


def relations(counts: np.ndarray, tokens: np.ndarray, names: list[str], queries: list[int]) -> Relations:
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=np.float64), where=totals > 0)
    expected = tokens / tokens.sum()
    lift = share / expected[None, :]
    affinity = (lift + lift.T) / 2
    distance = 1.0 / (1.0 + affinity)
    np.fill_diagonal(distance, 0.0)
    merges: list[Merge] = []
    order = list(names)
    tree = np.zeros((0, 4))
    if len(names) >= 2:
        tree = linkage(squareform(distance, checks=False), method="average")
        members: list[list[str]] = [[n] for n in names]
        for left, right, height, _ in tree:
            a, b = members[int(left)], members[int(right)]
            merges.append(Merge(a, b, float(height)))
            members.append(a + b)
        order = [names[i] for i in leaves_list(tree)]
    tokens_out = [int(t) for t in tokens]
    return Relations(list(names), tokens_out, queries, share, lift, affinity, order, merges, tree)
