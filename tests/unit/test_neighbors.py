"""Neighbor search on tiny matrices with answers known by hand, and against brute force."""

import numpy as np
import pytest
from usearch.index import Index

from geometry.neighbors import Space, exact_search, normalize, search, search_many
from loaders.build.index import knn_table


def make_space(matrix: np.ndarray, table_k: int = 0, with_index: bool = True) -> Space:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
    indexed = np.flatnonzero(norms > 0)
    unit = matrix[indexed] / norms[indexed, None]
    index = None
    if with_index:
        index = Index(ndim=matrix.shape[1], metric="cos", dtype="f32", connectivity=8)
        index.add(indexed.astype(np.uint64), unit)
    knn_ids = knn_sims = None
    if table_k:
        ids, sims = knn_table(unit, indexed.astype(np.uint64), table_k)
        knn_ids = np.full((len(matrix), ids.shape[1]), -1, np.int32)
        knn_sims = np.full((len(matrix), ids.shape[1]), np.nan, np.float32)
        knn_ids[indexed], knn_sims[indexed] = ids, sims
    return Space(matrix, norms, index, knn_ids, knn_sims, indexed)


def as_mask(space: Space, allowed: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(space.norms), dtype=bool)
    mask[allowed] = True
    return mask & (space.norms > 0)


# Unit vectors at 0, 10, 30, 60, 90 and 180 degrees, plus a zero row (never returned).
ANGLES = [0, 10, 30, 60, 90, 180]
CIRCLE = np.array([[np.cos(np.radians(a)), np.sin(np.radians(a))] for a in ANGLES] + [[0, 0]])


@pytest.mark.parametrize("table_k", [0, 3])
@pytest.mark.parametrize("exact", [False, True])
def test_neighbors_on_a_circle(table_k: int, exact: bool) -> None:
    space = make_space(CIRCLE, table_k=table_k)
    hits = search(space, space.unit(np.array([0]))[0], 3, token=0, exact=exact)
    assert hits.ids.tolist() == [1, 2, 3]  # 10, 30, 60 degrees away; the query itself excluded
    np.testing.assert_allclose(hits.sims, np.cos(np.radians([10, 30, 60])), rtol=1e-5)


def test_table_answers_token_queries_and_filters_fall_back_to_search() -> None:
    space = make_space(CIRCLE, table_k=2)
    assert search(space, space.unit(np.array([0]))[0], 2, token=0).method == "table"
    allowed = np.array([4, 5])  # neither is among the two nearest: the table cannot answer
    hits = search(space, space.unit(np.array([0]))[0], 2, token=0, mask=as_mask(space, allowed))
    assert hits.ids.tolist() == [4, 5] and hits.method == "exact"


def test_zero_rows_are_never_returned() -> None:
    space = make_space(CIRCLE)
    hits = search(space, normalize(np.array([1.0, 0.0])), 10, exact=True)
    assert 6 not in hits.ids.tolist() and len(hits.ids) == 6


def test_ann_matches_brute_force_on_random_data() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((3000, 16)).astype(np.float32)
    space = make_space(matrix, table_k=20)
    recall = []
    for row in rng.choice(3000, 50, replace=False):
        query = normalize(matrix[row] + 0.3 * rng.standard_normal(16))
        ann = search(space, query, 10, approximate=True)
        truth = exact_search(space, query, 10, None)
        assert ann.method == "ann" and search(space, query, 10).method == "exact"
        recall.append(len(set(ann.ids.tolist()) & set(truth.ids.tolist())) / 10)
    assert np.mean(recall) >= 0.99


def test_selective_filter_still_returns_k() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((3000, 8)).astype(np.float32)
    space = make_space(matrix, table_k=5)
    allowed = np.arange(0, 3000, 300)  # 10 rows
    hits = search(space, normalize(matrix[1]), 10, token=1, mask=as_mask(space, allowed))
    assert sorted(hits.ids.tolist()) == allowed.tolist()


