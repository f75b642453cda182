"""Word pools: the most frequent words of chosen languages, each composed from the model's own pieces,
so that translations can return words the vocabulary splits.

For each language, wordfreq's `top_n_list(language, size)` (letters only, case-folded as wordfreq
stores them) is segmented by the artifact's tokenizer (`loaders/segmenter.py`); a word of one piece
is that token's unit row, a longer one the mean of its pieces' raw rows, normalised, as `text=`
queries pool by default (special and unknown pieces and a bare '▁' left out). Its CSLS
neighborhood mean r is taken over the vocabulary through the HNSW index (10 nearest tokens).
Stored as `word_pool.npy` (float16 unit rows), `word_pool.json` (words, their language, how many
pieces) and `word_pool_r.npy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from loaders.artifact import WordPoolWords
from loaders.segmenter import Segmenter, poolable

DEFAULT_LANGUAGES = ("de", "en", "es", "fr", "it", "nl", "pl", "pt", "ru", "uk")
DEFAULT_SIZE = 5000
CSLS_K = 10
WORDLIST = "best"


def compose_words(
    rows: np.ndarray,
    norms: np.ndarray,
    display: Sequence[str],
    segmenter: Segmenter,
    languages: Sequence[str],
    size: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[np.ndarray, WordPoolWords]:
    """(float32 unit rows, their words) for the `size` most frequent words of each language."""
    import wordfreq

    words: list[str] = []
    language: list[int] = []
    pieces: list[int] = []
    # One preallocated float32 block, filled in place: at 4,096 dimensions a list plus np.stack
    # would hold the 50,000 rows twice (1.6 GB).
    matrix = np.empty((len(languages) * size, rows.shape[1]), dtype=np.float32)
    for j, lang in enumerate(languages):
        for word in wordfreq.top_n_list(lang, size, wordlist=WORDLIST):
            if not word.isalpha():
                continue
            ids = poolable(segmenter.ids(word), display, norms)
            if not ids:
                continue
            vector = np.asarray(rows[ids], dtype=np.float32).mean(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm == 0:
                continue
            matrix[len(words)] = vector / norm
            words.append(word)
            language.append(j)
            pieces.append(len(ids))
        progress(j + 1, len(languages))
    return matrix[: len(words)], WordPoolWords(list(languages), words, language, pieces)


def pool_means(index: object, matrix: np.ndarray, k: int = CSLS_K) -> np.ndarray:
    """CSLS r of each pool row: the mean cosine to its k nearest tokens (HNSW: one batched search)."""
    if len(matrix) == 0:
        return np.empty(0, dtype=np.float32)
    found = index.search(matrix, k)  # type: ignore[attr-defined]
    distances = np.asarray(found.distances, dtype=np.float32).reshape(len(matrix), -1)
    means: np.ndarray = (1.0 - distances).mean(axis=1).astype(np.float32)  # cosine distance -> similarity
    return means
