"""Language relations on tiny hand-made neighborhoods with known answers."""

from __future__ import annotations

import numpy as np

from geometry.relations import neighbor_counts, relations, sample_per_label

# Token codes: 0 = a, 1 = b, 2 = c, 3 = not a language.
CODES = np.array([0, 0, 1, 1, 2, 2, 3, 3])


def test_counts_per_language_pair_ignore_unlabelled_and_padding() -> None:
    # queries: tokens 0 (a), 2 (b); neighbors, -1 = padding
    neighbors = np.array([[1, 2, 6, -1], [3, 0, 4, 7]])
    counts = neighbor_counts(neighbors, [1, 1, 0], CODES, [0, 1, 2])
    assert counts.tolist() == [[1, 1, 0], [1, 1, 1], [0, 0, 0]]


def test_lift_normalizes_for_size_and_affinity_is_symmetric() -> None:
    counts = np.array([[8, 2, 0], [2, 6, 2], [0, 4, 6]])
    tokens = np.array([100.0, 100.0, 200.0])
    out = relations(counts, tokens, ["a", "b", "c"], [10, 10, 10])
    assert np.allclose(out.share.sum(axis=1), 1)
    assert np.isclose(out.lift[0, 0], 0.8 / 0.25) and np.isclose(out.lift[2, 2], 0.6 / 0.5)
    assert np.allclose(out.affinity, out.affinity.T)
    # affinity b-c 1.0 > a-b 0.8 > a-c 0: b and c merge first at 1/(1+1) = 0.5, then a joins at the
    # average of 1/(1+0.8) and 1/(1+0) = 0.7778
    assert [(m.left, m.right) for m in out.merges] == [(["b"], ["c"]), (["a"], ["b", "c"])]
    assert np.isclose(out.merges[0].distance, 0.5) and np.isclose(out.merges[1].distance, 7 / 9)
    assert out.order == ["a", "b", "c"]


def test_block_structure_is_recovered() -> None:
    # two families {a, b} and {c, d}: neighbors stay within the family
    counts = np.array([[5, 5, 0, 0], [5, 5, 0, 0], [0, 0, 5, 5], [0, 0, 5, 5]]) + np.eye(4, dtype=int)
    out = relations(counts, np.ones(4), ["a", "b", "c", "d"], [10] * 4)
    first_two = [sorted(m.left + m.right) for m in out.merges[:2]]
    assert sorted(first_two) == [["a", "b"], ["c", "d"]]


def test_sampling_is_deterministic_per_seed_and_capped() -> None:
    ids = np.arange(8)
    one = sample_per_label(ids, CODES, [0, 1, 2], 1, seed=3)
    assert [len(x) for x in one] == [1, 1, 1]
    assert all(
        (a == b).all() for a, b in zip(one, sample_per_label(ids, CODES, [0, 1, 2], 1, seed=3), strict=True)
    )
    assert [x.tolist() for x in sample_per_label(ids, CODES, [0], 5, seed=0)] == [[0, 1]]
