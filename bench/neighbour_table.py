"""The exact neighbour table's kernel on a real artifact, one run: seconds per 1,024-row block and
effective GFLOPS against numpy's bare product on the same shapes, for the kernel before issue 17
(a fresh score matrix per block, 2-D np.nonzero) and now (reused buffers, 1-D flatnonzero; 1 and 2
worker processes), with the whole table's time extrapolated from the rows measured.

Usage: python bench/neighbour_table.py [artifacts/NAME] [--rows 32768]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders import artifact  # noqa: E402
from loaders.index import unit_rows  # noqa: E402
from loaders.neighbour_table import _exact_blocks, _exact_processes  # noqa: E402


def before(unit: np.ndarray, rows: int, k: int = 100, block: int = 1024) -> None:
    """The kernel as it was: a new score matrix per block and a 2-D nonzero over the mask."""
    n = len(unit)
    for lo in range(0, rows, block):
        scores = unit[lo : lo + block] @ unit.T
        step = max(1, n // (64 * k))
        sample = scores[:, ::step]
        rank = min(sample.shape[1] - 1, max(1, (3 * k) // step))
        threshold = -np.partition(-sample, rank, axis=1)[:, rank]
        mask = scores >= threshold[:, None]
        r, c = np.nonzero(mask)
        values = scores[r, c]
        np.lexsort((-values, r))


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("artifact", nargs="?", default=str(ROOT / "artifacts" / "multilingual-e5-small"))
    cli.add_argument("--rows", type=int, default=32768)
    args = cli.parse_args()
    directory = Path(args.artifact)
    manifest = artifact.read_manifest(directory)
    norms = np.load(directory / artifact.NORMS)
    keys = np.flatnonzero(norms > 0).astype(np.uint64)
    unit = unit_rows(np.load(directory / artifact.MATRIX), norms, keys.astype(np.int64))
    n, dim, rows = len(unit), unit.shape[1], args.rows
    flop = 2.0 * rows * n * dim
    out = np.empty((1024, n), dtype=np.float32)
    began = time.perf_counter()
    for lo in range(0, rows, 1024):
        np.matmul(unit[lo : lo + 1024], unit.T, out=out)
    product = time.perf_counter() - began
    print(f"{manifest.name}: {n:,} x {dim}, {rows:,} query rows timed, whole table extrapolated")
    print("| kernel | s per 1,024 rows | GFLOPS | share of the bare product's rate | whole table |")
    print("| --- | --- | --- | --- | --- |")

    def row(name: str, seconds: float) -> None:
        per = seconds * 1024 / rows
        print(
            f"| {name} | {per:.2f} | {flop / seconds / 1e9:.0f} | {product / seconds:.0%}"
            f" | {seconds * n / rows / 60:.1f} min |"
        )

    row("bare product (reused output, no selection)", product)
    began = time.perf_counter()
    before(unit, rows)
    row("before: fresh scores, 2-D nonzero", time.perf_counter() - began)
    began = time.perf_counter()
    _exact_blocks(unit, 0, rows, 100, 1024)
    row("now, 1 process", time.perf_counter() - began)
    with tempfile.TemporaryDirectory() as scratch:  # spawning and loading the processes included
        began = time.perf_counter()
        _exact_processes(unit, 100, 1024, 2, Path(scratch), None, stop=rows)
        row("now, 2 processes (1 BLAS thread each)", time.perf_counter() - began)


if __name__ == "__main__":
    main()
