"""A one-word text query against the token query it becomes (the issue's target: < 2x).

In-process through the full app (Litestar's test client, cache in memory): N word-initial tokens of
the model whose word the tokenizer segments back to exactly that token are asked once each as
`token=▁word` and once as `text=word` (distinct keys, so no cache hit), alternating in rounds so
that drift hits both alike. Prints the median latency of each and their ratio, and the cost of
multi-piece texts (pooled: brute force over the vocabulary) for reference.
Usage: python bench/text_queries.py [MODEL] [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from litestar.testing import TestClient

from loaders import artifact
from service.app import create_app
from service.settings import Settings


def timed(client: TestClient, path: str, params: dict[str, str]) -> float:  # type: ignore[type-arg]
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return elapsed


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "multilingual-e5-small"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    app = create_app(Settings(artifacts=(Path("artifacts") / model,)))
    with TestClient(app) as client:
        loaded = client.app.state.registry.get(model)
        assert loaded.segmenter is not None
        word_initial = np.flatnonzero(loaded.kinds == artifact.TOKEN_KINDS.index("word-initial"))
        rng = np.random.default_rng(0)
        words: list[tuple[str, str]] = []
        for ident in rng.permutation(word_initial).tolist():
            word = loaded.display[ident].removeprefix("▁")
            if word.isalpha() and loaded.segmenter.ids(word) == [ident]:
                words.append((loaded.raw[ident], word))
            if len(words) == n + 20:
                break
        path = f"/v1/models/{model}/neighbors"
        for token, word in words[:20]:  # warm-up: code paths, not the cache (other words below)
            timed(client, path, {"token": token, "k": "10"})
            timed(client, path, {"text": word, "k": "10"})
        token_ms, text_ms = [], []
        for token, word in words[20:]:
            token_ms.append(1000 * timed(client, path, {"token": token, "k": "10"}))
            text_ms.append(1000 * timed(client, path, {"text": word, "k": "10"}))
        phrases = [f"{a[1]} {b[1]}" for a, b in zip(words[20:70], words[70:120], strict=False)]
        pooled_ms = [1000 * timed(client, path, {"text": phrase, "k": "10"}) for phrase in phrases]
    token, text, pooled = (statistics.median(v) for v in (token_ms, text_ms, pooled_ms))
    print(f"{model}: {len(token_ms)} one-piece words, k=10, median latency in-process")
    print(f"  token=▁word  {token:.3f} ms")
    print(f"  text=word    {text:.3f} ms   ratio text/token {text / token:.2f}x")
    print(f"  text of two words (pooled, brute force), {len(pooled_ms)} queries: {pooled:.1f} ms")


if __name__ == "__main__":
    main()
