"""The neighbor table's methods against brute force on small seeded matrices with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loaders.build import rows as rows_module
from loaders.build.index import unit_rows
from loaders.build.neighbor_table import UnitRows, brute_force, choose, exact_table, hnsw_table, recall_at_k
from loaders.build.rows import MappedRows
from tests.checkpoints import write_safetensors


def clustered(n: int = 3000, dim: int = 24, clusters: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return (centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, dim))).astype(np.float32)


def truth(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = unit @ unit.T
    np.fill_diagonal(scores, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def assert_exact(unit: np.ndarray, ids: np.ndarray, sims: np.ndarray, k: int) -> None:
    """ids/sims are the brute-force top-k, up to the order of scores equal within float error."""
    want_ids, want_sims = truth(unit, k)
    np.testing.assert_allclose(sims, want_sims, atol=1e-6)
    rows = np.arange(len(unit))[:, None]
    np.testing.assert_allclose((unit[rows] * unit[ids]).sum(axis=-1), want_sims, atol=1e-6)
    assert (ids == want_ids).mean() > 0.99  # and only a handful of near-ties swapped


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = clustered()
    norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
    keys = np.arange(len(matrix), dtype=np.uint64)
    return matrix, norms, keys


def test_exact_table_is_brute_force(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    matrix, norms, keys = data
    unit = unit_rows(matrix, norms)
    table = exact_table(unit, keys, 10, block=256, device="")
    ids, sims = truth(unit, 10)
    np.testing.assert_allclose(table.sims, sims, atol=1e-6)
    # the same ids, but where two candidates' cosines tie within float error (the order of such a
    # pair follows the BLAS kernel's rounding: numpy 2.4.6's OpenBLAS swaps 2 of 30,000 here)
    rows, cols = np.nonzero(table.ids != ids)
    scores = (unit[rows] * unit[table.ids[rows, cols]]).sum(axis=1)
    np.testing.assert_allclose(scores, sims[rows, cols], atol=1e-6)
    assert sorted(map(tuple, np.sort(table.ids, axis=1)[rows].tolist())) == sorted(
        map(tuple, np.sort(ids, axis=1)[rows].tolist())
    )  # a swap within the top k, nothing else found
    assert (table.method, table.backend, table.recall) == ("exact", "numpy", 1.0)


def test_worker_threads_and_streamed_rows_agree(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    matrix, norms, keys = data
    unit = unit_rows(matrix, norms)
    one = exact_table(unit, keys, 10, block=256, device="")
    two = exact_table(lambda at: unit[at], keys, 10, block=256, device="", workers=2)
    np.testing.assert_array_equal(two.ids, one.ids)
    np.testing.assert_array_equal(two.sims, one.sims)
    assert two.workers == 2


def test_torch_on_cpu_agrees_with_numpy(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    pytest.importorskip("torch")
    matrix, norms, keys = data
    unit = unit_rows(matrix, norms)
    table = exact_table(unit, keys + 5, 10, block=256, device="cpu")
    assert_exact(unit, table.ids - 5, table.sims, 10)  # token ids, not row positions
    assert table.backend == "torch:cpu"


def _index(
    unit: np.ndarray, keys: np.ndarray, connectivity: int = 16, expansion: int = 128, dtype: str = "f32"
) -> object:
    from usearch.index import Index

    index = Index(
        ndim=unit.shape[1], metric="cos", dtype=dtype, connectivity=connectivity, expansion_add=expansion
    )
    index.add(keys, unit, threads=1)  # one thread: the same graph every run
    index.expansion_search = expansion
    return index


def test_hnsw_with_every_row_a_candidate_is_exact(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    matrix, norms, keys = data
    unit = unit_rows(matrix, norms)
    table = hnsw_table(
        _index(unit, keys), UnitRows(matrix, norms), keys, 10, candidates=len(keys), sample=200
    )
    assert_exact(unit, table.ids, table.sims, 10)
    assert (table.method, table.recall, table.sample, table.candidates) == ("hnsw", 1.0, 200, len(keys))


def test_an_i8_index_has_its_candidates_re_ranked_over_the_stored_rows(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    matrix, norms, keys = data
    unit = unit_rows(matrix, norms)
    index = _index(unit, keys, dtype="i8")
    table = hnsw_table(index, UnitRows(matrix, norms), keys, 10, candidates=len(keys), sample=200)
    assert_exact(unit, table.ids, table.sims, 10)  # quantised distances would not give exact sims
    assert table.recall == 1.0


def test_hnsw_recall_is_measured_against_brute_force(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    matrix, norms, keys = data
    unit = unit_rows(matrix, norms)
    table = hnsw_table(
        _index(unit, keys, 2, 8), UnitRows(matrix, norms), keys, 50, candidates=60, sample=3000
    )
    ids, _ = truth(unit, 50)
    assert table.candidates == 60 and table.sample == 3000
    assert table.recall == pytest.approx(recall_at_k(table.ids, ids))  # the whole table is the sample
    assert table.recall < 1.0  # a starved graph misses neighbors, and the recall says so
    found = table.sims[np.isfinite(table.sims)]
    assert np.all(np.diff(table.sims, axis=1)[np.isfinite(table.sims[:, 1:])] <= 0) and found.size


def test_brute_force_streams_column_chunks(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    matrix, norms, keys = data
    queries = np.array([0, 7, 2999])
    got = brute_force(UnitRows(matrix, norms), queries, keys, 10, chunk=128)
    np.testing.assert_array_equal(got, truth(unit_rows(matrix, norms), 10)[0][queries])


def test_recall_at_k_known_answers() -> None:
    assert recall_at_k(np.array([[1, 2, 3], [4, 5, 6]]), np.array([[3, 2, 9], [7, 8, 9]])) == pytest.approx(
        1 / 3
    )


def test_auto_is_exact_up_to_a_256k_x_4096_table_and_hnsw_beyond() -> None:
    assert choose("auto", 250_037, 384) == "exact"  # e5
    assert choose("auto", 256_000, 4096) == "exact"  # the symmetric kernel: ~20 min on 2 cores
    assert choose("auto", 250_880, 14_336) == "hnsw"  # BLOOM
    assert choose("exact", 256_000, 4096) == "exact"


def test_mapped_rows_read_bf16_and_release_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = clustered(500, 16)
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"bias": np.zeros(3, np.float32), "emb": matrix}, bf16=["emb"])
    from loaders.build.sources.safetensors_lazy import load_tensor

    monkeypatch.setattr(rows_module, "RELEASE_EVERY", 100)  # release after (almost) every read
    mapped, dtype = load_tensor(path, "emb")
    assert isinstance(mapped, MappedRows) and dtype == "bf16" and mapped.shape == (500, 16)
    expected = ((matrix.view(np.uint32) >> 16) << 16).view(np.float32)  # bf16 truncation
    for _ in range(2):  # a second pass after the pages were released reads the same values
        np.testing.assert_array_equal(
            np.concatenate([mapped[lo : lo + 64] for lo in range(0, 500, 64)]), expected
        )
    np.testing.assert_array_equal(mapped[[3, 1]], expected[[3, 1]])
    np.testing.assert_array_equal(np.asarray(mapped), expected)


def test_scattered_rows_gather_the_same_values(tmp_path: Path) -> None:
    matrix = clustered(300, 8).astype(np.float16)
    np.save(tmp_path / "m.npy", matrix)
    ids = np.array([[5, 299], [0, 5]])
    for scattered in (False, True):  # pages dropped after every read when scattered
        rows = MappedRows.npy(tmp_path / "m.npy", scattered=scattered)
        for _ in range(2):
            np.testing.assert_array_equal(rows[ids], matrix[ids].astype(np.float32))
