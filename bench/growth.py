"""How cost grows with the vocabulary: 25/50/100% of the e5 table, and a synthetic 250k x 1024 table.

For each size: brute-force k=50 query latency, HNSW k=50 single-query latency (an index built on
that subset, M=16, ef_add=64 to keep the run short), and the time of one balanced one-vs-rest
separability task (10 folds): the first quarter of the positive rows (at least 500) against four
times as many negatives, so the task grows with the table (the sample size is printed).
Usage: python bench/growth.py [artifacts/multilingual-e5-small]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from usearch.index import Index

from geometry.separability import cross_validate
from service.registry import load_model


def timed(fn: object, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - started) / repeat


def measure(label: str, unit: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> None:
    queries = unit[rng.choice(len(unit), 20, replace=False)]
    brute = timed(lambda: [np.argpartition(-(unit @ q), 50)[:50] for q in queries], 1) / len(queries)
    index = Index(
        ndim=unit.shape[1], metric="cos", dtype="f16", connectivity=16, expansion_add=64, expansion_search=128
    )
    started = time.perf_counter()
    index.add(np.arange(len(unit)), unit, threads=0)
    build = time.perf_counter() - started
    hnsw = timed(lambda: [index.search(q, 51, threads=1) for q in queries], 5) / len(queries)
    positives = np.flatnonzero(labels)[: max(500, labels.sum() // 4)]
    negatives = np.flatnonzero(~labels)[: len(positives) * 4]
    rows = unit.__getitem__
    sep = timed(lambda: cross_validate(rows, positives, negatives, 10, np.random.default_rng(0)), 1)
    print(
        f"{label:<34} rows {len(unit):>7}  brute force {brute * 1000:7.2f} ms/query  HNSW {hnsw * 1000:5.2f} "
        f"ms/query (build {build:5.0f} s)  separability task ({2 * len(positives)} samples) {sep:5.2f} s"
    )


def main() -> None:
    model = load_model(Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/multilingual-e5-small"), False)
    rng = np.random.default_rng(0)
    ids = rng.permutation(model.space.indexed)
    codes = model.labels["paper"].codes
    latin = model.labels["paper"].names.index("LATIN")
    for share in (0.25, 0.5, 1.0):
        chosen = np.sort(ids[: int(share * len(ids))])
        measure(f"{model.name} {share:.0%}", model.space.unit(chosen), codes[chosen] == latin, rng)
    synthetic = rng.standard_normal((250_000, 1024)).astype(np.float32)
    synthetic /= np.linalg.norm(synthetic, axis=1, keepdims=True)
    measure("synthetic 250k x 1024 (mT5-large)", synthetic, rng.random(250_000) < 0.4, rng)


if __name__ == "__main__":
    main()
