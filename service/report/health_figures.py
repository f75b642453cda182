"""The report's vocabulary-health section: norms by kind and script, the top under-trained
candidates, geometry before and after centring, and the footprint per script (the API's use-cases)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from geometry.table_statistics import row_norms
from loaders import artifact
from service.analyses import vocabulary_health
from service.registry import LoadedModel
from service.report import figures
from service.report.page import img, table
from service.request_types import AnomaliesRequest, FootprintRequest, GeometryRequest

TOP = 10


def _norm_groups(model: LoadedModel) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    text = np.flatnonzero(~np.isin(model.kinds, vocabulary_health.NOT_TEXT))
    norms = row_norms(model.space.matrix, text)
    kinds = model.kinds[text]
    by_kind = {
        name: norms[kinds == artifact.TOKEN_KINDS.index(name)]
        for name in ("word-initial", "continuation", "byte")
        if np.any(kinds == artifact.TOKEN_KINDS.index(name))
    }
    scripts = model.labels["unicode"]
    codes = scripts.codes[text]
    largest = np.argsort(-np.bincount(codes, minlength=len(scripts.names)))[:5]
    by_script = {scripts.names[c]: norms[codes == c] for c in largest if np.any(codes == c)}
    return by_kind, by_script


def health_section(model: LoadedModel, out: Path) -> tuple[str, dict[str, str]]:
    name = model.name
    by_kind, by_script = _norm_groups(model)
    kind_fig = figures.norm_histograms(by_kind, f"{name}: row norms by kind", out / f"{name}-norms-kind.png")
    script_fig = figures.norm_histograms(
        by_script, f"{name}: row norms by script", out / f"{name}-norms-script.png"
    )
    found = vocabulary_health.anomalies_out(model, AnomaliesRequest(limit=TOP))
    rows = [
        [
            item.token.display,
            item.token.kind,
            item.token.labels.get("unicode", ""),
            item.token.labels.get("language", ""),
            "" if item.unused_similarity is None else f"{item.unused_similarity:.3f}",
            f"{item.norm_percentile:.1f}",
            {None: "not checked", True: "yes", False: "no"}[item.reachable],
        ]
        for item in found.items
    ]
    raw = vocabulary_health.geometry_out(model, GeometryRequest())
    centred = vocabulary_health.geometry_out(model, GeometryRequest(postprocess="centred-top", components=1))
    foot = vocabulary_health.footprint_out(model, FootprintRequest())
    top = list(foot.by_script.items())[:TOP]
    bars = figures.bars(
        [k for k, _ in top],
        [v.share for v in (row for _, row in top)],
        [0.0] * len(top),
        f"{name}: share of embedding parameters per script",
        "share",
        out / f"{name}-footprint.png",
    )
    proxy = raw.norm_frequency
    geometry = (
        f"IsoScore {raw.overall.isoscore:.3f} as stored, {centred.overall.isoscore:.3f} centred without "
        f"the first component; mean cosine of random pairs {raw.overall.mean_pair_cosine:.4f} → "
        f"{centred.overall.mean_pair_cosine:.4f}; largest dimension share of the expected cosine "
        f"{raw.overall.top_dimensions[0].share:.3f}"
        + (f"; norm vs {proxy.proxy}: Spearman {proxy.spearman:.3f}" if proxy else "")
    )
    parts = [
        "<h3>Vocabulary health</h3>",
        f"<p>{html.escape(found.caveat)}. Reference: {html.escape(found.reference.described)} "
        f"({found.reference.tokens}); {found.candidates} candidates.</p>",
        table(["token", "kind", "script", "language", "cos to unused", "norm pct", "reachable"], rows),
        f"<p>{html.escape(geometry)}.</p>",
        img(kind_fig),
        img(script_fig),
        img(bars),
    ]
    headline = {
        "candidates": str(found.candidates),
        "isoscore": f"{raw.overall.isoscore:.3f} / {centred.overall.isoscore:.3f}",
    }
    return "\n".join(parts), headline
