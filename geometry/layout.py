"""The vocabulary map: a 2-D position for every indexed token.

UMAP (McInnes, Healy & Melville, 2018) over the artifact's neighbor table as its k-NN graph
(umap-learn accepts precomputed neighbors, so no second neighbor search runs), started from the
PCA layout and seeded: the same table and seed give the same map. PCA of the unit rows alone is the
fast fallback. Positions are centred and scaled into [-1, 1] on both axes with one factor (the
WebGL scatter's device coordinates, aspect kept) and stored as float16; tokens outside the index
(special, zero rows) have NaN positions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from geometry.table_statistics import moments

METHODS = ("umap", "pca")
N_NEIGHBORS = 15  # umap-learn's default: local structure (a token's closest pieces) over global
MIN_DIST = 0.1


class _UnitRows:
    """`matrix[ids]` as float32 unit rows, for `moments`' blocked passes."""

    def __init__(self, matrix: np.ndarray, norms: np.ndarray) -> None:
        self.matrix, self.norms, self.shape = matrix, norms, matrix.shape

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        block = np.asarray(self.matrix[ids], dtype=np.float32)
        scale = self.norms[ids].astype(np.float32)
        return block / np.where(scale > 0, scale, 1.0)[:, None]


def pca_coordinates(matrix: np.ndarray, norms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """float32 (len(rows), 2): the unit rows projected on their two principal directions, each
    direction's sign chosen so that its largest-magnitude coordinate is positive (eigh's signs are
    arbitrary)."""
    unit = _UnitRows(matrix, norms)
    found = moments(unit, rows)  # type: ignore[arg-type]
    directions = found.components[:2].astype(np.float32)
    directions *= np.where(directions[np.arange(2), np.abs(directions).argmax(axis=1)] < 0, -1, 1)[:, None]
    out = np.empty((len(rows), 2), dtype=np.float32)
    for start in range(0, len(rows), 32_768):
        part = slice(start, start + 32_768)
        out[part] = (unit[rows[part]] - found.mean.astype(np.float32)) @ directions.T
    return out


def knn_graph(ids: np.ndarray, sims: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The neighbor table restricted to `rows` as umap-learn's precomputed k-NN: positions into
    `rows` (int32) and cosine distances (float32), each point first at distance 0 as umap's own
    search returns it, then its k - 1 nearest. Neighbors outside `rows` are -1 (umap skips them)."""
    position = np.full(len(ids), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    near = np.asarray(ids[rows, : k - 1], dtype=np.int64)
    indices = np.where(near >= 0, position[np.maximum(near, 0)], -1)
    distances = np.maximum(1.0 - np.asarray(sims[rows, : k - 1], dtype=np.float32), 0.0)
    distances = np.where(indices >= 0, distances, np.inf)
    own = np.arange(len(rows))[:, None]
    return (
        np.concatenate([own, indices], axis=1).astype(np.int32),
        np.concatenate([np.zeros_like(own, dtype=np.float32), distances], axis=1).astype(np.float32),
    )


def umap_coordinates(
    graph: tuple[np.ndarray, np.ndarray], init: np.ndarray, seed: int, epochs: int | None = None
) -> np.ndarray:
    """float32 (n, 2) UMAP positions from a precomputed k-NN graph (`knn_graph`), started at `init`.
    A seed makes umap-learn run its optimisation on one thread: reproducible, not parallel."""
    with warnings.catch_warnings():  # umap's package init warns that TensorFlow is absent
        warnings.simplefilter("ignore")
        from umap import UMAP  # numba compiles on first use: imported only when a map is made

    indices, distances = graph
    n = len(indices)
    reducer = UMAP(
        n_neighbors=indices.shape[1],
        min_dist=MIN_DIST,
        metric="cosine",
        precomputed_knn=(indices, distances, None),
        init=_spread(init),
        random_state=seed,
        n_epochs=epochs,
    )
    with warnings.catch_warnings():  # "n_jobs overridden by setting random_state", etc.
        warnings.simplefilter("ignore")
        # The rows themselves are never read with precomputed neighbors and an explicit start.
        return np.asarray(reducer.fit_transform(np.zeros((n, 1), dtype=np.float32)), dtype=np.float32)


def _spread(xy: np.ndarray) -> np.ndarray:
    """A start scaled as umap-learn scales its own (spectral/PCA) starts: the larger axis spans 10."""
    centred = xy - xy.mean(axis=0)
    return (10.0 * centred / max(float(np.abs(centred).max()), 1e-12)).astype(np.float32)


def scaled(xy: np.ndarray) -> np.ndarray:
    """Centred on the bounding box and scaled by one factor so the longer side spans [-1, 1]."""
    low, high = xy.min(axis=0), xy.max(axis=0)
    half = max(float((high - low).max()) / 2.0, 1e-12)
    return ((xy - (low + high) / 2.0) / half).astype(np.float32)


def layout(
    method: str,
    matrix: np.ndarray,
    norms: np.ndarray,
    rows: np.ndarray,
    table: tuple[np.ndarray, np.ndarray] | None,
    seed: int = 0,
    n_neighbors: int = N_NEIGHBORS,
    epochs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, str, int]:
    """float16 (len(norms), 2) positions in [-1, 1], NaN outside `rows`, the method used and UMAP's
    neighbors per point (0 for PCA): UMAP needs the neighbor table and more points than neighbors,
    else PCA is what it gets."""
    xy = pca_coordinates(matrix, norms, rows)
    k = min(n_neighbors, table[0].shape[1] + 1) if table is not None else 0
    used = "umap" if method == "umap" and table is not None and k >= 2 and len(rows) > k + 1 else "pca"
    if progress is not None:
        progress(1, 2)
    if used == "umap":
        assert table is not None
        xy = umap_coordinates(knn_graph(table[0], table[1], rows, k), xy, seed, epochs)
    out = np.full((len(norms), 2), np.nan, dtype=np.float16)  # the matrix may carry padding rows past them
    out[rows] = scaled(xy).astype(np.float16)
    if progress is not None:
        progress(2, 2)
    return out, used, k if used == "umap" else 0
