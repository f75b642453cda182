"""Neighbor script diversity (seed paper, "7.61"): how many categories appear among a token's
nearest neighbors, and which categories the neighbors of each category's tokens belong to.

Protocol (defaults = the paper's): a random `sample` share of the vocabulary as queries (seeded
here; the original code used no seed); for each, the query itself (rank 0, counted when
`include_self`) plus its k = 50 nearest cosine neighbors; the number of distinct categories among
them, N/P/S/M/C/Z included (`count="all"`) or only writing systems (`count="scripts-only"`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Labels that are not writing systems, per scheme (left out by count="scripts-only").
NON_SCRIPT = {
    "paper": {"N", "P", "S", "M", "C", "Z", "EMPTY"},
    "unicode": {"Common", "Mixed", "Special"},
    "language": {"ambiguous", "unlabelled"},  # scripts-only counts languages only
}


@dataclass(frozen=True)
class Diversity:
    queries: int
    mean: float
    sd: float
    histogram: dict[int, int]  # distinct categories -> number of queries
    mix: dict[str, dict[str, float]]  # query category -> neighbor category -> share
    mix_queries: dict[str, int]


def sample_queries(indexed: np.ndarray, share: float, seed: int) -> np.ndarray:
    count = max(1, round(share * len(indexed)))
    if count >= len(indexed):
        return indexed
    return np.sort(np.random.default_rng(seed).choice(indexed, count, replace=False))


def diversity(
    neighbors: np.ndarray,
    queries: np.ndarray,
    codes: np.ndarray,
    names: list[str],
    *,
    include_self: bool = True,
    count: str = "all",
    scheme: str = "paper",
) -> Diversity:
    """`neighbors`: len(queries) x k neighbor ids (query excluded), best first."""
    hood = np.hstack([queries[:, None], neighbors]) if include_self else neighbors
    labels = codes[hood].astype(np.int64)
    excluded = np.array([name in NON_SCRIPT.get(scheme, set()) for name in names] + [True])
    if count == "scripts-only":
        labels = np.where(excluded[labels], len(names), labels)  # a sentinel that is not counted
    present = np.zeros((len(queries), len(names) + 1), dtype=bool)
    present[np.arange(len(queries))[:, None], labels] = True
    distinct = present[:, : len(names)].sum(axis=1)
    values, freq = np.unique(distinct, return_counts=True)
    mix: dict[str, dict[str, float]] = {}
    mix_queries: dict[str, int] = {}
    query_labels = codes[queries]
    neighbor_labels = codes[neighbors]
    for code in np.unique(query_labels):
        rows = neighbor_labels[query_labels == code].ravel()
        shares = np.bincount(rows, minlength=len(names)) / max(len(rows), 1)
        mix[names[code]] = {names[i]: round(float(v), 6) for i, v in enumerate(shares) if v > 0}
        mix_queries[names[code]] = int((query_labels == code).sum())
    return Diversity(
        len(queries),
        float(distinct.mean()),
        float(distinct.std()),
        {int(v): int(f) for v, f in zip(values, freq, strict=True)},
        mix,
        mix_queries,
    )
