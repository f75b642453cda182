"""Nearest neighbors by cosine similarity: exact table, filtered exact search, and HNSW + re-ranking.

Three ways to answer, chosen per query by `search`:
- a token query with k within the exact top-K table (and a filter that leaves k inside it): table
  lookup, exact by construction;
- a filter the table cannot satisfy, or `exact=True`: brute force over the allowed rows;
- otherwise (free vectors) HNSW candidates, refined by a best-first search over the exact neighbor
  table (which recovers what the approximate graph missed), ranked by exact cosines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from geometry.interrupt import checkpoint
from geometry.topk import top_k_rows

# Rows gathered at a time in brute force (bounds transient memory to ~32 MB at 1024-d float16).
CHUNK_ROWS = 16_384
# HNSW over-fetch: candidates requested per wanted neighbor, and never fewer than MIN_FETCH.
OVERFETCH = 2
MIN_FETCH = 64
# The most rounds of best-first expansion through the exact neighbor table after HNSW.
EXPAND_ROUNDS = 8
EXPAND_WIDTH = 1  # expand the best k candidates each round (2 gains ~0.005 recall at half the speed)
# From this many brute-force queries in one request, blocked matrix products beat one SIMD scan each.
BATCH_EXACT = 4


def candidates_per_block(k: int) -> int:
    """Brute force keeps this many best rows of each block for exact re-scoring: more than k, so that
    rows whose float16 scores tie or swap with float32 ones are not lost at the block's edge."""
    return 2 * k + 16


class VectorIndex(Protocol):
    def search(self, vectors: Any, count: int = 10, *, threads: int = 0) -> Any: ...


@dataclass(frozen=True)
class Space:
    """What neighbor search needs from a loaded model (arrays may be memory-mapped)."""

    matrix: np.ndarray  # vocab x dim, float16/float32
    norms: np.ndarray  # vocab, 0 for rows that are never returned (special, zero)
    index: VectorIndex | None
    knn_ids: np.ndarray | None  # vocab x K exact neighbor ids (query excluded), -1 for unindexed rows
    knn_sims: np.ndarray | None
    indexed: np.ndarray  # sorted ids of the rows that can be returned (norm > 0)

    @classmethod
    def of_rows(cls, matrix: np.ndarray, norms: np.ndarray | None = None) -> Space:
        """Rows that are all candidates, with no index or table (a lexicon, given words); without
        `norms` the rows are unit vectors."""
        norms = np.ones(len(matrix), dtype=np.float32) if norms is None else norms
        return cls(matrix, norms, None, None, None, np.arange(len(matrix)))

    @property
    def table_k(self) -> int:
        return 0 if self.knn_ids is None else int(self.knn_ids.shape[1])

    def unit(self, ids: np.ndarray) -> np.ndarray:
        """float32 L2-normalized rows for `ids` (unindexed rows come back as zeros)."""
        rows = np.asarray(self.matrix[ids], dtype=np.float32)
        norms = self.norms[ids]
        return rows / np.where(norms > 0, norms, np.inf)[:, None]


@dataclass(frozen=True)
class Hits:
    ids: np.ndarray  # int64, best first
    sims: np.ndarray  # float32 cosine similarities
    method: str  # "table" | "exact" | "ann"


