"""Vocabulary-health indicators on hand-built matrices with known answers."""

import numpy as np

from geometry.table_statistics import (
    Transformed,
    isoscore,
    mean_pair_cosine,
    moments,
    rogue_dimensions,
    row_norms,
    untrained_indicator,
)


def _planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """300 trained rows, 6 known-unused rows near one small vector, 4 planted untrained rows near it."""
    rng = np.random.default_rng(seed)
    trained = rng.standard_normal((300, 16)).astype(np.float32) * 3.0
    untrained_centre = rng.standard_normal(16).astype(np.float32) * 0.1
    unused = untrained_centre + rng.standard_normal((6, 16)).astype(np.float32) * 0.01
    planted = untrained_centre + rng.standard_normal((4, 16)).astype(np.float32) * 0.01
    matrix = np.concatenate([trained, unused, planted])
    return matrix, np.arange(300, 306), np.arange(306, 310)


def test_planted_untrained_rows_rank_first_by_both_indicators() -> None:
    matrix, reference, planted = _planted()
    rows = np.concatenate([np.arange(300), planted])  # the reference rows are not candidates
    first_pc = moments(matrix, np.arange(len(matrix))).components[0]
    indicator = untrained_indicator(matrix, rows, reference, first_pc)
    top = rows[np.argsort(-indicator)[:4]]
    assert sorted(top.tolist()) == planted.tolist()
    norms = row_norms(matrix, rows)
    assert sorted(rows[np.argsort(norms)[:4]].tolist()) == planted.tolist()


def test_isoscore_of_isotropic_and_one_direction() -> None:
    rng = np.random.default_rng(1)
    iso = rng.standard_normal((20_000, 8)).astype(np.float32)
    assert isoscore(moments(iso, np.arange(len(iso))).eigenvalues) > 0.99
    line = np.outer(rng.standard_normal(20_000), np.ones(8)).astype(np.float32)
    assert isoscore(moments(line, np.arange(len(line))).eigenvalues) < 0.01
    assert isoscore(np.array([1.0, 1.0, 1.0, 1.0])) == 1.0 and isoscore(np.array([1.0, 0, 0, 0])) == 0.0


def test_rogue_dimension_and_mean_cosine_of_a_shifted_cloud() -> None:
    rng = np.random.default_rng(2)
    cloud = rng.standard_normal((5_000, 10)).astype(np.float32)
    cloud[:, 3] += 6.0  # every row shares a large component in dimension 3
    share, expected = rogue_dimensions(cloud, np.arange(len(cloud)))
    assert int(np.argmax(share)) == 3 and share[3] > 0.95
    measured = mean_pair_cosine(cloud, np.arange(len(cloud)), 20_000, seed=0)
    assert abs(measured - expected) < 0.02 and measured > 0.6
    centred = Transformed(cloud, moments(cloud, np.arange(len(cloud))).mean, np.empty((0, 10)))
    assert abs(mean_pair_cosine(centred, np.arange(len(cloud)), 20_000, seed=0)) < 0.02


def test_an_unreachable_piece_of_a_test_tokenizer() -> None:
    """'▁ab' exists but the Viterbi search prefers '▁a' + 'b' (-1 + -1 beats -3): never produced."""
    from loaders.artifact import TOKEN_KINDS, UnigramSegmenter, UnigramTable
    from loaders.build.reachability import NOT_CHECKED, REACHABLE, UNREACHABLE, reachability

    pieces = ["<unk>", "▁ab", "▁a", "b", "▁b", "<0x41>"]
    segmenter = UnigramSegmenter(UnigramTable(0, [0.0, -3.0, -1.0, -1.0, -1.0, -9.0], {}), pieces)
    kinds = np.array(
        [
            TOKEN_KINDS.index(k)
            for k in ("special", "word-initial", "word-initial", "continuation", "word-initial", "byte")
        ],
        dtype=np.uint8,
    )
    checked = reachability(segmenter, pieces, pieces, kinds, "byte-fallback-bpe")
    assert checked.tolist() == [NOT_CHECKED, UNREACHABLE, REACHABLE, NOT_CHECKED, REACHABLE, UNREACHABLE]
