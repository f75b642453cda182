"""The exact neighbor table's CPU kernel: each pair's cosine computed once, selected while hot.

Cosine is symmetric, so only the block pairs (I, J >= I) of the row blocks are multiplied: a product
chunk C = U[I] @ U[J].T serves rows I (C >= their thresholds) and rows J (its columns, likewise), half
the multiply-adds of a full brute force. The thresholds come first, from a seeded sample of columns:
each row's rank-r score among the sample is a bar that about 3k of its scores pass, so only a few
hundred candidates per row are kept, each chunk is read while it is still in cache, and no
rows x n score matrix is ever written. A row whose bar let fewer than k scores through (rare: the
sample is random) is recomputed against every row. The result is the brute force's: ids best first,
ties by lower id; sims are float32 dot products of the same unit rows.

Strips (one I against every J >= I) run on `threads` threads with one BLAS thread each: numpy
releases the GIL in the product and the comparisons, and the selection's Python steps of one strip
overlap the other's product. Rows are read through `unit_of(positions)`, so an LLM-sized table is
converted to float32 one chunk at a time rather than held whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from geometry.topk import top_k_rows

UnitOf = Callable[[np.ndarray], np.ndarray]  # float32 unit rows at the given positions
Triples = tuple[np.ndarray, np.ndarray, np.ndarray]  # (row positions, column positions, scores)
Progress = Callable[[int, int], None]
T = TypeVar("T")

BLOCK = 2048  # rows per strip
CHUNK = 512  # columns per product chunk: 2,048 x 512 x 4 B = 4 MB, still in cache for the selection
SAMPLE_PER_K = 64  # sampled columns per neighbor asked for
PASS_PER_K = 3  # the bar admits about this many candidates per neighbor asked for


def thresholds(unit_of: UnitOf, n: int, k: int, pool: ThreadPoolExecutor, seed: int = 0) -> np.ndarray:
    """Per-row bar: the score at rank r of a seeded column sample (self excluded), so that about
    PASS_PER_K x k of the row's n scores are >= it; -inf where the sample is (nearly) everything."""
    size = min(n, SAMPLE_PER_K * k)
    rank = (PASS_PER_K * k * size) // n
    if rank >= size - 1:
        return np.full(n, -np.inf, dtype=np.float32)
    picked = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    sample = unit_of(picked)

    def bar(lo: int) -> np.ndarray:
        hi = min(lo + BLOCK, n)
        scores = unit_of(np.arange(lo, hi)) @ sample.T
        mine = (picked >= lo) & (picked < hi)
        scores[picked[mine] - lo, np.flatnonzero(mine)] = -np.inf
        return -np.partition(-scores, rank, axis=1)[:, rank]

    return np.concatenate(list(pool.map(bar, range(0, n, BLOCK))))


class _Found:
    """Candidate (row, col, score) triples, gathered per destination row block."""

    def __init__(self, blocks: int) -> None:
        self.parts: list[list[Triples]] = [[] for _ in range(blocks)]

    def add(self, triples: Triples, block: int) -> None:
        """Triples for rows of this or later blocks, sorted by row: split by destination block."""
        rows, cols, vals = triples
        if not len(rows):
            return
        dest = rows // block
        cuts = np.flatnonzero(np.diff(dest)) + 1
        parts = zip(np.split(rows, cuts), np.split(cols, cuts), np.split(vals, cuts), strict=True)
        for to, triple in zip(dest[np.concatenate([[0], cuts])], parts, strict=True):
            self.parts[int(to)].append(triple)

    def take(self, index: int) -> Triples:
        parts, self.parts[index] = self.parts[index], []
        return _joined(parts)


def _strip(
    unit_of: UnitOf, bars: np.ndarray, lo: int, hi: int, n: int, chunk: int
) -> tuple[Triples, Triples]:
    """Rows [lo, hi) against columns [lo, n): (triples for rows [lo, hi), triples for rows >= hi)."""
    left = unit_of(np.arange(lo, hi))
    row_bar = bars[lo:hi]
    mine: list[Triples] = []
    theirs: list[Triples] = []
    for c0 in range(lo, n, chunk):
        c1 = min(c0 + chunk, n)
        scores = left @ unit_of(np.arange(c0, c1)).T
        if c0 < hi:  # the diagonal block: a row is not its own neighbor
            d = np.arange(max(c0, lo), min(c1, hi))
            scores[d - lo, d - c0] = -np.inf
        col_bar = bars[c0:c1]
        # One pass with the lower of all bars keeps a few % of the chunk; the exact bars then split it.
        flat = np.flatnonzero(scores >= min(row_bar.min(), col_bar.min()))
        r, c = np.divmod(flat, c1 - c0)
        v = scores.reshape(-1)[flat]
        keep = v >= row_bar[r]
        mine.append((r[keep] + lo, c[keep] + c0, v[keep]))
        # Columns inside [lo, hi) already see these pairs as rows (the diagonal block is full).
        keep = (v >= col_bar[c]) & (c + c0 >= hi)
        theirs.append((c[keep] + c0, r[keep] + lo, v[keep]))
    return _joined(mine), _sorted(_joined(theirs))


def _joined(parts: list[Triples]) -> Triples:
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    rows, cols, vals = zip(*parts, strict=True)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _sorted(triples: Triples) -> Triples:
    order = np.argsort(triples[0], kind="stable")
    return triples[0][order], triples[1][order], triples[2][order]


