"""CSLS and dictionary precision on a tiny matrix whose answers are known by hand."""

import numpy as np
import pytest

from geometry.translation import evaluate, neighborhood_means, parse_dictionary, translate
from tests.unit.test_neighbors import make_space

# Source words 0, 1 and their translations 2, 3; token 4 is a hub close to everything.
HUB_MATRIX = np.array(
    [
        [1.0, 0.0, 0.0],  # 0 "dog"
        [0.0, 1.0, 0.0],  # 1 "cat"
        [0.8, 0.0, 0.6],  # 2 "Hund"  cos(0, 2) = 0.8
        [0.0, 0.8, 0.6],  # 3 "Katze" cos(1, 3) = 0.8
        [0.6, 0.6, 0.53],  # 4 hub: cos(0, 4) = 0.6 / |hub| ~ 0.61; close to everything
    ]
)


def test_neighborhood_means_by_hand() -> None:
    space = make_space(HUB_MATRIX, with_index=False)
    r = neighborhood_means(space, k=1)
    unit = space.unit(np.arange(5))
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    np.testing.assert_allclose(r, sims.max(axis=1), rtol=1e-6)


def test_csls_demotes_the_hub() -> None:
    # The hub is now the cosine-nearest target of "dog" (0.85 > 0.8), and it sits in a crowd (rows
    # 5 and 6 almost equal to it), so its neighborhood mean r is high and CSLS discounts it.
    matrix = np.vstack([HUB_MATRIX, [[0.85, 0.5, 0.17], [0.85, 0.52, 0.17], [0.86, 0.5, 0.16]]])
    matrix[4] = [0.85, 0.5, 0.17]
    space = make_space(matrix, with_index=False)
    r = neighborhood_means(space, k=2)
    unit = space.unit(np.arange(5))
    targets = np.zeros(len(matrix), dtype=bool)
    targets[[2, 3, 4]] = True
    cosine = translate(space, unit[0], 1, targets, "cosine", r, token=0)
    csls = translate(space, unit[0], 1, targets, "csls", r, token=0)
    assert cosine.ids.tolist() == [4]  # cosine: the hub
    assert csls.ids.tolist() == [2]  # CSLS: the translation
    expected = 2 * (unit[0] @ unit[2]) - r[0] - r[2]
    assert csls.csls is not None and abs(float(csls.csls[0]) - expected) < 1e-5


def test_precision_at_k() -> None:
    space = make_space(HUB_MATRIX, with_index=False)
    r = neighborhood_means(space, k=1)
    result = evaluate(space, np.array([0, 1]), [{2}, {3}], np.array([2, 3, 4]), r)
    assert result.precision["cosine"]["p@1"] == 1.0
    assert result.ranks["cosine"][0][0] == 2
    result = evaluate(space, np.array([0, 1]), [{3}, {3}], np.array([2, 3, 4]), r)
    assert result.precision["cosine"]["p@1"] == 0.5  # "dog" -> "Katze" is wrong at 1
    assert result.precision["cosine"]["p@5"] == 1.0  # but within 3 candidates


def test_parse_dictionary() -> None:
    assert parse_dictionary("# en-de\ndog Hund\n\ncat\tKatze de\nrun laufen de verb\n", 10) == [
        ("dog", "Hund", None, None),
        ("cat", "Katze", "de", None),
        ("run", "laufen", "de", "verb"),
    ]
    with pytest.raises(ValueError, match="got 5 fields"):
        parse_dictionary("run laufen de verb extra\n", 10)


def test_evaluation_in_blocks_equals_the_dense_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Targets and sources in small blocks (running top-10 merged): the dense computation's lists."""
    from geometry import translation

    rng = np.random.default_rng(5)
    space = make_space(rng.standard_normal((300, 6)), table_k=10, with_index=False)
    r = neighborhood_means(space)
    sources = np.arange(0, 40)
    allowed = np.arange(20, 300, 2)
    gold = [{int(allowed[i % len(allowed)])} for i in range(len(sources))]
    unit = space.unit(np.arange(300))
    cosine = unit[sources] @ unit[allowed].T
    cosine[sources[:, None] == allowed[None, :]] = -np.inf
    dense = {"cosine": cosine, "csls": 2 * cosine - r[sources][:, None] - r[allowed][None, :]}
    expected = {
        m: [allowed[np.lexsort((allowed, -row))[:10]].tolist() for row in v] for m, v in dense.items()
    }
    monkeypatch.setattr(translation, "TARGET_BLOCK", 7)
    monkeypatch.setattr(translation, "EVAL_BLOCK", 5)
    result = evaluate(space, sources, gold, allowed, r)
    assert result.ranks == expected


def test_a_composed_query_ranks_like_the_token_with_its_vector() -> None:
    """A -1 source with a given vector and r equals the token source of that vector (except that a
    composed query may return the token itself: it is no token)."""
    from geometry.translation import Composed

    rng = np.random.default_rng(7)
    space = make_space(rng.standard_normal((200, 6)), table_k=10, with_index=False)
    r = neighborhood_means(space)
    allowed = np.arange(50, 200)
    gold = [{60}, {70}, {80}]
    as_tokens = evaluate(space, np.array([3, 4, 5]), gold, allowed, r)
    composed = Composed(space.unit(np.array([4])), r[[4]])
    mixed = evaluate(space, np.array([3, -1, 5]), gold, allowed, r, composed)
    assert mixed.ranks == as_tokens.ranks and mixed.precision == as_tokens.precision
    own = Composed(space.unit(np.array([60])), r[[60]])
    found = evaluate(space, np.array([-1]), [{60}], allowed, r, own)
    assert found.ranks["cosine"][0][0] == 60 and found.precision["cosine"]["p@1"] == 1.0
    means = Composed.of(space, space.unit(np.array([4])))
    assert space.knn_sims is not None  # a free vector's 10 nearest include token 4 itself (cosine 1)
    expected = (1.0 + float(np.sum(space.knn_sims[4, :9]))) / 10
    assert abs(float(means.r[0]) - expected) < 1e-5
