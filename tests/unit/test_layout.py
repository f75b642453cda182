"""The vocabulary map's math (geometry/layout.py) on tiny tables with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from geometry.layout import knn_graph, layout, pca_coordinates, scaled


def _exact_table(unit: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force cosine neighbors of `rows` among `rows`, query excluded (the artifact's table)."""
    ids = np.full((len(unit), k), -1, dtype=np.int32)
    sims = np.full((len(unit), k), np.nan, dtype=np.float32)
    scores = unit[rows] @ unit[rows].T
    np.fill_diagonal(scores, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ids[rows] = rows[order]
    sims[rows] = np.take_along_axis(scores, order, axis=1)
    return ids, sims


def test_pca_of_unit_rows_on_an_arc_is_sine_then_centred_cosine() -> None:
    angles = np.radians([-60.0, -30.0, 0.0, 30.0, 60.0])
    matrix = np.zeros((6, 3), dtype=np.float32)
    matrix[1:, 0], matrix[1:, 1] = 2 * np.cos(angles), 2 * np.sin(angles)  # norm 2: unit rows are used
    norms = np.linalg.norm(matrix, axis=1)
    xy = pca_coordinates(matrix, norms, np.arange(1, 6))
    # The sines spread most (first direction, +y); cosines next (second, +x: its largest entry).
    expected = np.stack([np.sin(angles), np.cos(angles) - np.cos(angles).mean()], axis=1)
    np.testing.assert_allclose(xy, expected, atol=1e-6)


def test_knn_graph_puts_each_point_first_and_maps_ids_to_positions() -> None:
    ids = np.array([[-1, -1], [3, 4], [-1, -1], [4, 1], [3, 2]], dtype=np.int32)
    sims = np.array([[0, 0], [0.9, 0.5], [0, 0], [0.8, 0.9], [0.7, 0.1]], dtype=np.float32)
    indices, distances = knn_graph(ids, sims, np.array([1, 3, 4]), k=3)
    np.testing.assert_array_equal(indices, [[0, 1, 2], [1, 2, 0], [2, 1, -1]])  # token 2 is not placed
    np.testing.assert_allclose(distances, [[0, 0.1, 0.5], [0, 0.2, 0.1], [0, 0.3, np.inf]], atol=1e-6)


def test_scaled_keeps_the_aspect_and_fills_the_longer_side() -> None:
    xy = np.array([[0.0, 0.0], [4.0, 1.0], [2.0, 2.0]], dtype=np.float32)
    np.testing.assert_allclose(scaled(xy), [[-1.0, -0.5], [1.0, 0.0], [0.0, 0.5]])


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three tight clusters of 60 unit rows in 16 dimensions, and row 0 left out (a special token)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(16, dtype=np.float32)[:3] * 4
    matrix = np.concatenate([np.zeros((1, 16))] + [c + rng.normal(size=(60, 16)) * 0.3 for c in centres])
    matrix = matrix.astype(np.float32)
    return matrix, np.linalg.norm(matrix, axis=1), np.repeat([-1, 0, 1, 2], [1, 60, 60, 60])


@pytest.mark.parametrize("method", ["umap", "pca"])
def test_layout_is_seeded_shaped_and_keeps_clusters_apart(method: str) -> None:
    matrix, norms, cluster = _clusters()
    rows = np.arange(1, len(matrix))
    table = _exact_table(matrix / np.maximum(norms, 1e-9)[:, None], rows, 20)
    first, used, k = layout(method, matrix, norms, rows, table, seed=7)
    again, _, _ = layout(method, matrix, norms, rows, table, seed=7)
    assert used == method and k == (15 if method == "umap" else 0)
    assert first.dtype == np.float16 and first.shape == (len(matrix), 2)
    assert first.tobytes() == again.tobytes()  # same inputs and seed: the same bytes
    assert np.isnan(first[0]).all() and not np.isnan(first[1:]).any()
    placed = first[1:].astype(np.float32)
    assert np.abs(placed).max() == 1.0  # the longer side spans [-1, 1]
    centres = np.stack([placed[cluster[1:] == c].mean(axis=0) for c in range(3)])
    nearest = np.argmin(((placed[:, None] - centres[None]) ** 2).sum(axis=2), axis=1)
    np.testing.assert_array_equal(nearest, cluster[1:])  # every token lands nearest its own cluster


def test_umap_with_another_seed_moves_points_and_without_a_table_falls_back_to_pca() -> None:
    matrix, norms, _ = _clusters()
    rows = np.arange(1, len(matrix))
    table = _exact_table(matrix / np.maximum(norms, 1e-9)[:, None], rows, 20)
    one, _, _ = layout("umap", matrix, norms, rows, table, seed=1)
    two, _, _ = layout("umap", matrix, norms, rows, table, seed=2)
    assert one.tobytes() != two.tobytes()
    fallback, used, k = layout("umap", matrix, norms, rows, None)
    pca, _, _ = layout("pca", matrix, norms, rows, table)
    assert used == "pca" and k == 0 and fallback.tobytes() == pca.tobytes()
