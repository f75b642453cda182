"""What a lexicon costs to build and how close its CSLS means are, per packaged model (in-process).

For each model: each language's composition time (its list loaded apart), words, bytes of float16
rows; then, for 300 seeded composed words, the CSLS neighborhood mean the build takes from the table
(`geometry.translation.table_means`) against the exact one (the word's 10 nearest vocabulary tokens by
brute force): mean absolute difference, and the share within 0.01.
Usage: python bench/lexicon.py [LANG ...]   (default: every list language)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geometry.neighbors import exact_many  # noqa: E402
from geometry.translation import CSLS_K, table_means  # noqa: E402
from loaders import lexicon as lx  # noqa: E402
from service.registry import load_model  # noqa: E402

MODELS = ("llama2-vocab-wordllama", "use-multilingual-v3", "multilingual-e5-small")


def main() -> None:
    import wordfreq

    languages = sys.argv[1:] or sorted(wordfreq.available_languages(lx.WORDLIST))
    print("| model | words per language | languages | words | one token | compose + means | lists | MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    accuracy = []
    for name in MODELS:
        model = load_model(ROOT / "artifacts" / name, verify_checksums=False)
        assert model.segmenter is not None
        size = lx.default_size(model.manifest.dim, len(languages))
        started = time.perf_counter()
        sources = lx.list_sources(languages, size)
        lists = time.perf_counter() - started
        words, single, work = 0, 0, 0.0
        samples: list[tuple[np.ndarray, list[int]]] = []
        for source in sources:
            started = time.perf_counter()
            made = lx.compose(model.space.matrix, model.space.norms, model.display, model.segmenter, source)
            table_means(model.space.unit, model.space.knn_ids, model.csls_r, made.rows, made.pieces)
            work += time.perf_counter() - started
            words += len(made.words)
            single += sum(1 for p in made.pieces if len(p) == 1)
            samples += [(made.rows[i], made.pieces[i]) for i, p in enumerate(made.pieces) if len(p) > 1][:50]
        megabytes = words * model.manifest.dim * 2 / 1e6
        print(
            f"| {name} | {size:,} | {len(sources)} | {words:,} | {single / max(words, 1):.0%} "
            f"| {work:.1f} s | {lists:.1f} s | {megabytes:.0f} |"
        )
        rng = np.random.default_rng(0)
        chosen = [samples[i] for i in rng.choice(len(samples), min(300, len(samples)), replace=False)]
        vectors = np.stack([v for v, _ in chosen])
        approximate = table_means(
            model.space.unit, model.space.knn_ids, model.csls_r, vectors, [p for _, p in chosen]
        )
        hits = exact_many(model.space, vectors, CSLS_K, model.space.indexed, [None] * len(vectors))
        exact = np.array([h.sims.mean() for h in hits], dtype=np.float32)
        error = np.abs(approximate - exact)
        accuracy.append(f"| {name} | {len(chosen)} | {error.mean():.4f} | {(error <= 0.01).mean():.0%} |")
    print("\nCSLS means of composed words: from the table against exact")
    print("| model | words | mean absolute difference | within 0.01 |")
    print("| --- | --- | --- | --- |")
    print("\n".join(accuracy))


if __name__ == "__main__":
    main()
