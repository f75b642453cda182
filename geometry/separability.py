"""Writing-system separability (seed paper, "99.2%"): can a linear classifier tell one category's
tokens from the rest?

Protocol (defaults = the paper's): rows L2-normalized; for each category with at least
`min_tokens` tokens, its tokens against all others (one-vs-rest) or against each other category
(pairwise); the larger side randomly undersampled to the size of the smaller; logistic regression
with scikit-learn's default regularisation (C = 1); `folds`-fold stratified cross-validation
accuracy, reported as mean and sd over folds, and the mean over categories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from geometry.logistic import fit_folds, predict

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Score:
    category: str  # "A" (one-vs-rest) or "A|B" (pairwise)
    tokens: int  # tokens of the category (pairwise: of A)
    other: int  # tokens on the other side before balancing
    samples: int  # balanced sample size
    accuracy: float
    sd: float
    folds: list[float]


@dataclass(frozen=True)
class Separability:
    scores: list[Score]
    mean: float
    skipped: dict[str, int]  # categories under min_tokens (or, one-vs-rest, without a rest), with counts


def fold_masks(n_pos: int, n_neg: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """n x folds training masks; rows are positives then negatives, stratified, shuffled."""
    assignment = np.concatenate([rng.permutation(n_pos) % folds, rng.permutation(n_neg) % folds])
    return (assignment[:, None] != np.arange(folds)[None, :]).astype(np.float32)


UnitRows = Callable[[np.ndarray], np.ndarray]  # token ids -> their L2-normalized rows


def balanced_folds(
    unit: UnitRows, pos: np.ndarray, neg: np.ndarray, folds: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, training masks) of the `pos` ids' rows against the `neg` ids', the larger side randomly
    undersampled to the smaller. Only the sample's rows are gathered: memory grows with the smaller
    side."""
    size = min(len(pos), len(neg))
    pos = pos[np.sort(rng.choice(len(pos), size, replace=False))] if len(pos) > size else pos
    neg = neg[np.sort(rng.choice(len(neg), size, replace=False))] if len(neg) > size else neg
    x = np.vstack([unit(pos), unit(neg)]).astype(np.float32)
    y = np.concatenate([np.ones(size), np.zeros(size)]).astype(np.float32)
    return x, y, fold_masks(size, size, folds, rng)


def cross_validate(
    unit: UnitRows, pos: np.ndarray, neg: np.ndarray, folds: int, rng: np.random.Generator
) -> list[float]:
    """Balanced k-fold accuracy of the `pos` ids' rows against the `neg` ids'."""
    x, y, train = balanced_folds(unit, pos, neg, folds, rng)
    weights = fit_folds(x, y, train)
    correct = predict(x, weights) == y[:, None].astype(np.int8)
    test = train == 0
    return [float(correct[test[:, f], f].mean()) for f in range(folds)]


def separability(
    unit: Callable[[np.ndarray], np.ndarray],
    ids: np.ndarray,
    codes: np.ndarray,
    names: list[str],
    *,
    mode: str = "one-vs-rest",
    min_tokens: int = 500,
    folds: int = 10,
    seed: int = 0,
    categories: list[str] | None = None,
    progress: Progress | None = None,
) -> Separability:
    """`ids` are the tokens to use (their label codes in `codes[ids]`); `unit(ids)` gives their rows."""
    rng = np.random.default_rng(seed)
    labels = codes[ids]
    counts = np.bincount(labels, minlength=len(names))
    eligible = [
        i
        for i, name in enumerate(names)
        if counts[i] >= min_tokens and (not categories or name in categories)
    ]
    skipped = {  # asked-for (or all) categories left out for having fewer than min_tokens
        names[i]: int(counts[i])
        for i in range(len(names))
        if 0 < counts[i] < min_tokens and (not categories or names[i] in categories)
    }
    tasks: list[tuple[str, np.ndarray, np.ndarray]] = []
    if mode == "one-vs-rest":  # every fold needs a token of the rest: at least `folds` of them
        alone = [c for c in eligible if len(labels) - counts[c] < folds]
        skipped.update({names[c]: int(counts[c]) for c in alone})
        tasks = [(names[c], labels == c, labels != c) for c in eligible if c not in alone]
    else:
        tasks = [(f"{names[a]}|{names[b]}", labels == a, labels == b) for a, b in combinations(eligible, 2)]
    scores = []
    for number, (name, left, right) in enumerate(tasks, start=1):
        accuracies = cross_validate(unit, ids[left], ids[right], folds, rng)
        samples = 2 * min(int(left.sum()), int(right.sum()))
        scores.append(
            Score(
                name,
                int(left.sum()),
                int(right.sum()),
                samples,
                float(np.mean(accuracies)),
                float(np.std(accuracies)),
                accuracies,
            )
        )
        if progress:
            progress(number / len(tasks))
    mean = float(np.mean([s.accuracy for s in scores])) if scores else float("nan")
    return Separability(scores, mean, skipped)
