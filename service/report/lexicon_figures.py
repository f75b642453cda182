"""The report's lexicon section: what a lookup costs per language, the models side by side (pieces per
word, weighted by the word's frequency; the share of words that are one token; the share composed)."""

from __future__ import annotations

import html
import math
from pathlib import Path

from service.analyses.lexicon_costs import REFERENCE, lexicon_languages
from service.registry import LoadedModel
from service.report import figures
from service.report.page import img, table


def lexicon_section(models: list[LoadedModel], out: Path) -> str:
    found = {m.name: lexicon_languages(m) for m in models}
    costs = {name: languages for name, languages in found.items() if languages}
    if not costs:
        return ""
    languages = sorted({lang for by_language in costs.values() for lang in by_language})

    def weighted(name: str, lang: str) -> float:
        entry = costs[name].get(lang)
        value = entry.pieces_per_word_weighted if entry is not None else None
        return value if value is not None else (entry.pieces_per_word if entry is not None else math.nan)

    chart = figures.grouped_bars(
        languages,
        {name: [weighted(name, lang) for lang in languages] for name in costs},
        "pieces per word, weighted by frequency (the cost of a lookup)",
        "pieces per word",
        out / "lexicon-pieces-per-word.png",
    )
    rows = []
    for lang in languages:
        row: list[object] = [lang]
        for name in costs:
            entry = costs[name].get(lang)
            shares = (
                "" if entry is None else f"{entry.one_token:.0%} one token, {entry.composable:.0%} composed"
            )
            row.append("n/a" if entry is None else f"{weighted(name, lang):.2f} ({shares})")
        rows.append(row)
    return (
        "<h2>What a lookup costs per language</h2><p>Each model's lexicon: the words of each language "
        "(wordfreq's lists; for a script no list covers, the vocabulary's own word-initial pieces) composed "
        f"from the model's pieces. Parity with English ({html.escape(REFERENCE)}) as Petrov et al. (2023) "
        "measure it on parallel text is measured here on word lists (no parallel text ships with a package "
        f"here).</p>{img(chart)}" + table(["language", *costs], rows)
    )
