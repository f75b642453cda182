"""Result shaping on tiny matrices with known answers."""

import numpy as np
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays
from hypothesis.strategies import floats

from geometry.neighbors import Space, exact_search, normalize
from geometry.shaping import (
    above,
    best_scores,
    examples_average,
    examples_best_score,
    grouped,
    mmr,
    mutual,
    page,
    squash,
)
from loaders.build.index import knn_table


def _space(rows: list[list[float]], table_k: int = 3) -> Space:
    matrix = np.array(rows, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1)
    keys = np.arange(len(rows), dtype=np.uint64)
    ids, sims = knn_table(matrix / norms[:, None], keys, table_k)
    return Space(matrix, norms, None, ids.astype(np.int32), sims, np.arange(len(rows)))


# 0 and 1 nearly the same direction, 2 a bit off, 3 nearly orthogonal (leaning to 4), 4 opposite-ish
SPACE = _space([[1.0, 0.0, 0.0], [0.99, 0.1, 0.0], [0.8, 0.6, 0.0], [-0.1, 0.0, 1.0], [-1.0, 0.2, 0.0]])


def test_above_and_paging() -> None:
    scores = np.array([0.9, 0.7, 0.5, 0.2], dtype=np.float32)
    assert above(scores, 0.5).tolist() == [0, 1, 2]
    positions = np.arange(5)
    first, after = page(positions, 0, 2)
    second, after2 = page(positions, 2, 2)
    third, last = page(positions, 4, 2)
    assert first.tolist() + second.tolist() + third.tolist() == positions.tolist()  # no gaps, no repeats
    assert (after, after2, last) == (2, 4, None)


def test_mutual_keeps_candidates_that_rank_the_query_among_their_own_k() -> None:
    query = SPACE.unit(np.array([0]))[0]
    hits = exact_search(SPACE, query, 4, np.arange(1, 5))  # 1, 2, 3, 4 (token 0 excluded)
    assert hits.ids.tolist() == [1, 2, 3, 4]
    # 1's nearest are 0 then 2; 2's are 1 then 0; 3's nearest is 4; 4's is 3
    for token in (None, 0):  # the vector of token 0, or token 0 itself (its table rows)
        kept = mutual(SPACE, query, hits.ids, 1, token)
        assert hits.ids[kept].tolist() == [1]  # only 1 has 0 as its single nearest neighbor
        kept = mutual(SPACE, query, hits.ids, 2, token)
        assert hits.ids[kept].tolist() == [1, 2]


def test_mmr_trades_relevance_for_diversity() -> None:
    query = normalize(np.array([1.0, 0.05, 0.3], dtype=np.float32))
    ids = np.array([0, 1, 2, 3])
    assert ids[mmr(SPACE, query, ids, 3, 1.0)].tolist() == [0, 1, 2]  # lam 1: the plain ranking
    # lam 0.5: after 0, its near-copy 1 is penalised below 3, which shares nothing with 0
    assert ids[mmr(SPACE, query, ids, 3, 0.5)].tolist() == [0, 3, 2]


def test_grouped_takes_the_best_of_each_label_in_order_of_their_best() -> None:
    codes = np.array([5, 5, 7, 5, 9, 7, 9])
    assert [(c, p.tolist()) for c, p in grouped(codes, 2, 3)] == [(5, [0, 1]), (7, [2, 5]), (9, [4, 6])]
    assert [(c, p.tolist()) for c, p in grouped(codes, 1, 2)] == [(5, [0]), (7, [2])]


def test_examples_average_is_3cosadd() -> None:
    king, man, woman = np.eye(3, dtype=np.float32)
    combined = examples_average(np.stack([king, woman]), np.stack([man]))
    np.testing.assert_allclose(combined, normalize(king - man + woman))


def test_best_score_prefers_positives_unless_a_negative_is_closer() -> None:
    positives = SPACE.unit(np.array([0]))
    negatives = SPACE.unit(np.array([3]))
    ids, scores = examples_best_score(SPACE, positives, negatives, 5, np.arange(5))
    # 0, 1 and 2 are closer to the positive 0 than to the negative 3: they score squash(cosine to 0);
    # 4 is closer to 3 (0.098) than to 0 (-0.98): it scores -squash(0.098); 3 itself -squash(1) = -0.75
    expected = [float(SPACE.unit(np.array([i]))[0] @ positives[0]) for i in (0, 1, 2)]
    assert ids.tolist() == [0, 1, 2, 4, 3]
    np.testing.assert_allclose(scores[:3], squash(np.array(expected)), rtol=1e-6)
    np.testing.assert_allclose(scores[3:], [-squash(np.array(0.0976)), -0.75], atol=1e-4)
    assert squash(np.array([-1.0, 0.0, 1.0])).tolist() == [0.25, 0.5, 0.75]


def test_best_score_ranks_a_positive_won_candidate_above_a_negative_won_one() -> None:
    # the case: best positive -0.4 / best negative -0.3 (negative-won) against a candidate
    # won by a positive at +0.2; the old rule scored the first +0.3 and ranked it first
    scores = best_scores(np.array([-0.4, 0.2]), np.array([-0.3, -0.5]))
    assert scores[1] > 0 > scores[0]


@settings(max_examples=300, deadline=None)
@given(
    arrays(np.float64, 12, elements=floats(-1, 1)),
    arrays(np.float64, 12, elements=floats(-1, 1)),
)
def test_best_score_property_every_positive_won_outranks_every_negative_won(
    positive: np.ndarray, negative: np.ndarray
) -> None:
    scores = best_scores(positive, negative)
    won = positive > negative
    if won.any() and (~won).any():
        assert scores[won].min() > scores[~won].max()
    # within each side the order is the cosine's: closer to a positive, or farther from a negative
    for side, key in ((won, positive), (~won, -negative)):
        order = np.argsort(-scores[side], kind="stable")
        assert np.all(np.diff(key[side][order]) <= 1e-12)
