"""The vocabulary map per packaged model, one run: the layout's build time (PCA alone, and UMAP over
the artifact's neighbor table started from that PCA, seed 0: what `loaders build` does) and the
size of what the explorer fetches (the float16 positions and the script codes, raw and gzipped)
against the same content as a JSON array of objects, and the Parquet export's size.

Usage: python bench/map_layout.py [artifacts/NAME ...]   (default: the three packaged models)
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geometry.layout import N_NEIGHBORS, knn_graph, pca_coordinates, umap_coordinates  # noqa: E402
from service.analyses import export, maps  # noqa: E402
from service.registry import load_model  # noqa: E402

PACKAGED = ("multilingual-e5-small", "use-multilingual-v3", "llama2-vocab-wordllama")


def main(paths: list[Path]) -> None:
    print(
        "model | tokens placed | PCA s | UMAP s | xy + scripts raw | gzipped | as JSON | JSON / raw | Parquet"
    )
    for path in paths:
        model = load_model(path, verify_checksums=False)
        space = model.space
        rows = space.indexed
        started = time.perf_counter()
        start = pca_coordinates(space.matrix, space.norms, rows)
        pca_s = time.perf_counter() - started
        assert space.knn_ids is not None and space.knn_sims is not None
        k = min(N_NEIGHBORS, space.knn_ids.shape[1] + 1)
        started = time.perf_counter()
        umap_coordinates(knn_graph(space.knn_ids, space.knn_sims, rows, k), start, seed=0)
        umap_s = time.perf_counter() - started
        raw = maps.column_bytes(model, "xy") + maps.column_bytes(model, "unicode")
        zipped = len(gzip.compress(maps.column_bytes(model, "xy"), 6)) + len(
            gzip.compress(maps.column_bytes(model, "unicode"), 6)
        )
        xy = np.asarray(model.layout, dtype=np.float32)
        names = model.labels["unicode"].names
        codes = model.labels["unicode"].codes
        as_json = json.dumps(
            [
                {
                    "id": int(i),
                    "x": round(float(xy[i, 0]), 4),
                    "y": round(float(xy[i, 1]), 4),
                    "script": names[codes[i]],
                }
                for i in rows
            ],
            separators=(",", ":"),
        ).encode()
        parquet = len(export.parquet(model))
        print(
            f"{model.name} | {len(rows):,} | {pca_s:.1f} | {umap_s:.1f} | {len(raw) / 1e6:.2f} MB |"
            f" {zipped / 1e6:.2f} MB | {len(as_json) / 1e6:.1f} MB | {len(as_json) / len(raw):.1f}x |"
            f" {parquet / 1e6:.2f} MB",
            flush=True,
        )


if __name__ == "__main__":
    given = [Path(p) for p in sys.argv[1:]] or [ROOT / "artifacts" / name for name in PACKAGED]
    main(given)
