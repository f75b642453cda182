"""`python -m service.report --model NAME [--model NAME2 ...] --out reports/NAME`: the reproduction report.

Writes `index.html` (self-contained: figures embedded) and the PNG figures beside it. Every protocol
parameter, seed, Unicode version and artifact checksum is in the header, followed by the models side
by side and, for every pair, their neighbor overlap. `--quick` uses small samples and fewer folds
(CI); the default is the paper's protocol.
"""

from __future__ import annotations

import argparse
import html
import itertools
import sys
import time
from pathlib import Path

import numpy as np

from geometry.neighbors import search
from loaders import artifact
from loaders.artifact import ArtifactError
from service.analyses import diversity as diversity_use
from service.analyses import separability as separability_use
from service.analyses.compare import compared
from service.analyses.token_sets import labelled_share
from service.registry import LoadedModel, load_registry
from service.report import figures
from service.report.health_figures import health_section
from service.report.language_figures import language_section
from service.report.lexicon_figures import lexicon_section
from service.report.page import img, table
from service.report.space_figures import spaces_section
from service.request_types import CompareRequest, DiversityRequest, SeparabilityRequest
from service.settings import Settings

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:1rem}"
    "table{border-collapse:collapse;font-size:.85rem}"
    "td,th{border:1px solid #ccc;padding:.2rem .4rem;vertical-align:top}img{max-width:100%}"
)
SAMPLE_WORDS = ["▁water", "▁house", "▁mother", "▁the", "▁вода", "▁水", "▁Wasser", "▁agua", "▁дом"]


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m service.report", description=__doc__)
    cli.add_argument(
        "--model", action="append", required=True, help="model name (repeat to put models side by side)"
    )
    cli.add_argument("--out", type=Path, required=True, help="output folder")
    cli.add_argument("--artifacts", type=Path, default=Path("artifacts"), help="artifact folder")
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument(
        "--sample", type=float, default=0.01, help="diversity: share of the vocabulary as queries"
    )
    cli.add_argument("--map-tokens", type=int, default=4000, help="tokens drawn on the 2-D map")
    cli.add_argument("--quick", action="store_true", help="small samples, 3 folds, 5 categories (for CI)")
    return cli


def labels_of(model: LoadedModel, ident: int) -> list[str]:
    """Script, and language when the token has one ('▁Wasser' -> Latin, de)."""
    labels = model.label_of(ident)
    language = labels.get("language")
    known = language and language not in (artifact.AMBIGUOUS, artifact.UNLABELLED)
    return [labels["unicode"], language] if known and language else [labels["unicode"]]


def map_part(model: LoadedModel, args: argparse.Namespace, out: Path) -> str:
    """A PCA map of a token sample coloured by writing system (the paper's Fig. 1)."""
    space, scripts, name = model.space, model.labels["unicode"], model.name
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(space.indexed, min(args.map_tokens, len(space.indexed)), replace=False))
    rows = space.unit(sample)
    centred = rows - rows.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    labels = [scripts.names[int(scripts.codes[i])] for i in sample]
    fig = figures.token_map(
        centred @ vt[:2].T, labels, f"{name}: {len(sample)} tokens, PCA", out / f"{name}-map.png"
    )
    parts = f"<h3>Tokens by writing system (PCA, like the paper's Fig. 1)</h3>{img(fig)}"
    info = model.manifest.layout
    if model.layout is not None and info is not None:
        xy = np.asarray(model.layout, dtype=np.float32)
        how = f"{info.method}, seed {info.seed}" + (
            f", {info.n_neighbors} neighbors from the table" if info.method == "umap" else ""
        )
        whole = figures.vocabulary_map(
            xy,
            scripts.codes,
            scripts.names,
            f"{name}: all {info.placed:,} tokens ({how})",
            out / f"{name}-vocabulary-map.png",
        )
        parts += f"<h3>The vocabulary map: every token ({html.escape(how)})</h3>{img(whole)}"
    return parts


