"""Separability (paper protocol) on a packaged artifact: our batched solver vs a scikit-learn loop.

Same balanced samples and folds for both; prints per-category accuracies, their difference, and the
speed ratio measured in this one run.  Usage: python bench/separability.py [artifacts/NAME] [scheme]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

from geometry import separability as sep
from service.registry import load_model


def sklearn_cross_validate(
    unit: sep.UnitRows, pos: np.ndarray, neg: np.ndarray, folds: int, rng: np.random.Generator
) -> list[float]:
    from sklearn.linear_model import LogisticRegression

    x, y, train = sep.balanced_folds(unit, pos, neg, folds, rng)  # the same sample and folds as ours
    scores = []
    for f in range(folds):
        fit = train[:, f] == 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs stops at max_iter=100, as in the paper's defaults
            scores.append(float(LogisticRegression().fit(x[fit], y[fit]).score(x[~fit], y[~fit])))
    return scores


def main() -> None:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/multilingual-e5-small")
    scheme = sys.argv[2] if len(sys.argv) > 2 else "paper"
    model = load_model(directory, verify_checksums=False)
    labels = model.labels[scheme]
    ids = model.space.indexed
    timings = {}
    results = {}
    for name, function in (("ours", sep.cross_validate), ("sklearn", sklearn_cross_validate)):
        original = sep.cross_validate
        sep.cross_validate = function  # same sampling and folds: only the solver differs
        started = time.perf_counter()
        results[name] = sep.separability(model.space.unit, ids, labels.codes, labels.names, seed=0)
        timings[name] = time.perf_counter() - started
        sep.cross_validate = original
    print(f"{model.name} ({scheme}): {len(results['ours'].scores)} categories with >= 500 tokens")
    print(f"{'category':<20}{'tokens':>8}{'ours':>9}{'sklearn':>9}{'diff (pts)':>12}")
    worst = 0.0
    for a, b in zip(results["ours"].scores, results["sklearn"].scores, strict=True):
        diff = 100 * (a.accuracy - b.accuracy)
        worst = max(worst, abs(diff))
        print(f"{a.category:<20}{a.tokens:>8}{a.accuracy:>9.4f}{b.accuracy:>9.4f}{diff:>12.2f}")
    print(f"mean over categories: ours {results['ours'].mean:.4f}, sklearn {results['sklearn'].mean:.4f}")
    print(f"largest per-category difference: {worst:.2f} points")
    print(
        f"time: ours {timings['ours']:.1f} s, sklearn {timings['sklearn']:.1f} s, "
        f"speed-up {timings['sklearn'] / timings['ours']:.1f}x"
    )


if __name__ == "__main__":
    main()
