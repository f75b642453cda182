"""The stored encoder spaces against the input table (issue 30), for e5 and USE (`make encoder-spaces`
first). Printed, all measured in this run:

1. P@1 / P@10 per language, en -> X on CLDR's everyday nouns (bench/cldr_dictionary.py --everyday),
   the same candidates in both spaces (the encoded words: each language's first words), cosine: the
   input space ranks the words' lexicon rows with the English word composed as `candidates=` does;
   the encoder space ranks the stored encoder rows with the English word encoded at query time.
2. Build time, words/s and bytes of each encoder space (from its manifest).
3. Latency of a text query, space=encoder vs space=input (translations into Russian, CSLS, through
   the use-case the HTTP handler calls), p50 of N distinct words, and the ratio.
4. GET /compare-spaces's figures (sample 1,000): neighbor overlap@10, rank correlation, and the
   paper's diversity and separability over the encoded words in both spaces.
Usage: python bench/encoder_space.py [N latency queries, default 200]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cldr_dictionary import LOOKUP_LANGUAGES, everyday_pairs  # noqa: E402
from encoder_words import ranks as ranks_of  # noqa: E402
from encoder_words import table_row  # noqa: E402

from loaders.artifact import match_key  # noqa: E402
from service import request_types as r  # noqa: E402
from service.queries import answer  # noqa: E402
from service.queries.given_candidates import given  # noqa: E402
from service.registry import LoadedModel, load_model  # noqa: E402
from service.report.space_figures import compared  # noqa: E402
from service.settings import Limits  # noqa: E402

MODELS = ("multilingual-e5-small", "use-multilingual-v3")


def precision_table(model: LoadedModel) -> None:
    encoded, lexicon = model.encoded(), model.pool()
    words = encoded.words
    print(f"\n| {model.name} | pairs | input P@1 / P@10 | encoder P@1 / P@10 |")
    print("| --- | --- | --- | --- |")
    totals: dict[str, list[int]] = {"input": [], "encoder": []}
    for lang in LOOKUP_LANGUAGES:
        rows = np.intersect1d(words.language_rows([lang]), encoded.shared)  # the words both spaces hold
        if not len(rows):
            print(f"| {lang} | no words | | |")
            continue
        where = {match_key(words.words[row]): i for i, row in reversed(list(enumerate(rows.tolist())))}
        pairs = [(a, where[match_key(b)]) for a, b in everyday_pairs(lang) if match_key(b) in where]
        if not pairs:
            print(f"| {lang} | 0 | | |")
            continue
        sources, gold = [a for a, _ in pairs], [g for _, g in pairs]
        found = {
            "input": ranks_of(
                given(model, sources).space.matrix, lexicon.space.unit(encoded.lexicon_rows[rows]), gold
            ),
            "encoder": ranks_of(encoded.encode(sources), words.space.unit(rows), gold),
        }
        for key, value in found.items():
            totals[key] += value
        print(table_row(lang, len(pairs), found), flush=True)
    print(table_row("all", len(totals["input"]), totals))


def build_costs(model: LoadedModel) -> None:
    info = model.encoded().info
    size = sum(entry.size for entry in info.files.values())
    print(
        f"{model.name}: {info.rows:,} words ({info.per_language:,} per language, {len(info.languages)}"
        f" languages) x {info.dim}, {size / 1e6:.1f} MB, built in {info.seconds:.0f} s"
        f" ({info.words_per_second:.0f} words/s encoding, {info.threads} threads); {info.encoder.describe()}"
    )


def latency(model: LoadedModel, count: int) -> None:
    texts = model.encoded().words.words[:count]  # distinct words (the answer cache is not involved)
    timings: dict[str, list[float]] = {"input": [], "encoder": []}
    model.encoded().encode(["warm"])  # the encoder loads on first use (not timed)
    for word in texts:
        for space in ("input", "encoder"):
            request = r.TranslationsRequest(text=word, target_languages=["ru"], pool="words", space=space)
            started = time.perf_counter()
            answer(model, request, Limits())
            timings[space].append(time.perf_counter() - started)
    p50 = {space: statistics.median(values) * 1000 for space, values in timings.items()}
    print(
        f"{model.name}: text query p50 input {p50['input']:.1f} ms, encoder {p50['encoder']:.1f} ms"
        f" ({p50['encoder'] / p50['input']:.1f}x), {count} words"
    )


def spaces(model: LoadedModel) -> None:
    out = compared(model, seed=0)  # as the report computes it: sample 1,000
    print(
        f"{model.name}: overlap@10 {out.overlap:.3f}, rank correlation {out.rank_correlation:.3f}"
        f" ({out.words:,} words, sample {out.sample}, {out.took_seconds:.1f} s)"
    )
    for name, one in out.spaces.items():
        by_script = ", ".join(f"{k} {v:.3f}" for k, v in one.separability_by_script.items())
        print(
            f"  {name:>7}: diversity {one.diversity_scripts:.2f} scripts / {one.diversity_languages:.2f}"
            f" languages among 50 nearest + self; script separability {one.separability:.4f} ({by_script})"
        )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    models = [load_model(ROOT / "artifacts" / name, verify_checksums=False) for name in MODELS]
    print("1. en -> X, same candidates in both spaces (the encoded words), cosine")
    for model in models:
        precision_table(model)
    print("\n2. encoder space builds")
    for model in models:
        build_costs(model)
    print("\n3. text query latency (translations into ru, CSLS, pool=words)")
    for model in models:
        latency(model, count)
    print("\n4. compare-spaces (sample 1,000, seed 0)")
    for model in models:
        spaces(model)


if __name__ == "__main__":
    main()