def _order_key(vals: np.ndarray) -> np.ndarray:
    """uint32 that sorts ascending as the float32 `vals` sort descending (-0.0 made 0.0 first)."""
    bits = (vals.astype(np.float32) + np.float32(0.0)).view(np.uint32)
    ascending = np.where(bits & 0x80000000, ~bits, bits | 0x80000000)
    return ~ascending


def _from_order_key(key: np.ndarray) -> np.ndarray:
    ascending = ~key.astype(np.uint32)
    bits = np.where(ascending & 0x80000000, ascending & 0x7FFFFFFF, ~ascending)
    return bits.view(np.float32)


def _grouped(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, span: int, n: int) -> Triples:
    """The triples ordered by row, score desc, col asc: one sort of packed 64-bit keys (a three-key
    lexsort of 15M candidates took ~20x longer, by hand), else the lexsort."""
    col_bits = max(1, (n - 1).bit_length())
    row_bits = max(1, (span - 1).bit_length())
    if row_bits + 32 + col_bits > 64:
        order = np.lexsort((cols, -vals, rows))
        return rows[order], cols[order], vals[order]
    key = rows.astype(np.uint64) << np.uint64(32 + col_bits)
    key |= _order_key(vals).astype(np.uint64) << np.uint64(col_bits)
    key |= cols.astype(np.uint64)
    key.sort()
    low = np.uint64((1 << col_bits) - 1)
    return (
        (key >> np.uint64(32 + col_bits)).astype(np.int64),
        (key & low).astype(np.int64),
        _from_order_key((key >> np.uint64(col_bits)) & np.uint64(0xFFFFFFFF)),
    )


def _best(triples: Triples, lo: int, hi: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-k of each row in [lo, hi) from its candidates (score desc, col asc), and the rows with
    fewer than k candidates."""
    rows, cols, vals = _grouped(triples[0] - lo, triples[1], triples[2], hi - lo, n)
    counts = np.bincount(rows, minlength=hi - lo)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    short = counts < k
    take = starts[~short][:, None] + np.arange(k)
    ids = np.full((hi - lo, k), -1, dtype=np.int64)
    sims = np.full((hi - lo, k), -np.inf, dtype=np.float32)
    ids[~short], sims[~short] = cols[take], vals[take]
    return ids, sims, np.flatnonzero(short) + lo


def streamed_top_k(
    unit_of: UnitOf, queries: np.ndarray, columns: np.ndarray, k: int, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of `queries` over `columns` (both as `unit_of` takes them, the query itself
    excluded), a column chunk at a time merged into the best so far: (columns, sims) best first,
    ties by the earlier column. For recall references and the rows whose bar was too high."""
    q = unit_of(queries)
    best_ids = np.full((len(queries), k), -1, dtype=np.int64)
    best = np.full((len(queries), k), -np.inf, dtype=np.float32)
    for lo in range(0, len(columns), chunk):
        cols = columns[lo : lo + chunk]
        scores = q @ unit_of(cols).T
        scores[queries[:, None] == cols[None, :]] = -np.inf
        merged = np.concatenate([best, scores], axis=1)
        merged_ids = np.concatenate([best_ids, np.broadcast_to(cols, scores.shape)], axis=1)
        top, _ = top_k_rows(merged, k)
        best = np.take_along_axis(merged, top.astype(np.int64), axis=1)
        best_ids = np.take_along_axis(merged_ids, top.astype(np.int64), axis=1)
    return best_ids, best


def symmetric_table(
    unit_of: UnitOf,
    n: int,
    k: int,
    *,
    threads: int = 2,
    block: int = BLOCK,
    chunk: int = CHUNK,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k cosine neighbors (self excluded) of the n unit rows: (positions int32, sims)."""
    from threadpoolctl import threadpool_limits

    k = min(k, n - 1)
    ids = np.empty((n, k), dtype=np.int32)
    sims = np.empty((n, k), dtype=np.float32)
    blocks = -(-n // block)
    found = _Found(blocks)
    shorts: list[np.ndarray] = []
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max(1, threads)) as pool:
        bars = thresholds(unit_of, n, k, pool, seed)

        def strips() -> Iterator[Future[tuple[Triples, Triples]]]:
            for b in range(blocks):
                lo = b * block
                yield pool.submit(_strip, unit_of, bars, lo, min(lo + block, n), n, chunk)

        for b, future in enumerate(_ahead(strips(), max(2, 2 * threads))):
            lo, hi = b * block, min((b + 1) * block, n)
            mine, theirs = future.result()
            found.add(theirs, block)
            found.parts[b].append(mine)
            best_ids, best_sims, short = _best(found.take(b), lo, hi, n, k)
            shorts.append(short)
            ids[lo:hi], sims[lo:hi] = best_ids, best_sims
            if progress:
                progress(hi, n)
        redo = np.concatenate(shorts)
        if len(redo):
            with threadpool_limits(limits=threads, user_api="blas"):
                ids[redo], sims[redo] = streamed_top_k(unit_of, redo, np.arange(n), k)
    return ids, sims


def _ahead(futures: Iterator[Future[T]], depth: int) -> Iterator[Future[T]]:
    """Keep `depth` strips submitted ahead of the one being merged (bounded memory, busy threads)."""
    pending: list[Future[T]] = []
    for future in futures:
        pending.append(future)
        if len(pending) > depth:
            yield pending.pop(0)
    yield from pending
