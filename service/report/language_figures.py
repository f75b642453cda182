"""The report's language section: relations heat map with dendrogram, and language separability."""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from geometry.separability import Separability
from service.analyses import separability as separability_use
from service.analyses.relations import chosen_languages, language_relations
from service.registry import LoadedModel
from service.report import figures
from service.report.page import img
from service.request_types import SeparabilityRequest

WITHIN_LATIN = ["de", "es", "fr", "it", "nl", "pt"]
MIN_TOKENS = 500


def _separability(
    model: LoadedModel, within: str | None, chosen: list[str] | None, folds: int, seed: int
) -> Separability:
    request = SeparabilityRequest(
        scheme="language", min_tokens=MIN_TOKENS, folds=folds, seed=seed, categories=chosen, within=within
    )
    return separability_use.prepare(model, request)[1](lambda _: None)  # the API's use-case


def language_section(model: LoadedModel, args: argparse.Namespace, out: Path) -> tuple[str, dict[str, str]]:
    """(HTML, headline figures) for one model; a note when its artifact has no language labels."""
    if model.languages is None:
        return "<h3>Languages</h3><p>This artifact has no language labels (rebuild it).</p>", {}
    name = model.name
    per_language = 200 if args.quick else 1000
    chosen = chosen_languages(model, None, 200)
    rel = language_relations(model, chosen, 10, per_language, args.seed, lambda _: None)
    fig = figures.language_relations(
        rel.lift,
        rel.languages,
        rel.tree,
        f"{name}: how languages neighbor each other",
        out / f"{name}-languages.png",
    )
    first = "; ".join(
        f"{'+'.join(m.left)} with {'+'.join(m.right)} ({m.distance:.3f})" for m in rel.merges[:3]
    )
    parts = [
        "<h3>Languages: neighbor relations and clustering</h3>",
        f"<p>{len(chosen)} languages with at least 200 labelled tokens; {per_language} tokens per "
        f"language, 10 neighbors each; lift = share of a language among the neighbors / its share of "
        f"labelled tokens; average linkage on 1/(1+symmetric lift). First merges: {html.escape(first)}.</p>",
        img(fig),
    ]
    folds = 3 if args.quick else 10
    everything = _separability(model, None, sorted(chosen)[:5] if args.quick else None, folds, args.seed)
    latin = _separability(model, "Latin", WITHIN_LATIN, folds, args.seed)
    for result, what, file in (
        (everything, "one language against all other language-labelled tokens", "languages-separability"),
        (latin, "within Latin script: one language against the other Latin-script languages", "latin"),
    ):
        title = f"{name}: language separability, mean {result.mean:.4f}"
        fig = figures.separability(result, title, out / f"{name}-{file}.png")
        parts.append(
            f"<h3>Language separability: {html.escape(what)}</h3><p>mean {result.mean:.4f} over "
            f"{len(result.scores)} languages ({folds}-fold, balanced, min {MIN_TOKENS} tokens)</p>{img(fig)}"
        )
    headline = {
        "latin": f"{latin.mean:.4f} ({len(latin.scores)} languages)",
        "languages": f"{everything.mean:.4f} ({len(everything.scores)} languages)",
        "merges": first,
    }
    return "\n".join(parts), headline