def normalize(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _best(ids: np.ndarray, sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((ids, -sims))[:k]  # ties broken by id, so results are deterministic
    return ids[order].astype(np.int64), sims[order].astype(np.float32)


def exact_search(space: Space, query: np.ndarray, k: int, allowed: np.ndarray | None) -> Hits:
    """Brute-force top-k over the allowed rows (all indexed rows when `allowed` is None).

    USearch's SIMD kernel scans the stored rows as they are (float16: no per-query conversion to
    float32, ~10x faster than numpy) for the best 2k+16 of each chunk; those are re-scored in
    float32 so that the ranking and the similarities are numpy's, ties broken by id.
    """
    from usearch.index import search as scan

    candidates = space.indexed if allowed is None else allowed
    want = candidates_per_block(k)
    stored_query = np.ascontiguousarray(query, dtype=space.matrix.dtype)
    pool, sims = [], []
    for start in range(0, len(candidates), CHUNK_ROWS):
        checkpoint()
        chunk = candidates[start : start + CHUNK_ROWS]
        if len(chunk) > want:
            lo, hi = int(chunk[0]), int(chunk[-1]) + 1
            # a run of consecutive rows (a lexicon language, the whole table) is scanned in place
            contiguous = hi - lo == len(chunk) and bool(np.all(np.diff(chunk) == 1))
            rows = space.matrix[lo:hi] if contiguous else np.ascontiguousarray(space.matrix[chunk])
            found = scan(rows, stored_query, want, "cos", exact=True, threads=1)
            keys = np.asarray(found.keys, dtype=np.int64)
            chunk = chunk[keys[(keys >= 0) & (keys < len(chunk))]]
        # re-scored chunk by chunk: one gather of every row at once (a search k deep) held the GIL
        pool.append(chunk)
        sims.append(space.unit(chunk) @ query)
    ids = np.concatenate(pool).astype(np.int64) if pool else np.empty(0, dtype=np.int64)
    scores = np.concatenate(sims) if sims else np.empty(0, dtype=np.float32)
    best_ids, best_sims = _best(ids, scores, k)
    return Hits(best_ids, best_sims, "exact")


def exact_many(
    space: Space, queries: np.ndarray, k: int, rows: np.ndarray, exclude: list[int | None]
) -> list[Hits]:
    """Brute force for several queries over the same sorted `rows` (query i never returns
    `exclude[i]`): blocked float32 products, each block converted once for all the queries; the best
    2k+16 per block are re-scored as `exact_search` does, so both give the same answers."""
    want = candidates_per_block(k)
    pool: list[list[np.ndarray]] = [[] for _ in queries]
    for start in range(0, len(rows), CHUNK_ROWS):
        checkpoint()
        chunk = rows[start : start + CHUNK_ROWS]
        scores = queries @ space.unit(chunk).T
        for row, token in enumerate(exclude):
            at = np.searchsorted(chunk, token) if token is not None else len(chunk)
            if at < len(chunk) and chunk[at] == token:
                scores[row, at] = -np.inf
        local, _ = top_k_rows(scores, min(want, len(chunk)))
        for row in range(len(queries)):
            pool[row].append(chunk[local[row]])
    out = []
    for row, token in enumerate(exclude):
        ids = np.concatenate(pool[row]).astype(np.int64) if pool[row] else np.empty(0, dtype=np.int64)
        ids = ids[ids != token] if token is not None else ids
        best_ids, best_sims = _best(ids, space.unit(ids) @ queries[row], k)
        out.append(Hits(best_ids, best_sims, "exact"))
    return out


def ann_search(
    space: Space, query: np.ndarray, want: int, initial: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """HNSW candidates `initial`, then best-first expansion over the exact neighbor table (unsorted).

    Each round adds the table neighbors of the current best `want` candidates not yet expanded,
    with exact cosines, until the best `want` stop changing: a greedy search on the exact k-NN
    graph that recovers neighbors the approximate HNSW graph missed.
    """
    ids = initial[(initial >= 0) & (initial < len(space.norms))]
    ids = ids[space.norms[ids] > 0]
    sims = space.unit(ids) @ query
    if space.knn_ids is None:
        return ids, sims
    seen = set(ids.tolist())
    expanded: set[int] = set()
    for _ in range(EXPAND_ROUNDS):
        best = ids[np.argsort(-sims)[: EXPAND_WIDTH * want]].tolist()
        todo = [i for i in best if i not in expanded]
        if not todo:
            break
        expanded.update(todo)
        fresh = [i for i in np.unique(space.knn_ids[todo]).tolist() if i >= 0 and i not in seen]
        if not fresh:
            continue
        seen.update(fresh)
        new = np.array(fresh, dtype=np.int64)
        new = new[space.norms[new] > 0]
        ids = np.concatenate([ids, new])
        sims = np.concatenate([sims, space.unit(new) @ query])
    return ids, sims


def _index_candidates(space: Space, queries: np.ndarray, fetch: int) -> list[np.ndarray]:
    """HNSW candidates of each query row, in one batched search (USearch pads with key 0: use counts)."""
    assert space.index is not None
    if len(queries) == 1:  # a single search (threads=1 is faster for one query) returns only its matches
        return [np.asarray(space.index.search(queries[0], fetch, threads=1).keys, dtype=np.int64)]
    found = space.index.search(queries, fetch, threads=0)
    keys = np.asarray(found.keys, dtype=np.int64).reshape(len(queries), -1)
    counts = np.asarray(found.counts).reshape(-1)
    return [keys[row, : int(counts[row])] for row in range(len(queries))]


def _from_table(space: Space, token: int, k: int, mask: np.ndarray | None) -> Hits | None:
    """The exact table's answer when it holds k allowed neighbors (or all there are, unfiltered)."""
    if space.knn_ids is None or space.knn_sims is None:
        return None
    ids = space.knn_ids[token].astype(np.int64)
    sims = space.knn_sims[token]
    keep = ids >= 0 if mask is None else (ids >= 0) & mask[np.maximum(ids, 0)]
    if keep.sum() >= k or (mask is None and k <= space.table_k):
        return Hits(ids[keep][:k], sims[keep][:k].astype(np.float32), "table")
    return None


def _allowed_rows(space: Space, mask: np.ndarray | None, token: int | None) -> np.ndarray:
    rows = space.indexed if mask is None else np.flatnonzero(mask)
    return rows if token is None else rows[rows != token]


def _refine(
    space: Space, query: np.ndarray, k: int, token: int | None, mask: np.ndarray | None, initial: np.ndarray
) -> Hits | None:
    """HNSW + table expansion for one query; None when the filter left fewer than k candidates."""
    ids, sims = ann_search(space, query, k + (token is not None), initial)
    keep = np.ones(len(ids), dtype=bool) if mask is None else mask[ids]
    if token is not None:
        keep &= ids != token
    if keep.sum() < k:
        return None
    best_ids, best_sims = _best(ids[keep], sims[keep], k)
    return Hits(best_ids, best_sims, "ann")


def search_many(
    space: Space,
    queries: np.ndarray,
    k: int,
    *,
    tokens: list[int | None],
    mask: np.ndarray | None = None,
    exact: bool = False,
    approximate: bool = False,
) -> list[Hits]:
    """Top-k cosine neighbors of each unit row of `queries` (row i is token `tokens[i]`'s vector, or
    a free vector when None). A query token is never its own neighbor; `mask` (over the vocabulary,
    already False for unindexed rows) restricts the results.

    A token query whose answer the exact table holds is a lookup. Everything else is brute force over
    the allowed rows (approximate search under a filter, or for a vector far from every token, misses
    true neighbors), except unfiltered free vectors with `approximate`: those share one batched HNSW
    search refined through the table. `exact` skips the table too.
    """
    out: list[Hits | None] = [None] * len(queries)
    pending: list[int] = []
    brute: list[int] = []
    for row, token in enumerate(tokens):
        if token is not None and not exact:
            out[row] = _from_table(space, token, k, mask)
        if out[row] is None:
            hnsw = approximate and token is None and mask is None and not exact and space.index is not None
            (pending if hnsw else brute).append(row)
    if len(brute) >= BATCH_EXACT:  # one blocked pass over the rows for all of them
        rows = space.indexed if mask is None else np.flatnonzero(mask)
        exclude = [tokens[row] for row in brute]
        for row, hits in zip(brute, exact_many(space, queries[brute], k, rows, exclude), strict=True):
            out[row] = hits
    else:
        for row in brute:
            out[row] = exact_search(space, queries[row], k, _allowed_rows(space, mask, tokens[row]))
    if pending:
        fetch = max(OVERFETCH * (k + 1), MIN_FETCH)
        for row, initial in zip(pending, _index_candidates(space, queries[pending], fetch), strict=True):
            out[row] = _refine(space, queries[row], k, tokens[row], mask, initial) or exact_search(
                space, queries[row], k, _allowed_rows(space, mask, tokens[row])
            )
    return [hits for hits in out if hits is not None]


def search(
    space: Space,
    query: np.ndarray,
    k: int,
    *,
    token: int | None = None,
    mask: np.ndarray | None = None,
    exact: bool = False,
    approximate: bool = False,
) -> Hits:
    """Top-k cosine neighbors of one unit `query` vector (see `search_many`)."""
    return search_many(
        space, query[None, :], k, tokens=[token], mask=mask, exact=exact, approximate=approximate
    )[0]
