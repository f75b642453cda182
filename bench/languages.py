"""Language labels on the packaged artifacts: label coverage, language separability (all labelled
languages; within Latin; within Cyrillic), the first merges of the language clustering, and the
cost of a languages= filter relative to an unfiltered neighbor query (ratios from this one run).

Usage: python bench/languages.py [artifacts/NAME ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import msgspec
import numpy as np

from loaders.artifact import AMBIGUOUS, UNLABELLED
from service import request_types as r
from service.analyses import relations as relations_use
from service.analyses import separability as separability_use
from service.queries import answer
from service.registry import LoadedModel, load_model
from service.settings import Limits

LATIN = ["de", "es", "fr", "it", "nl", "pt"]
CYRILLIC = ["bg", "ru", "uk"]


def separability(model: LoadedModel, mode: str, chosen: list[str] | None, within: str | None) -> str:
    request = r.SeparabilityRequest(scheme="language", mode=mode, categories=chosen, within=within)  # type: ignore[arg-type]
    compute, _ = separability_use.separability_job(model, request)
    out = msgspec.json.decode(compute(lambda _: None))
    scores = ", ".join(f"{x['category']} {x['accuracy']:.3f}" for x in out["scores"])
    skipped = len(out["skipped"])
    return f"mean {out['mean']:.4f} over {len(out['scores'])} ({scores}); skipped under 500: {skipped}"


def per_query_ms(model: LoadedModel, words: list[str], languages: list[str] | None) -> float:
    started = time.perf_counter()
    for word in words:
        answer(model, r.NeighborsRequest(token=word, k=10, languages=languages), Limits())
    return (time.perf_counter() - started) * 1000 / len(words)


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted(Path("artifacts").iterdir())
    for path in paths:
        model = load_model(path, verify_checksums=False)
        counts = model.labels["language"].counts()
        labelled = sum(n for name, n in counts.items() if name not in (AMBIGUOUS, UNLABELLED))
        word_initial = int((model.kinds == 2).sum())
        print(
            f"{model.name}: {labelled} language-labelled tokens ({labelled / word_initial:.1%} of "
            f"{word_initial} word-initial), {counts[AMBIGUOUS]} ambiguous, "
            f"{len(model.language_table().supported)} languages"
        )
        print("  one-vs-rest, all labelled tokens:", separability(model, "one-vs-rest", None, None))
        print("  one-vs-rest within Latin:", separability(model, "one-vs-rest", LATIN, "Latin"))
        print("  pairwise within Latin:", separability(model, "pairwise", LATIN, "Latin"))
        print("  one-vs-rest within Cyrillic:", separability(model, "one-vs-rest", CYRILLIC, "Cyrillic"))
        chosen = relations_use.chosen_languages(model, None, 200)
        started = time.perf_counter()
        relations = relations_use.language_relations(model, chosen, 10, 1000, 0, lambda _: None)
        took = time.perf_counter() - started
        merges = "; ".join(
            f"{'+'.join(m.left)} | {'+'.join(m.right)} ({m.distance:.3f})" for m in relations.merges[:3]
        )
        print(f"  relations: {len(chosen)} languages, {took:.2f} s; first merges: {merges}")
        print(f"  clustering order: {' '.join(relations.order)}")
        rng = np.random.default_rng(0)
        words = [model.raw[int(i)] for i in rng.choice(model.space.indexed, 200, replace=False)]
        plain, french = per_query_ms(model, words, None), per_query_ms(model, words, ["fr"])
        print(
            f"  neighbors k=10: unfiltered {plain:.2f} ms/query, languages=fr {french:.2f} ms/query "
            f"({french / plain:.1f}x)"
        )


if __name__ == "__main__":
    main()
