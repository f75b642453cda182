"""The neighbor table: top-k cosine neighbors (query excluded) of every indexed row, in token ids.

Two methods, recorded in the manifest (artifact.TableInfo) and shown by /v1/models:

- `exact`: brute force by loaders/build/table_kernel.py: each pair's cosine computed once (the product is
  symmetric), candidates selected against per-row bars while the product chunk is in cache, on
  `workers` threads. With torch installed and an accelerator present the product and top-k run
  there instead.
- `hnsw`: the HNSW index's candidates for every row, ranked by exact cosine: the index's own
  distances when it holds f16/f32 vectors (exact on those), else (i8) re-ranked over the stored rows
  read through loaders.build.rows.MappedRows, so the build never holds the table in float32. Its
  recall@k against exact brute force is measured on a seeded sample of rows and recorded.

`auto` takes `exact` up to EXACT_LIMIT rows^2 x dim (the packaged models and a 256k x 4,096 table)
or when an accelerator is present, `hnsw` beyond.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from loaders.build.table_kernel import BLOCK, UnitOf, streamed_top_k, symmetric_table

Progress = Callable[[int, int], None]

EXACT_LIMIT = 3e14  # rows^2 x dim up to which `auto` stays exact (e5: 2.4e13; 256k x 4,096: 2.7e14)
METHODS = ("auto", "exact", "hnsw")
RERANK_BLOCK = 32  # queries whose candidate rows are gathered at once (32 x 200 x 4,096 x 4 B = 105 MB)
RECALL_SAMPLE = 1000


@dataclass(frozen=True)
class Table:
    ids: np.ndarray  # int32 (len(keys), k), token ids best first
    sims: np.ndarray  # float32 (len(keys), k)
    method: str  # exact | hnsw
    backend: str  # numpy | torch:<device> | usearch
    candidates: int  # hnsw candidates per row before the re-rank (0: exact)
    recall: float  # recall@k against brute force on `sample` rows (1.0 for exact)
    sample: int
    workers: int
    seconds: float


def accelerator() -> str | None:
    """'cuda' or 'mps' when torch is installed and sees one, else None."""
    try:
        import torch
    except ImportError:
        return None
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else None


def choose(method: str, rows: int, dim: int) -> str:
    if method != "auto":
        return method
    return "exact" if accelerator() is not None or float(rows) ** 2 * dim <= EXACT_LIMIT else "hnsw"


# --- exact ------------------------------------------------------------------------------------


def _exact_torch(
    unit: np.ndarray, k: int, block: int, device: str, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    import torch

    on = torch.from_numpy(np.ascontiguousarray(unit)).to(device)
    ids = np.empty((len(unit), k), dtype=np.int32)
    sims = np.empty((len(unit), k), dtype=np.float32)
    for lo in range(0, len(unit), block):
        hi = min(lo + block, len(unit))
        scores = on[lo:hi] @ on.T
        rows = torch.arange(hi - lo, device=device)
        scores[rows, rows + lo] = -float("inf")
        values, local = torch.topk(scores, k, dim=1)  # sorted, best first
        ids[lo:hi], sims[lo:hi] = local.cpu().numpy(), values.cpu().numpy()
        if progress:
            progress(hi, len(unit))
    return ids, sims


def exact_table(
    unit: np.ndarray | UnitOf,
    keys: np.ndarray,
    k: int,
    *,
    block: int = BLOCK,
    workers: int = 1,
    device: str | None = None,
    progress: Progress | None = None,
) -> Table:
    """Exact table over float32 unit rows (row i is token keys[i]), given whole or as a function of
    row positions (read a chunk at a time). `device` forces torch there ('cpu' in tests) and ''
    forces numpy; by default torch is used only when it sees an accelerator."""
    began = time.perf_counter()
    k = min(k, len(keys) - 1)
    if device is None:
        device = accelerator()
    unit_of = unit.__getitem__ if isinstance(unit, np.ndarray) else unit
    if device:
        whole = unit if isinstance(unit, np.ndarray) else unit_of(np.arange(len(keys)))
        local, sims = _exact_torch(whole, k, block, device, progress)
        backend = f"torch:{device}"
    else:
        local, sims = symmetric_table(unit_of, len(keys), k, threads=workers, block=block, progress=progress)
        backend = "numpy"
    ids = keys.astype(np.int32)[local]
    return Table(ids, sims, "exact", backend, 0, 1.0, 0, workers, time.perf_counter() - began)


# --- hnsw, re-ranked ---------------------------------------------------------------------------


class UnitRows:
    """Unit float32 rows gathered by id from a table (an array or loaders.build.rows.MappedRows)."""

    def __init__(self, rows: Any, norms: np.ndarray) -> None:
        self.rows = rows
        self.scale = np.where(norms > 0, norms, 1.0).astype(np.float32)

    def unit(self, ids: np.ndarray) -> np.ndarray:
        block = np.asarray(self.rows[ids], dtype=np.float32)
        block /= self.scale[ids][..., None]
        return block


class IndexRows:
    """The index's own (f16/f32, already unit) vectors by id: the reference an index-ranked table's
    recall is measured against (the stored rows differ by the index's rounding, and near-ties swap)."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def unit(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.get(np.asarray(ids, dtype=np.int64)), dtype=np.float32)


def _ranked(
    queries: np.ndarray, candidates: np.ndarray, scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of each query's candidate ids (-1 = none) by `scores`; the query itself excluded."""
    valid = (candidates >= 0) & (candidates != queries[:, None])
    scores = np.where(valid, scores, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ids = np.take_along_axis(candidates, order, axis=1).astype(np.int32)
    sims = np.take_along_axis(scores, order, axis=1).astype(np.float32)
    missing = ~np.isfinite(sims)  # fewer than k candidates: the table's "no neighbor" marks
    ids[missing], sims[missing] = -1, np.nan
    return ids, sims


def _rerank(
    rows: UnitRows, queries: np.ndarray, candidates: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of each query's candidates by exact cosine of the stored rows (for quantised indexes)."""
    ids = np.empty((len(queries), k), dtype=np.int32)
    sims = np.empty((len(queries), k), dtype=np.float32)
    for lo in range(0, len(queries), RERANK_BLOCK):
        hi = min(lo + RERANK_BLOCK, len(queries))
        cand = candidates[lo:hi]
        vectors = rows.unit(np.where(cand >= 0, cand, 0))
        scores = np.matmul(vectors, rows.unit(queries[lo:hi])[:, :, None])[:, :, 0]
        ids[lo:hi], sims[lo:hi] = _ranked(queries[lo:hi], cand, scores, k)
    return ids, sims


def brute_force(
    rows: UnitRows | IndexRows, queries: np.ndarray, keys: np.ndarray, k: int, chunk: int = 4096
) -> np.ndarray:
    """Exact top-k ids of `queries` over the indexed rows, streaming column chunks (for recall)."""
    return streamed_top_k(rows.unit, queries, keys.astype(np.int64), k, chunk)[0]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row's true top-k that `found` holds."""
    hits = [len(np.intersect1d(f, t)) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits) / truth.shape[1]) if len(hits) else 1.0


def hnsw_table(
    index: Any,
    rows: UnitRows,
    keys: np.ndarray,
    k: int,
    *,
    candidates: int = 0,
    block: int = 4096,
    sample: int = RECALL_SAMPLE,
    seed: int = 0,
    progress: Progress | None = None,
) -> Table:
    """Every indexed row's HNSW candidates (`candidates`, default 2k) re-ranked exactly; recall@k
    measured against brute force on `sample` seeded rows."""
    began = time.perf_counter()
    k = min(k, len(keys) - 1)
    want = min(max(candidates or 2 * k, k + 1), len(keys))
    ids = np.empty((len(keys), k), dtype=np.int32)
    sims = np.empty((len(keys), k), dtype=np.float32)
    # An index holding f16/f32 vectors computes exact cosines of them: its order is the re-rank. One
    # holding i8 vectors gives quantised distances: its candidates are re-ranked over the stored rows.
    exact_distances = str(getattr(index, "dtype", "f16")).rsplit(".", 1)[-1].lower() in ("f16", "f32", "f64")
    for lo in range(0, len(keys), block):
        queries = keys[lo : lo + block].astype(np.int64)
        found = index.search(rows.unit(queries), want, threads=0)
        cand = np.asarray(found.keys, dtype=np.int64).reshape(len(queries), -1)
        counts = np.asarray(found.counts).reshape(-1)
        cand[np.arange(cand.shape[1])[None, :] >= counts[:, None]] = -1
        if exact_distances:
            distances = np.asarray(found.distances, dtype=np.float32).reshape(len(queries), -1)
            distances[cand < 0] = np.inf  # slots past a row's count hold no distance
            cosine = 1.0 - distances
            got = _ranked(queries, cand, cosine, k)
        else:
            got = _rerank(rows, queries, cand, k)
        ids[lo : lo + len(queries)], sims[lo : lo + len(queries)] = got
        if progress:
            progress(lo + len(queries), len(keys))
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(keys), size=min(sample, len(keys)), replace=False))
    truth = brute_force(IndexRows(index) if exact_distances else rows, keys[picked].astype(np.int64), keys, k)
    recall = recall_at_k(ids[picked], truth)
    return Table(ids, sims, "hnsw", "usearch", want, recall, len(picked), 1, time.perf_counter() - began)
