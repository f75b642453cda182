"""Two spaces of the same rows compared (geometry/space_agreement.py): known answers on tiny matrices, and the
nearest rows checked against brute force."""

from __future__ import annotations

import numpy as np

from geometry.space_agreement import agreement, nearest, spearman_rows


def unit_of(matrix: np.ndarray):  # type: ignore[no-untyped-def]
    rows = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return lambda ids: rows[ids].astype(np.float32)


def test_spearman_known_answers() -> None:
    a = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [0.1, 0.4, 0.2, 0.3]])
    b = np.array([[10.0, 20.0, 30.0, 40.0], [4.0, 3.0, 2.0, 1.0], [1.0, 4.0, 2.0, 3.0]])
    assert np.allclose(spearman_rows(a, b), [1.0, -1.0, 1.0])
    # one swap of adjacent ranks among 4: rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert np.isclose(spearman_rows(np.array([[1.0, 2, 3, 4]]), np.array([[2.0, 1, 3, 4]]))[0], 0.8)


def test_nearest_is_brute_force() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((300, 8))
    unit = unit_of(matrix)
    queries = np.array([0, 17, 299])
    found = nearest(unit, 300, queries, 5)
    sims = unit(queries) @ unit(np.arange(300)).T
    sims[np.arange(3), queries] = -np.inf
    assert (found == np.argsort(-sims, axis=1)[:, :5]).all()


def test_identical_spaces_agree_fully_and_a_shuffle_does_not() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((200, 6))
    queries, reference = np.arange(0, 200, 20), np.arange(200)
    same = agreement(unit_of(matrix), unit_of(matrix), 200, queries, reference, 10)
    assert same.overlap.tolist() == [1.0] * 10
    assert np.allclose(same.rank_correlation, 1.0)
    # the same vectors given to other rows (seeded): 4 of 100 neighbors shared, ranks uncorrelated
    shuffled = agreement(unit_of(matrix), unit_of(matrix[rng.permutation(200)]), 200, queries, reference, 10)
    assert round(float(shuffled.overlap.mean()), 4) == 0.04
    assert round(float(shuffled.rank_correlation.mean()), 4) == -0.0694