def diversity_part(model: LoadedModel, args: argparse.Namespace, out: Path) -> tuple[str, str]:
    """(HTML, headline): GET /diversity's use-case, paper scheme, 50 neighbors, the query counted."""
    name = model.name
    request = DiversityRequest(
        k=50, sample=0.002 if args.quick else args.sample, seed=args.seed, scheme="paper"
    )
    div = diversity_use.prepare(model, request)(lambda _: None)
    histogram = figures.histogram(
        div.histogram,
        div.mean,
        div.sd,
        f"{name}: neighbor diversity (paper Fig. 5)",
        out / f"{name}-diversity.png",
    )
    mix = figures.heatmap(
        div.mix, div.mix_queries, f"{name}: neighbor mix (paper Fig. 6)", out / f"{name}-mix.png"
    )
    html_part = (
        f"<h3>Distinct categories among 50 nearest neighbors</h3><p>mean {div.mean:.2f}, "
        f"sd {div.sd:.2f} over {div.queries} queries (paper: mT5-XL 7.61, XLM-R-XL 1.64)</p>{img(histogram)}"
        f"<h3>Per-script neighbor mix</h3>{img(mix)}"
    )
    return html_part, f"{div.mean:.2f} (sd {div.sd:.2f}, {div.queries} queries)"


def separability_part(model: LoadedModel, args: argparse.Namespace, out: Path) -> tuple[str, str]:
    """(HTML, headline): GET /separability's use-case, paper scheme, one-vs-rest."""
    space, paper, name = model.space, model.labels["paper"], model.name
    folds = 3 if args.quick else 10
    top = [n for n in paper.names if int((paper.codes[space.indexed] == paper.names.index(n)).sum()) >= 500]
    request = SeparabilityRequest(
        scheme="paper", folds=folds, seed=args.seed, categories=top[:5] if args.quick else None
    )
    sep = separability_use.prepare(model, request)[1](lambda _: None)
    title = f"{name}: one-vs-rest separability, mean {sep.mean:.4f}"
    fig = figures.separability(sep, title, out / f"{name}-separability.png")
    html_part = (
        f"<h3>Separability per category ({folds}-fold, balanced)</h3><p>mean {sep.mean:.4f} over "
        f"{len(sep.scores)} categories (paper: XLM-R-XL 0.9924, mT5-XL 0.9332)</p>{img(fig)}"
    )
    return html_part, f"{sep.mean:.4f} ({len(sep.scores)} categories, {folds} folds)"


def neighbors_part(model: LoadedModel) -> str:
    """The top-20 neighbors of a few sample words (the paper's Fig. 4)."""
    space = model.space
    rows_html = []
    for word in SAMPLE_WORDS:
        found = model.lookup(word)
        if found is None or space.norms[found[0]] == 0:
            continue
        ident = found[0]
        hits = search(space, space.unit(np.array([ident]))[0], 20, token=ident)
        cells = ", ".join(f"{model.display[i]} ({', '.join(labels_of(model, int(i)))})" for i in hits.ids)
        rows_html.append([model.display[ident], cells])
    return "<h3>Top-20 neighbors of sample tokens (paper Fig. 4)</h3>" + table(
        ["token", "neighbors"], rows_html
    )


def model_section(model: LoadedModel, args: argparse.Namespace, out: Path) -> tuple[str, dict[str, str]]:
    diversity, diversity_line = diversity_part(model, args, out)
    separability, separability_line = separability_part(model, args, out)
    languages, language_lines = language_section(model, args, out)
    vocabulary_health, health_lines = health_section(model, out)
    parts = [
        f"<h2>{html.escape(model.name)}</h2>",
        f"<p>{html.escape(model.manifest.description)}</p>" if model.manifest.description else "",
        map_part(model, args, out),
        diversity,
        separability,
        neighbors_part(model),
        languages,
        vocabulary_health,
    ]
    stats = {
        "diversity": diversity_line,
        "separability": separability_line,
        "labelled": f"{labelled_share(model):.1%}",
        **language_lines,
        **health_lines,
    }
    return "\n".join(parts), stats


