"""The exact neighbor table's kernel on a real artifact, one run: the first ROWS indexed rows taken
as the whole table, built by the kernel before this one (row blocks of full score rows into reused
buffers, top-k by geometry.topk; both cores on the product) and by loaders/build/table_kernel.py (each pair
once, selection fused; 1 and 2 threads), with the answers compared and the ratios printed.

Usage: python bench/neighbor_table.py [artifacts/NAME] [--rows 65536]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geometry.topk import top_k_rows  # noqa: E402
from loaders import artifact  # noqa: E402
from loaders.build.index import unit_rows  # noqa: E402
from loaders.build.table_kernel import symmetric_table  # noqa: E402

K = 100


def full_rows(unit: np.ndarray, k: int = K, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The kernel before: every row's full score row, a 1,024-row block at a time."""
    n = len(unit)
    buffer = np.empty((block, n), dtype=np.float32)
    mask = np.empty(buffer.shape, dtype=bool)
    ids = np.empty((n, k), dtype=np.int32)
    sims = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        scores = buffer[: hi - lo]
        np.matmul(unit[lo:hi], unit.T, out=scores)
        scores[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf
        ids[lo:hi], sims[lo:hi] = top_k_rows(scores, k, mask)
    return ids, sims


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("artifact", nargs="?", default=str(ROOT / "artifacts" / "multilingual-e5-small"))
    cli.add_argument("--rows", type=int, default=65536)
    args = cli.parse_args()
    directory = Path(args.artifact)
    manifest = artifact.read_manifest(directory)
    norms = np.load(directory / artifact.NORMS)
    keys = np.flatnonzero(norms > 0)[: args.rows]
    unit = unit_rows(np.load(directory / artifact.MATRIX, mmap_mode="r"), norms, keys)
    n, dim = unit.shape
    pairs = float(n) * n * dim
    print(f"{manifest.name}: the first {n:,} indexed rows x {dim} as the whole table, top-{K}")
    print("| kernel | seconds | GFLOPS-equivalent (2 n^2 d / s) | vs before | same answer |")
    print("| --- | --- | --- | --- | --- |")
    began = time.perf_counter()
    want_ids, want_sims = full_rows(unit)
    before = time.perf_counter() - began
    print(
        f"| before: full score rows, 1,024-row blocks | {before:.1f} | {2 * pairs / before / 1e9:.0f}"
        " | 1.00x | - |"
    )
    for threads in (1, 2):
        began = time.perf_counter()
        ids, sims = symmetric_table(unit.__getitem__, n, K, threads=threads)
        took = time.perf_counter() - began
        same = f"ids {np.mean(ids == want_ids):.6f}, max |sim diff| {np.abs(sims - want_sims).max():.1e}"
        print(
            f"| symmetric, selection fused, {threads} thread{'s' if threads > 1 else ''} | {took:.1f}"
            f" | {2 * pairs / took / 1e9:.0f} | {before / took:.2f}x | {same} |"
        )


if __name__ == "__main__":
    main()
