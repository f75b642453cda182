"""What a lexicon costs to build and how close its CSLS means are, per packaged model (in-process).

For each model: each language's composition time (its list loaded apart), words, bytes of float16
rows; then, for 300 seeded composed words, the CSLS neighborhood mean the build takes from the table
(`geometry.translation.table_means`) against the exact one (the word's 10 nearest vocabulary tokens by
brute force): mean absolute difference, and the share within 0.01. Last, the latency of a word
translation at the default size (`pool=words`, CSLS, k=10, through the app in-process, cache off):
into one language and into every lexicon language, against the same query among tokens.
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
from loaders.build import lexicon as lx  # noqa: E402
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
    latency()


def latency(repeats: int = 30) -> None:
    from litestar.testing import TestClient

    from service.app import create_app
    from service.settings import Settings

    queries = ["water", "hospital", "dog", "house", "bread", "river"]
    cases = {
        "tokens, into de": {"target_languages": "de"},
        "words, into de": {"target_languages": "de", "pool": "words"},
        "words, every language": {"pool": "words"},
    }
    print("\nA word translation (median ms of", repeats, "queries, CSLS, k=10; ratio to tokens into de)")
    print("| model | " + " | ".join(cases) + " |")
    print("| --- |" + " --- |" * len(cases))
    settings = Settings(artifacts=(ROOT / "artifacts",), cache_max_bytes=1)  # nothing is kept
    with TestClient(create_app(settings)) as client:
        for name in MODELS:
            medians = []
            for extra in cases.values():
                took = []
                for i in range(repeats):
                    params = {"text": queries[i % len(queries)], "k": 10, **extra}
                    started = time.perf_counter()
                    response = client.get(f"/v1/models/{name}/translations", params=params)
                    took.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                medians.append(float(np.median(took)) * 1000)
            cells = [f"{m:.1f} ({m / medians[0]:.1f}x)" for m in medians]
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
        fertility(client)


def fertility(client: object) -> None:
    """Pieces per word (frequency-weighted over each list) and parity with English, per language, the
    three models side by side, from GET /v1/models/{model}/lexicon."""
    costs = {name: client.get(f"/v1/models/{name}/lexicon").json()["languages"] for name in MODELS}  # type: ignore[attr-defined]
    languages = sorted(set().union(*costs.values()))
    print("\nPieces per word, frequency-weighted over the word list (parity vs English); one token share;")
    print("the share of the list's words the model can compose when under 90%")
    print("| language | " + " | ".join(MODELS) + " |")
    print("| --- |" + " --- |" * len(MODELS))
    for code in languages:
        cells = []
        for name in MODELS:
            row = costs[name].get(code)
            if row is None:
                cells.append("no lexicon")
            elif row["pieces_per_word_weighted"] is None:  # the vocabulary's own pieces: one each
                cells.append(f"{row['pieces_per_word']:.2f} (vocabulary pieces)")
            else:
                cell = f"{row['pieces_per_word_weighted']:.2f} ({row['parity']:.2f}); {row['one_token']:.0%}"
                if row["composable"] < 0.9:  # the rest has only unknown pieces: the figures are of a few
                    cell += f"; composable {row['composable']:.0%}"
                cells.append(cell)
        print(f"| {code} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