SIDE_BY_SIDE = {
    "vocabulary": "vocabulary",
    "tokens": "tokens",
    "dim": "dim",
    "separability": "separability, paper scheme (mean)",
    "diversity": "diversity, query + 50 (mean)",
    "labelled": "word-initial tokens with a language label",
    "languages": "language separability, all (mean)",
    "latin": "language separability within Latin (mean)",
    "merges": "first three language merges",
    "candidates": "under-trained candidates",
    "isoscore": "IsoScore (stored / centred)",
    "unicode": "Unicode (paper / script scheme)",
    "checksum": "artifact checksum",
}


def headline_row(model: LoadedModel, stats: dict[str, str]) -> list[object]:
    m = model.manifest
    facts = {
        "vocabulary": m.vocabulary,
        "tokens": m.vocab_size,
        "dim": m.dim,
        "unicode": f"{m.labels['paper'].unicode_version} / {m.labels['unicode'].unicode_version}",
        "checksum": model.checksum,
    }
    return [model.name, *(facts.get(key, stats.get(key, "n/a")) for key in SIDE_BY_SIDE)]


def compare_section(a: LoadedModel, b: LoadedModel, args: argparse.Namespace) -> str:
    """Neighbor overlap and canonical correlations of the two models (the API's compare use-case)."""
    request = CompareRequest(
        models=[a.name, b.name], k=100, sample=0.005 if args.quick else 0.05, seed=args.seed
    )
    result = compared(a, b, request, lambda _: None)
    fig = figures.bars(
        [str(i + 1) for i in range(len(result.canonical))],
        result.canonical,
        [0.0] * len(result.canonical),
        f"canonical correlations {a.name} vs {b.name}",
        "singular value of Q_A^T Q_B",
        args.out / f"compare-canonical-{a.name}-{b.name}.png",
    )
    return (
        f"<h2>{html.escape(a.name)} vs {html.escape(b.name)} (paper Figs. 7-8)</h2><p>"
        f"{result.shared} shared tokens; mean top-100 neighbor overlap {result.overlap_mean:.1f} "
        f"(sd {result.overlap_sd:.1f}, {result.queries} queries); top canonical correlation "
        f"{result.canonical[0]:.3f}</p>{img(fig)}"
    )


def protocol_line(args: argparse.Namespace, seconds: float) -> str:
    return (
        f"seed {args.seed}; diversity k=50, query counted, sample {0.002 if args.quick else args.sample}; "
        f"separability paper scheme, one-vs-rest, balanced, C=1, {3 if args.quick else 10} folds, "
        f"min 500 tokens{'; first 5 categories only' if args.quick else ''}; map: PCA of "
        f"{args.map_tokens} tokens (UMAP is not a dependency); {seconds:.0f} s to build"
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    started = time.perf_counter()
    try:
        registry = load_registry(Settings(artifacts=(args.artifacts,)))
        models = [registry.get(name) for name in dict.fromkeys(args.model)]
    except (ArtifactError, Exception) as exc:  # UnknownModel is a DomainError: one line either way
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    sections, headline = [], []
    for model in models:
        section, stats = model_section(model, args, args.out)
        sections.append(section)
        headline.append(headline_row(model, stats))
    sections.extend(compare_section(a, b, args) for a, b in itertools.combinations(models, 2))
    sections.append(lexicon_section(models, args.out))
    sections.append(spaces_section(models, args.out, args.seed))
    side_by_side = table(["model", *SIDE_BY_SIDE.values()], headline)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>polyglot-geometry report</title><style>{STYLE}</style></head><body>
<h1>Hyperpolyglot geometry: reproduction report</h1>
<p>{html.escape(protocol_line(args, time.perf_counter() - started))}</p>
<h2>Side by side</h2>{side_by_side}
{"".join(sections)}</body></html>"""
    (args.out / "index.html").write_text(page, encoding="utf-8")
    print(f"{args.out / 'index.html'}: {len(models)} model(s), {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
