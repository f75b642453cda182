"""The report's section on the two spaces of each model that has an encoder space: neighbor overlap
and rank correlation per language, and the paper's diversity and separability in both spaces."""

from __future__ import annotations

import html
from pathlib import Path

import msgspec

from service import request_types as r
from service import response_types as s
from service.analyses.compare_spaces import compare_spaces_job
from service.registry import LoadedModel
from service.report import figures
from service.report.page import img, table


def compared(model: LoadedModel, seed: int) -> s.CompareSpacesOut:
    compute, _ = compare_spaces_job(model, r.CompareSpacesRequest(sample=1000, seed=seed))
    return msgspec.json.decode(compute(lambda _share: None), type=s.CompareSpacesOut)


def spaces_section(models: list[LoadedModel], out: Path, seed: int = 0) -> str:
    ready = [m for m in models if m.encoder_space is not None]
    missing = [f"{m.name}: {m.encoder_missing}" for m in models if m.encoder_space is None]
    note = "".join(f"<li>{html.escape(line)}</li>" for line in missing)
    head = (
        "<h2>The input table and the whole model side by side</h2><p>For each model that ships its encoder, "
        "the lexicon's first words per language in two spaces: the input table (a word is its pieces' mean "
        "row) and the encoder's output for the isolated word. Same words, same candidates: how far the "
        "neighborhoods agree, and the paper's diversity and separability in each (GET "
        "/v1/models/{model}/compare-spaces, sample 1,000).</p>"
    ) + (f"<p>Not compared:</p><ul>{note}</ul>" if note else "")
    if not ready:
        return head
    parts = [head]
    rows: list[list[object]] = []
    for model in ready:
        found = compared(model, seed)
        languages = sorted(found.by_language)
        chart = figures.grouped_bars(
            languages,
            {
                "overlap@10": [found.by_language[lang].overlap for lang in languages],
                "rank correlation": [found.by_language[lang].rank_correlation for lang in languages],
            },
            f"{model.name}: how far the two spaces agree, by the word's language",
            "mean over sampled words",
            out / f"spaces-{model.name}.png",
        )
        parts.append(f"<h3>{html.escape(model.name)} ({html.escape(found.encoder)})</h3>{img(chart)}")
        for name, one in found.spaces.items():
            rows.append(
                [
                    model.name,
                    name,
                    f"{found.words:,}",
                    f"{found.overlap:.3f}",
                    f"{found.rank_correlation:.3f}",
                    f"{one.diversity_scripts:.2f}",
                    f"{one.diversity_languages:.2f}",
                    "" if one.separability is None else f"{one.separability:.4f}",
                ]
            )
    header = ["model", "space", "words", "overlap@10", "rank corr.", "scripts in 50-NN", "languages", "sep."]
    parts.append(table(header, rows))
    return "".join(parts)
