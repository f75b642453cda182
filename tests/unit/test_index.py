import numpy as np
import pytest

from geometry.topk import top_k_rows
from loaders.build.index import knn_table


@pytest.mark.parametrize("shape", [(7, 5), (40, 3000), (3, 1)])
def test_top_k_rows_matches_a_full_sort(shape: tuple[int, int]) -> None:
    scores = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    k = min(10, shape[1])
    ids, values = top_k_rows(scores, k)
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_array_equal(values, np.take_along_axis(scores, expected, axis=1))


def test_top_k_rows_with_many_ties_falls_back_to_exact() -> None:
    scores = np.zeros((4, 500), dtype=np.float32)
    scores[:, 7] = 1.0
    ids, values = top_k_rows(scores, 3)
    assert ids[:, 0].tolist() == [7, 7, 7, 7]
    assert values[:, 1:].max() == 0.0


def test_knn_table_is_exact_and_excludes_the_query() -> None:
    rng = np.random.default_rng(1)
    unit = rng.standard_normal((300, 8)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    keys = np.arange(300, dtype=np.uint64) + 1000  # ids differ from positions
    ids, sims = knn_table(unit, keys, 5, block=64)
    brute = unit @ unit.T
    np.fill_diagonal(brute, -np.inf)
    order = np.argsort(-brute, axis=1)[:, :5]
    np.testing.assert_array_equal(ids, order + 1000)
    np.testing.assert_allclose(sims, np.take_along_axis(brute, order, axis=1), rtol=1e-6)
