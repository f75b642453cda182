"""Separability, diversity and comparison on tiny data with known answers."""

import numpy as np
import pytest

from geometry.compare import canonical_correlations, compare, shared_tokens
from geometry.diversity import diversity, sample_queries
from geometry.logistic import fit_folds
from geometry.separability import separability


def clusters(shift: float, n: int = 600, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2 * n, d)).astype(np.float32)
    x[:n, 0] += shift  # A leans to +e1, B to -e1: separable for a large shift
    x[n:, 0] -= shift
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.repeat(np.array([0, 1], dtype=np.uint16), n)


def run(x: np.ndarray, codes: np.ndarray, **kwargs: object) -> object:
    ids = np.arange(len(x))
    return separability(lambda i: x[i], ids, codes, ["A", "B"], min_tokens=100, **kwargs)  # type: ignore[arg-type]


def test_perfectly_separable_clusters_score_one() -> None:
    result = run(*clusters(shift=5.0))
    assert [s.accuracy for s in result.scores] == [1.0, 1.0]  # type: ignore[attr-defined]
    assert result.mean == 1.0  # type: ignore[attr-defined]


def test_identical_clusters_score_about_one_half() -> None:
    result = run(*clusters(shift=0.0))
    assert abs(result.mean - 0.5) < 0.06  # type: ignore[attr-defined]


def test_same_seed_same_numbers_and_small_categories_skipped() -> None:
    x, codes = clusters(shift=1.0)
    codes = codes.copy()
    codes[:50] = 2  # a third category of 50 tokens, under min_tokens
    ids = np.arange(len(x))
    names = ["A", "B", "C"]
    first = separability(lambda i: x[i], ids, codes, names, min_tokens=100, seed=3)
    again = separability(lambda i: x[i], ids, codes, names, min_tokens=100, seed=3)
    other = separability(lambda i: x[i], ids, codes, names, min_tokens=100, seed=4)
    assert first == again and first != other
    assert first.skipped == {"C": 50}
    chosen = separability(lambda i: x[i], ids, codes, names, min_tokens=100, categories=["A", "C"])
    assert chosen.skipped == {"C": 50} and [s.category for s in chosen.scores] == ["A"]  # B: not asked
    pairwise = separability(lambda i: x[i], ids, codes, names, min_tokens=100, mode="pairwise")
    assert [s.category for s in pairwise.scores] == ["A|B"]


def test_logistic_regression_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    x, codes = clusters(shift=0.8, n=400, d=6, seed=1)
    y = codes.astype(np.float32)
    train = np.ones((len(x), 1), dtype=np.float32)
    ours = fit_folds(x, y, train)[:, 0]
    ref = LogisticRegression().fit(x, y)
    np.testing.assert_allclose(ours[:-1], ref.coef_[0], atol=2e-3)
    assert abs(ours[-1] - ref.intercept_[0]) < 2e-3


def test_diversity_counts_scripts_by_hand() -> None:
    # token 0 (Latin) has neighbors 1 (Latin), 2 (Cyrillic), 3 (punctuation)
    codes = np.array([0, 0, 1, 2], dtype=np.uint16)
    names = ["LATIN", "CYRILLIC", "P"]
    neighbors = np.array([[1, 2, 3], [0, 0, 0]])
    queries = np.array([0, 1])
    result = diversity(neighbors, queries, codes, names, include_self=True, count="all", scheme="paper")
    assert result.histogram == {1: 1, 3: 1} and result.mean == 2.0
    only = diversity(
        neighbors, queries, codes, names, include_self=True, count="scripts-only", scheme="paper"
    )
    assert only.histogram == {1: 1, 2: 1}
    assert result.mix["LATIN"] == {
        "LATIN": pytest.approx(4 / 6, abs=1e-6),
        "CYRILLIC": pytest.approx(1 / 6, abs=1e-6),
        "P": pytest.approx(1 / 6, abs=1e-6),
    }


def test_sampling_is_seeded() -> None:
    indexed = np.arange(1000)
    assert (sample_queries(indexed, 0.05, 1) == sample_queries(indexed, 0.05, 1)).all()
    assert len(sample_queries(indexed, 0.05, 1)) == 50 and len(sample_queries(indexed, 1.0, 1)) == 1000


def test_compare_identical_models_overlap_fully() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 5)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.arange(300)
    rotated = x @ np.linalg.qr(rng.standard_normal((5, 5)))[0].astype(np.float32)  # same geometry
    result = compare(lambda i: x[i], lambda i: rotated[i], ids, ids, k=10, sample=0.2, seed=0)
    assert result.overlap_mean == 10.0 and result.canonical[0] == pytest.approx(1.0, abs=1e-6)
    noise = rng.standard_normal((300, 5)).astype(np.float32)
    assert canonical_correlations(x, noise)[0] < 0.5


def test_shared_tokens() -> None:
    a, b = shared_tokens(["x", "y", "z"], ["z", "q", "x"])
    assert a.tolist() == [0, 2] and b.tolist() == [2, 0]


def test_one_vs_rest_needs_a_rest_in_every_fold() -> None:
    x, codes = clusters(shift=1.0)
    codes = np.zeros_like(codes)
    codes[:5] = 1  # category 0 has only 5 others: fewer than 10 folds
    result = separability(lambda i: x[i], np.arange(len(x)), codes, ["A", "B"], min_tokens=100)
    assert result.scores == [] and result.skipped == {"A": len(x) - 5, "B": 5}
