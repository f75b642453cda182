"""Neighbor queries in-process on a packaged artifact, k=50: exact table, HNSW (+ refinement),
raw USearch, and brute force (USearch's SIMD scan, re-scored in float32); recall against brute
force. Ratios are from this one run.

Usage: python bench/neighbors.py [artifacts/NAME] [queries]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from geometry.neighbors import exact_search, normalize, search
from service.registry import load_model


def rate(label: str, count: int, seconds: float) -> float:
    print(f"  {label:<44} {count / seconds:10.0f} queries/s")
    return count / seconds


def main() -> None:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/multilingual-e5-small")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    model = load_model(directory, verify_checksums=False)
    space = model.space
    assert space.index is not None
    rng = np.random.default_rng(0)
    tokens = rng.choice(space.indexed, n, replace=False)
    unit = space.unit(tokens)
    print(f"{model.name}: {len(space.indexed)} indexed rows x {model.manifest.dim}, k=50, {n} queries")

    started = time.perf_counter()
    table = [search(space, unit[i], 50, token=int(t)) for i, t in enumerate(tokens)]
    table_rate = rate("token queries (exact table)", n, time.perf_counter() - started)

    started = time.perf_counter()
    raw = [space.index.search(unit[i], 51, threads=1) for i in range(n)]
    raw_rate = rate("raw USearch HNSW, single queries", n, time.perf_counter() - started)

    started = time.perf_counter()
    batch = space.index.search(unit, 51, threads=0)
    rate("raw USearch HNSW, one batch", n, time.perf_counter() - started)

    noisy = [normalize(u + 0.2 * rng.standard_normal(len(u)) / np.sqrt(len(u))) for u in unit]
    started = time.perf_counter()
    ann = [search(space, q, 50, approximate=True) for q in noisy]
    ann_rate = rate("vector queries (HNSW + table refinement)", n, time.perf_counter() - started)

    subset = max(20, n // 10)
    started = time.perf_counter()
    exact = [exact_search(space, q, 50, None) for q in noisy[:subset]]
    exact_rate = rate("vector queries, brute force (the default)", subset, time.perf_counter() - started)

    truth_tokens = [exact_search(space, unit[i], 51, None).ids for i in range(subset)]
    table_recall = np.mean(
        [len(set(table[i].ids.tolist()) & set(truth_tokens[i][1:].tolist())) / 50 for i in range(subset)]
    )
    raw_recall = np.mean(
        [len(set(raw[i].keys.tolist()) & set(truth_tokens[i].tolist())) / 51 for i in range(subset)]
    )
    batch_keys = [batch.keys[i][: batch.counts[i]] for i in range(subset)]
    batch_recall = np.mean(
        [len(set(batch_keys[i].tolist()) & set(truth_tokens[i].tolist())) / 51 for i in range(subset)]
    )
    ann_recall = np.mean(
        [len(set(ann[i].ids.tolist()) & set(exact[i].ids.tolist())) / 50 for i in range(subset)]
    )
    print(
        f"  recall@50 vs brute force ({subset} queries): table {table_recall:.4f}, raw HNSW single "
        f"{raw_recall:.4f}, raw HNSW batch {batch_recall:.4f}, HNSW + refinement {ann_recall:.4f}"
    )
    print(
        f"  ratios: table / raw HNSW {table_rate / raw_rate:.1f}x; refined vector / raw HNSW "
        f"{ann_rate / raw_rate:.2f}x; refined vector / brute force {ann_rate / exact_rate:.0f}x"
    )


if __name__ == "__main__":
    main()
