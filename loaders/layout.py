"""The build's vocabulary-map stage: layout.npy from the stored rows and the neighbour table.

The map depends only on the rows, the table and its own parameters, so a rebuild (new labels, a new
loader version) links it from an earlier artifact where all of those are the same, as the index and
table are linked (loaders/build.py), instead of spending UMAP's minutes again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


def write_layout(
    writer: artifact.ArtifactWriter,
    rows: Any,
    norms: np.ndarray,
    keys: np.ndarray,
    method: str,
    seed: int,
    epochs: int,
    donors: list[Path],
    link: Callable[[Path, Path], None],
    progress: Callable[[int, int], None] | None = None,
) -> artifact.LayoutInfo | None:
    """layout.npy by `method` (umap | pca | none) over the indexed `keys`; None for none."""
    if method == "none" or len(keys) == 0:
        return None
    has_table = writer.path(artifact.KNN_IDS).is_file()
    hashes = {n: writer.sha256(n) for n in INPUTS if writer.path(n).is_file()}
    reuse = _donor_layout(donors, hashes, len(norms), method, seed, epochs)
    if reuse is not None:
        link(reuse[0] / artifact.LAYOUT, writer.path(artifact.LAYOUT))
        return reuse[1]
    started = time.perf_counter()
    table = None
    if has_table:
        table = (
            np.load(writer.path(artifact.KNN_IDS), mmap_mode="r"),
            np.load(writer.path(artifact.KNN_SIMS), mmap_mode="r"),
        )
    positions, used, k = layout(
        method, rows, norms, keys.astype(np.int64), table, seed, N_NEIGHBORS, epochs or None, progress
    )
    writer.save_array(artifact.LAYOUT, positions)
    return artifact.LayoutInfo(
        method=used,
        seed=seed,
        n_neighbors=k,
        epochs=epochs,
        placed=len(keys),
        seconds=round(time.perf_counter() - started, 1),
    )
