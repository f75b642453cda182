"""Vocabulary health over an embedding table: under-trained token indicators and geometry statistics.

Under-trained candidates follow "Fishing for Magikarp" (Land & Bartolo, EMNLP 2024): remove the
table's first principal component from every row, then take each row's cosine to the mean of rows
known to be unused (here: tokens the model's own tokenizer can never produce, or declared UNUSED);
the rows most like that mean are candidates. The row norm is the second indicator. Both only suggest:
verifying a candidate needs the model itself (prompting it to repeat the token).

Isotropy is IsoScore (Rudman et al., 2022): 1 when variance is spread evenly over all dimensions,
0 when one direction holds it all. Rogue dimensions follow Timkey & van Schijndel (2021): a
dimension's share of the expected cosine between random rows, sum_i mean(unit)_i^2.
All passes are blocked (float32 copies of one block at a time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from geometry.interrupt import checkpoint

BLOCK = 4096  # rows gathered at a time: a gather holds the GIL (e5: 3.7 ms at 4,096 rows, 35 ms at 32,768)
CANDIDATE_PERCENTILE = 98.0  # rows above this percentile of cosine to the unused mean are candidates
ROGUE_SHARE = 0.1  # a dimension holding this share of the expected cosine is "rogue"


def _blocks(matrix: np.ndarray, rows: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    for start in range(0, len(rows), BLOCK):
        checkpoint()
        part = slice(start, start + BLOCK)
        yield part, np.asarray(matrix[rows[part]], dtype=np.float32)


@dataclass(frozen=True)
class Moments:
    """Mean and covariance (eigen-decomposed, largest first) of a set of rows."""

    mean: np.ndarray
    eigenvalues: np.ndarray
    components: np.ndarray  # rows are principal directions


def moments(matrix: np.ndarray, rows: np.ndarray, vectors: bool = True) -> Moments:
    """`vectors=False` skips the principal directions (eigenvalues only: several times faster)."""
    dim = matrix.shape[1]
    total = np.zeros(dim, dtype=np.float64)
    outer = np.zeros((dim, dim), dtype=np.float64)
    for _, block in _blocks(matrix, rows):
        total += block.sum(axis=0)
        outer += block.T @ block  # float32 product of one block (fast), summed in float64
    mean = total / max(len(rows), 1)
    covariance = outer / max(len(rows), 1) - np.outer(mean, mean)
    if not vectors:
        values = np.linalg.eigvalsh(covariance)[::-1]
        return Moments(mean, np.clip(values, 0.0, None), np.empty((0, len(mean))))
    values, directions = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    return Moments(mean, np.clip(values[order], 0.0, None), directions[:, order].T)


def untrained_indicator(
    matrix: np.ndarray, rows: np.ndarray, reference: np.ndarray, first_pc: np.ndarray
) -> np.ndarray:
    """Cosine of each of `rows` (first principal component removed) to the mean of `reference`
    (likewise): high = like the known-unused rows."""
    ref = np.asarray(matrix[reference], dtype=np.float32)
    ref = ref - np.outer(ref @ first_pc, first_pc)
    target = ref.mean(axis=0)
    target /= max(float(np.linalg.norm(target)), 1e-12)
    target -= float(target @ first_pc) * first_pc  # already orthogonal up to rounding
    out = np.empty(len(rows), dtype=np.float32)
    for part, block in _blocks(matrix, rows):
        # x' = x - (x.p)p: |x'|^2 = |x|^2 - (x.p)^2 and x'.t = x.t, since t is orthogonal to p
        both = block @ np.stack([target, first_pc], axis=1)
        squared = np.einsum("ij,ij->i", block, block) - both[:, 1] ** 2
        out[part] = both[:, 0] / np.sqrt(np.maximum(squared, 1e-24))
    return out


def row_norms(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows), dtype=np.float32)
    for part, block in _blocks(matrix, rows):
        out[part] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return out


def isoscore(eigenvalues: np.ndarray) -> float:
    """IsoScore from the variances along the principal directions (the PCA-reoriented data)."""
    n = len(eigenvalues)
    if n < 2 or not np.any(eigenvalues > 0):
        return 0.0
    sigma = np.sqrt(n) * eigenvalues / np.linalg.norm(eigenvalues)
    defect = np.linalg.norm(sigma - 1.0) / np.sqrt(2 * (n - np.sqrt(n)))
    k = (n - defect**2 * (n - np.sqrt(n))) ** 2 / n**2
    return float(np.clip((n * k - 1) / (n - 1), 0.0, 1.0))


def mean_pair_cosine(matrix: np.ndarray, rows: np.ndarray, pairs: int, seed: int) -> float:
    """Mean cosine of `pairs` random pairs of distinct rows (seeded)."""
    if len(rows) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(rows), pairs)
    b = (a + rng.integers(1, len(rows), pairs)) % len(rows)  # never the same row
    left = np.asarray(matrix[rows[a]], dtype=np.float32)
    right = np.asarray(matrix[rows[b]], dtype=np.float32)
    dots = (left * right).sum(axis=1)
    norms = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
    return float(np.mean(dots / np.maximum(norms, 1e-12)))


def rogue_dimensions(matrix: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float]:
    """(each dimension's share of the expected cosine between random rows, that expected cosine)."""
    total = np.zeros(matrix.shape[1], dtype=np.float64)
    for _, block in _blocks(matrix, rows):
        total += (block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)).sum(axis=0)
    mu = total / max(len(rows), 1)
    contribution = mu**2
    expected = float(contribution.sum())
    return contribution / max(expected, 1e-30), expected


class Transformed:
    """A read-only view of `matrix` rows after mean-centring and removing the top principal
    components (the "post-processing" of Mu & Viswanath, 2018), applied block by block."""

    def __init__(self, matrix: np.ndarray, mean: np.ndarray, components: np.ndarray) -> None:
        self.matrix, self.mean, self.components = (
            matrix,
            mean.astype(np.float32),
            components.astype(np.float32),
        )
        self.shape = matrix.shape

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        rows = np.asarray(self.matrix[ids], dtype=np.float32) - self.mean
        if len(self.components):
            rows = rows - (rows @ self.components.T) @ self.components
        return rows
