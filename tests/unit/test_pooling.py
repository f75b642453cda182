import numpy as np
import pytest

from geometry.neighbors import Space
from geometry.pooling import pool


def _space(rows: list[list[float]]) -> Space:
    matrix = np.array(rows, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1)
    return Space(matrix, norms, None, None, None, np.flatnonzero(norms > 0))


def test_mean_pools_raw_rows_so_longer_rows_weigh_more() -> None:
    space = _space([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # raw mean (1.5, 0.5) -> unit (0.9487, 0.3162); a mean of unit rows would be (0.7071, 0.7071)
    np.testing.assert_allclose(pool(space, np.array([0, 1])), [0.9486833, 0.3162278], rtol=1e-6)
    np.testing.assert_allclose(pool(space, np.array([0, 1]), "first"), [1.0, 0.0])
    np.testing.assert_allclose(pool(space, np.array([0, 1]), "last"), [0.0, 1.0])
    np.testing.assert_allclose(pool(space, np.array([2])), [0.7071068, 0.7071068], rtol=1e-6)


def test_nothing_to_pool() -> None:
    with pytest.raises(ValueError):
        pool(_space([[1.0, 0.0]]), np.array([], dtype=np.int64))


def test_a_phrases_words_weigh_by_how_rare_they_are() -> None:
    from geometry.pooling import phrase_weights

    # Zipf: p = 1 / ((place + 1) H), H = ln 8300 + 0.5772 = 9.601; weight = 0.001 / (0.001 + p)
    weights = phrase_weights(np.array([1, 754, 0]), np.array([8300, 8300, 8300]))
    np.testing.assert_allclose(weights, [0.018841, 0.878772, 0.009510], atol=1e-6)
