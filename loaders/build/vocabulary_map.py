"""The build's vocabulary-map stage: layout.npy from the stored rows and the neighbor table.

The map depends only on the rows, the table and its own parameters, so a rebuild (new labels, a new
loader version) links it from an earlier artifact where all of those are the same, as the index and
table are linked (loaders/build/pipeline.py), instead of spending UMAP's minutes again.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from geometry.layout import METHODS, N_NEIGHBORS, layout
from loaders import artifact

CHOICES = (*METHODS, "none")
# What the map is computed from: an earlier artifact whose files hash the same made the same map.
INPUTS = (artifact.MATRIX, artifact.NORMS, artifact.KNN_IDS, artifact.KNN_SIMS)


def _donor_layout(
    donors: list[Path], hashes: dict[str, str], rows: int, method: str, seed: int, epochs: int
) -> tuple[Path, artifact.LayoutInfo] | None:
    for donor in donors:
        try:
            raw = msgspec.json.decode((donor / artifact.MANIFEST).read_bytes(), type=dict[str, Any])
            info = msgspec.convert(raw.get("layout"), artifact.LayoutInfo | None)
            same = all(raw["files"][name]["sha256"] == sha for name, sha in hashes.items())
            present = artifact.LAYOUT in raw["files"] and (donor / artifact.LAYOUT).is_file()
            present = present and np.load(donor / artifact.LAYOUT, mmap_mode="r").shape == (rows, 2)
        except (OSError, KeyError, TypeError, ValueError, msgspec.DecodeError, msgspec.ValidationError):
            continue
        asked = (method, seed, epochs)
        if info is not None and same and present and (info.method, info.seed, info.epochs) == asked:
            return donor, info
    return None


# From this many placed tokens the layout runs in a child process, beside the index build: seeded
# UMAP is single-threaded, so it would otherwise leave a core idle for minutes (and umap-learn and
# numba stay loaded in the build process after it). Smaller maps take seconds in the process.
CHILD_FROM = 20_000


def compute_layout(
    directory: Path, keys: np.ndarray, method: str, seed: int, epochs: int
) -> artifact.LayoutInfo:
    """layout.npy in an artifact being written, from its stored matrix, norms and table."""
    started = time.perf_counter()
    path = directory / artifact.MATRIX
    rows = np.load(path, mmap_mode="r")
    norms = np.load(directory / artifact.NORMS)
    table = None
    if (directory / artifact.KNN_IDS).is_file():
        table = (
            np.load(directory / artifact.KNN_IDS, mmap_mode="r"),
            np.load(directory / artifact.KNN_SIMS, mmap_mode="r"),
        )
    positions, used, k = layout(
        method, rows, norms, keys.astype(np.int64), table, seed, N_NEIGHBORS, epochs or None
    )
    np.save(directory / artifact.LAYOUT, positions, allow_pickle=False)
    return artifact.LayoutInfo(
        method=used,
        seed=seed,
        n_neighbors=k,
        epochs=epochs,
        placed=len(keys),
        seconds=round(time.perf_counter() - started, 1),
    )


class LayoutRun:
    """The map stage, started once the neighbor table is written and collected before the manifest:
    linked from an earlier artifact with the same inputs, else computed (in a child process for
    large maps, so that it overlaps the index build and lexicon)."""

    def __init__(
        self,
        writer: artifact.ArtifactWriter,
        keys: np.ndarray,
        method: str,
        seed: int,
        epochs: int,
        donors: list[Path],
        link: Callable[[Path, Path], None],
        child_from: int | None = None,
    ) -> None:
        self.writer, self.keys, self.method, self.seed, self.epochs = writer, keys, method, seed, epochs
        self.donors, self.link = donors, link
        self.child_from = CHILD_FROM if child_from is None else child_from
        self.info: artifact.LayoutInfo | None = None
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future[artifact.LayoutInfo] | None = None

    def start(self) -> None:
        writer = self.writer
        if self.method == "none" or len(self.keys) == 0:
            return
        rows = int(np.load(writer.path(artifact.NORMS), mmap_mode="r").shape[0])
        hashes = {n: writer.sha256(n) for n in INPUTS if writer.path(n).is_file()}
        reuse = _donor_layout(self.donors, hashes, rows, self.method, self.seed, self.epochs)
        if reuse is not None:
            self.link(reuse[0] / artifact.LAYOUT, writer.path(artifact.LAYOUT))
            self.info = reuse[1]
            return
        args = (writer.dir, self.keys, self.method, self.seed, self.epochs)
        if len(self.keys) < self.child_from:
            self.info = compute_layout(*args)
            return
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self.future = self.pool.submit(compute_layout, *args)

    def result(self) -> artifact.LayoutInfo | None:
        """The map's info (None for none); waits for the child and re-raises its error."""
        if self.future is not None:
            assert self.pool is not None
            try:
                self.info = self.future.result()
            finally:
                self.pool.shutdown()
                self.future, self.pool = None, None
        return self.info

    def cancel(self) -> None:
        """Stop a running child (the build failed elsewhere)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
            self.pool = None
