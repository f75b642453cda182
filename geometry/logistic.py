"""L2-regularised logistic regression for many folds at once (Newton-CG), matching scikit-learn.

scikit-learn's `LogisticRegression()` minimises  C * sum_i logloss(y_i, x_i.w + b) + 0.5 * |w|^2
with C = 1 and an unpenalised intercept. We minimise the same objective, for all cross-validation
folds of one problem together: the folds share the design matrix and differ only in which rows
they train on, so every gradient and Hessian-vector product of all folds is one matrix product.
Truncated Newton (conjugate gradient on the Hessian) converges in a handful of steps on these
dense, low-dimensional problems, where L-BFGS one fold at a time needs about a hundred.
"""

from __future__ import annotations

import numpy as np

from geometry.interrupt import checkpoint

NEWTON_STEPS = 12
CG_STEPS = 6  # truncated Newton: a few CG steps per Newton step are enough here
TOLERANCE = 1e-4  # stop when a Newton step improves the objective by less than this share


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


def _loss(x: np.ndarray, y: np.ndarray, train: np.ndarray, w: np.ndarray, c: float) -> np.ndarray:
    z = x @ w
    # logloss(y, z) = log(1 + e^z) - y z, written to avoid overflow
    per_row = np.logaddexp(0.0, z) - y[:, None] * z
    return c * (train * per_row).sum(axis=0) + 0.5 * (w[:-1] ** 2).sum(axis=0)


def fit_folds(x: np.ndarray, y: np.ndarray, train: np.ndarray, c: float = 1.0) -> np.ndarray:
    """Weights (d+1 x folds, intercept last) for every fold.

    x: n x d float32 rows; y: n labels in {0, 1}; train: n x folds, 1.0 where a row trains that fold.
    The folds start from the fit on all rows (one column: a tenth of the work), which is already
    close to each fold's optimum, so the batched refinement needs only a few Newton steps.
    """
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1), dtype=x.dtype)])
    y = y.astype(x.dtype)
    penalty = np.ones((d + 1, 1))
    penalty[-1] = 0.0  # the intercept is not regularised
    everything = np.ones((n, 1), dtype=x.dtype)
    start = _newton(xb, y, everything, np.zeros((d + 1, 1)), penalty, c)
    return _newton(xb, y, train.astype(x.dtype), np.repeat(start, train.shape[1], axis=1), penalty, c)


def _newton(
    xb: np.ndarray, y: np.ndarray, train: np.ndarray, w: np.ndarray, penalty: np.ndarray, c: float
) -> np.ndarray:
    loss = _loss(xb, y, train, w.astype(xb.dtype), c)
    for _ in range(NEWTON_STEPS):
        checkpoint()  # a step of a large fit takes a fraction of a second: a cancel waits no longer
        p = _sigmoid(xb @ w.astype(xb.dtype))
        grad = c * (xb.T @ (train * (p - y[:, None]))).astype(np.float64) + penalty * w
        curvature = c * train * p * (1 - p)
        step = _conjugate_gradient(xb, curvature, penalty, -grad)
        w, new_loss = _line_search(xb, y, train, w, step, grad, c, loss)
        # float32 sums put a floor under the gradient norm: stop on the objective's relative progress
        done = (loss - new_loss) <= TOLERANCE * np.abs(new_loss)
        loss = new_loss
        if done.all():
            break
    return w


def _conjugate_gradient(
    xb: np.ndarray, curvature: np.ndarray, penalty: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Solve H v = b for every fold at once, H = X^T diag(curvature_f) X + diag(penalty)."""

    def hessian_times(v: np.ndarray) -> np.ndarray:
        return (xb.T @ (curvature * (xb @ v.astype(xb.dtype)))).astype(np.float64) + penalty * v

    v = np.zeros_like(b)
    r = b.copy()
    direction = r.copy()
    rho = (r * r).sum(axis=0)
    stop = 1e-8 * rho + 1e-20
    for _ in range(CG_STEPS):
        hd = hessian_times(direction)
        alpha = rho / np.maximum((direction * hd).sum(axis=0), 1e-30)
        v += alpha * direction
        r -= alpha * hd
        rho_next = (r * r).sum(axis=0)
        if (rho_next <= stop).all():
            break
        direction = r + (rho_next / np.maximum(rho, 1e-30)) * direction
        rho = rho_next
    return v


def _line_search(
    xb: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    w: np.ndarray,
    step: np.ndarray,
    grad: np.ndarray,
    c: float,
    current: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Backtracking (Armijo) per fold, all folds evaluated together: (new weights, their loss)."""
    scale = np.ones(w.shape[1])
    slope = (grad * step).sum(axis=0)
    for _ in range(20):
        trial = w + scale * step
        loss = _loss(xb, y, train, trial.astype(xb.dtype), c)
        accepted = loss <= current + 1e-4 * scale * slope
        if accepted.all():
            return trial, loss
        scale = np.where(accepted, scale, scale * 0.5)
    keep = loss <= current  # no sufficient decrease: keep the better of old and trial per fold
    return np.where(keep, trial, w), np.where(keep, loss, current)


def predict(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """0/1 predictions, n x folds."""
    return ((x @ w[:-1].astype(x.dtype)) + w[-1].astype(x.dtype) > 0).astype(np.int8)