def test_a_wide_filter_is_answered_exactly() -> None:
    """Half the rows allowed (too many for the table, the old HNSW over-fetch missed some): exact."""
    rng = np.random.default_rng(2)
    matrix = rng.standard_normal((3000, 16)).astype(np.float32)
    space = make_space(matrix, table_k=5)
    allowed = np.arange(1, 3000, 2)
    for row in rng.choice(np.arange(0, 3000, 2), 20, replace=False):
        hits = search(space, space.unit(np.array([row]))[0], 50, token=int(row), mask=as_mask(space, allowed))
        truth = exact_search(space, space.unit(np.array([row]))[0], 50, allowed)
        assert hits.ids.tolist() == truth.ids.tolist() and hits.method == "exact"


def test_a_batch_answers_like_single_searches() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((2000, 16)).astype(np.float32)
    space = make_space(matrix, table_k=10)
    rows = [5, 17, 99]
    queries = np.stack(
        [space.unit(np.array([5]))[0], normalize(rng.standard_normal(16)), space.unit(np.array([99]))[0]]
    )
    tokens: list[int | None] = [5, None, 99]
    batch = search_many(space, queries, 8, tokens=tokens, approximate=True)
    for query, token, hits in zip(queries, tokens, batch, strict=True):
        single = search(space, query, 8, token=token, approximate=True)
        assert hits.ids.tolist() == single.ids.tolist() and hits.method == single.method
    assert [h.method for h in batch] == ["table", "ann", "table"] and len(rows) == 3


def test_brute_force_on_float16_rows_equals_numpy_over_several_chunks() -> None:
    """The SIMD scan runs on the stored float16 rows; re-scoring makes it numpy's exact answer."""
    rng = np.random.default_rng(7)
    stored = rng.standard_normal((40_000, 24)).astype(np.float16)  # > 2 chunks of 16,384
    stored[123] = 0  # a zero row is never returned
    norms = np.linalg.norm(stored.astype(np.float32), axis=1).astype(np.float32)
    indexed = np.flatnonzero(norms > 0)
    space = Space(stored, norms, None, None, None, indexed)
    unit = stored.astype(np.float32) / np.where(norms > 0, norms, np.inf)[:, None]
    for row in rng.choice(indexed, 20, replace=False):
        query = normalize(unit[row] + 0.5 * rng.standard_normal(24).astype(np.float32))
        allowed = indexed[indexed % 3 == 0]
        for subset in (None, allowed):
            pool = indexed if subset is None else subset
            sims = unit[pool] @ query
            order = np.lexsort((pool, -sims))[:25]
            hits = exact_search(space, query, 25, subset)
            assert hits.ids.tolist() == pool[order].tolist()
            assert np.allclose(hits.sims, sims[order], atol=1e-6)


def test_blocked_brute_force_for_many_queries_equals_one_scan_each() -> None:
    """A batch of brute-force queries shares blocked products; the answers are each query's scan."""
    rng = np.random.default_rng(4)
    stored = rng.standard_normal((40_000, 12)).astype(np.float16)  # several blocks of 16,384 rows
    stored[77] = 0
    norms = np.linalg.norm(stored.astype(np.float32), axis=1).astype(np.float32)
    indexed = np.flatnonzero(norms > 0)
    space = Space(stored, norms, None, None, None, indexed)
    tokens: list[int | None] = [5, None, 31_000, None, 12]
    queries = np.stack(
        [
            space.unit(np.array([t]))[0] if t is not None else normalize(rng.standard_normal(12))
            for t in tokens
        ]
    )
    mask = (norms > 0) & (np.arange(40_000) % 2 == 1)
    for subset in (None, mask):
        batch = search_many(space, queries, 20, tokens=tokens, mask=subset, exact=True)
        for query, token, hits in zip(queries, tokens, batch, strict=True):
            rows = indexed if subset is None else np.flatnonzero(subset)
            single = exact_search(space, query, 20, rows[rows != token] if token is not None else rows)
            assert hits.ids.tolist() == single.ids.tolist() and np.array_equal(hits.sims, single.sims)
            assert token not in hits.ids.tolist()
