"""Matplotlib figures of the report (Agg backend: no display needed). Each returns the PNG path."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from geometry.separability import Separability  # noqa: E402

TOP_SCRIPTS = 10


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def token_map(points: np.ndarray, labels: list[str], title: str, path: Path) -> Path:
    """2-D PCA map of a token sample coloured by writing system (paper Fig. 1)."""
    fig, ax = plt.subplots(figsize=(7, 6))
    names, counts = np.unique(labels, return_counts=True)
    shown = [names[i] for i in np.argsort(-counts)[:TOP_SCRIPTS]]
    colours = plt.get_cmap("tab10")
    for number, name in enumerate(shown):
        mask = np.array([label == name for label in labels])
        ax.scatter(points[mask, 0], points[mask, 1], s=3, alpha=0.6, color=colours(number), label=name)
    rest = np.array([label not in shown for label in labels])
    ax.scatter(points[rest, 0], points[rest, 1], s=2, alpha=0.3, color="#999999", label="other")
    ax.set_title(title)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(markerscale=4, fontsize=8, loc="best")
    return _save(fig, path)


def vocabulary_map(xy: np.ndarray, codes: np.ndarray, names: list[str], title: str, path: Path) -> Path:
    """Every placed token of the vocabulary map (layout.npy), coloured by its ten most common
    scripts; the largest groups are drawn first so that small scripts stay visible on top."""
    fig, ax = plt.subplots(figsize=(8, 8))
    placed = ~np.isnan(xy[:, 0])
    counts = np.bincount(codes[placed], minlength=len(names))
    shown = [int(c) for c in np.argsort(-counts)[:TOP_SCRIPTS] if counts[c] > 0]
    rest = placed & ~np.isin(codes, shown)
    ax.scatter(xy[rest, 0], xy[rest, 1], s=0.2, color="#aaaaaa", label="other", rasterized=True, linewidths=0)
    colours = plt.get_cmap("tab10")
    for number, code in enumerate(shown):
        mask = placed & (codes == code)
        ax.scatter(xy[mask, 0], xy[mask, 1], s=0.2, color=colours(number), label=names[code], rasterized=True,
                   linewidths=0)  # fmt: skip
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=12, fontsize=8, loc="best")
    return _save(fig, path)


def histogram(histogram: dict[int, int], mean: float, sd: float, title: str, path: Path) -> Path:
    """Distinct categories among each query's neighborhood (paper Fig. 5)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    values = sorted(histogram)
    ax.bar(values, [histogram[v] for v in values], color="#3b6ea5")
    ax.axvline(mean, color="#b5462f", linestyle="--", label=f"mean {mean:.2f} (sd {sd:.2f})")
    ax.set_xlabel("distinct categories among the query and its 50 nearest neighbors")
    ax.set_ylabel("queries")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def heatmap(mix: dict[str, dict[str, float]], counts: dict[str, int], title: str, path: Path) -> Path:
    """Share of neighbors in each script, for query tokens of each script (paper Fig. 6)."""
    rows = sorted(mix, key=lambda name: -counts.get(name, 0))[:12]
    matrix = np.array([[mix[r].get(c, 0.0) for c in rows] for r in rows])
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(rows)), rows, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("neighbor category")
    ax.set_ylabel("query category")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of neighbors")
    return _save(fig, path)


def bars(
    names: list[str],
    values: list[float],
    errors: list[float],
    title: str,
    ylabel: str,
    path: Path,
    floor: float = 0.0,
) -> Path:
    """Bars with error bars (separability per category; canonical correlations)."""
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(names) + 2), 4))
    ax.bar(range(len(names)), values, yerr=errors, color="#3b6ea5", capsize=2)
    ax.set_xticks(range(len(names)), names, rotation=70, ha="right", fontsize=8)
    ax.set_ylim(floor, 1.0)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def separability(result: Separability, title: str, path: Path) -> Path:
    """Accuracy per category with its fold sd; chance (0.5) at the bottom."""
    scores = result.scores
    return bars(
        [s.category for s in scores],
        [s.accuracy for s in scores],
        [s.sd for s in scores],
        title,
        "accuracy",
        path,
        0.5,
    )


def language_relations(lift: np.ndarray, names: list[str], tree: np.ndarray, title: str, path: Path) -> Path:
    """Heat map of neighbor lift between languages, ordered by the clustering, dendrogram on top."""
    from scipy.cluster.hierarchy import dendrogram

    size = max(7.0, 0.25 * len(names) + 3)
    fig = plt.figure(figsize=(size + 1, size + 1.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 4], width_ratios=[30, 1], hspace=0.02, wspace=0.05)
    top, ax, bar = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    leaves = dendrogram(tree, labels=names, ax=top, no_labels=True, color_threshold=0)
    order = leaves["leaves"]
    top.set_xlim(0, 10 * len(names))  # scipy puts leaf i at 10 i + 5: cell centres of the heat map
    top.set_xticks([])
    top.set_ylabel("distance")
    top.set_title(title)
    for side in ("top", "right", "bottom"):
        top.spines[side].set_visible(False)
    # log2 lift clipped to [-3, 3]: pairs never seen together would otherwise swamp the scale
    matrix = np.clip(np.log2(np.maximum(lift[np.ix_(order, order)], 1e-9)), -3, 3)
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-3, vmax=3, aspect="auto")
    labels = [names[i] for i in order]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("neighbor language")
    ax.set_ylabel("query language")
    fig.colorbar(image, cax=bar, label="log2 lift: neighbors vs chance (clipped at ±3)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def norm_histograms(groups: dict[str, np.ndarray], title: str, path: Path) -> Path:
    """Row-norm distributions of several token groups (kinds, scripts) on one axis."""
    fig, ax = plt.subplots(figsize=(7, 4))
    values = np.concatenate(list(groups.values()))
    edges = np.linspace(float(values.min()), float(values.max()), 60).tolist()
    for name, norms in groups.items():
        ax.hist(norms, bins=edges, histtype="step", density=True, label=f"{name} ({len(norms):,})")
    ax.set_xlabel("row norm")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    ax.set_title(title)
    return _save(fig, path)


def grouped_bars(
    names: list[str], series: dict[str, list[float]], title: str, ylabel: str, path: Path
) -> Path:
    """One group of bars per name, one bar per series (a model), side by side."""
    fig, ax = plt.subplots(figsize=(max(7, 0.45 * len(names) + 2), 4))
    width = 0.8 / max(len(series), 1)
    for number, (label, values) in enumerate(series.items()):
        ax.bar(np.arange(len(names)) + number * width, values, width, label=label)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=70, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)
