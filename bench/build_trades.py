"""What the first build's two slowest quality knobs would save and cost, one run on a built artifact:
the HNSW index at expansion_add 128 (the default) against 64 (build seconds, recall@10 of 1,000
seeded rows against the artifact's exact table, search time), and the map's UMAP at its 200 default
epochs against 100 and 50 (seconds, share of each point's 15 table neighbors among its 15 nearest on
the map, 2,000 seeded points).

Usage: python bench/build_trades.py [artifacts/NAME]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geometry.layout import knn_graph, pca_coordinates, umap_coordinates  # noqa: E402
from loaders import artifact  # noqa: E402
from loaders.build.index import unit_rows  # noqa: E402


def index_trade(directory: Path, keys: np.ndarray, unit: np.ndarray, table: np.ndarray) -> None:
    from usearch.index import Index

    picked = np.sort(np.random.default_rng(0).choice(len(keys), 1000, replace=False))
    print("| expansion_add | build | recall@10 vs the exact table | search, 1 thread |")
    print("| --- | --- | --- | --- |")
    for expansion in (128, 64):
        index = Index(ndim=unit.shape[1], metric="cos", dtype="f16", connectivity=16, expansion_add=expansion)
        began = time.perf_counter()
        index.add(keys, unit, threads=0)
        built = time.perf_counter() - began
        found = index.search(unit[picked], 11, threads=1)
        others = [row[row != keys[p]][:10] for row, p in zip(found.keys, picked, strict=True)]  # not itself
        hits = [len(set(row) & set(table[keys[p], :10])) for row, p in zip(others, picked, strict=True)]
        began = time.perf_counter()
        index.search(unit[picked], 10, threads=1)
        per = (time.perf_counter() - began) / len(picked) * 1000
        print(f"| {expansion} | {built:.1f} s | {np.mean(hits) / 10:.4f} | {per:.2f} ms |")


def map_trade(directory: Path, keys: np.ndarray, table: np.ndarray, sims: np.ndarray) -> None:
    from usearch.index import Index

    matrix = np.load(directory / artifact.MATRIX, mmap_mode="r")
    norms = np.load(directory / artifact.NORMS)
    graph = knn_graph(table, sims, keys, 15)
    start = pca_coordinates(matrix, norms, keys)
    picked = np.sort(np.random.default_rng(0).choice(len(keys), 2000, replace=False))
    print("\n| UMAP epochs | seconds | 15 table neighbors among the 15 nearest on the map |")
    print("| --- | --- | --- |")
    for epochs in (None, 100, 50):
        began = time.perf_counter()
        xy = umap_coordinates(graph, start, 0, epochs)
        took = time.perf_counter() - began
        flat = Index(ndim=2, metric="l2sq", dtype="f32")
        flat.add(np.arange(len(keys)), xy)
        near = flat.search(xy[picked], 16, exact=True).keys
        kept = [len(set(near[i][1:]) & set(graph[0][p][1:])) / 14 for i, p in enumerate(picked)]
        print(f"| {epochs or '200 (default)'} | {took:.1f} | {np.mean(kept):.4f} |")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("artifact", nargs="?", default=str(ROOT / "artifacts" / "multilingual-e5-small"))
    directory = Path(cli.parse_args().artifact)
    norms = np.load(directory / artifact.NORMS)
    keys = np.flatnonzero(norms > 0)
    table = np.load(directory / artifact.KNN_IDS, mmap_mode="r")
    sims = np.load(directory / artifact.KNN_SIMS, mmap_mode="r")
    print(f"{artifact.read_manifest(directory).name}: {len(keys):,} indexed rows")
    index_trade(
        directory, keys, unit_rows(np.load(directory / artifact.MATRIX, mmap_mode="r"), norms, keys), table
    )
    map_trade(directory, keys, table, sims)


if __name__ == "__main__":
    main()
