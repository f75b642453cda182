"""Build cost of a word pool per language: composing the 5,000 most frequent words of one language
with each packaged model's own tokenizer (wordfreq's list loaded first, timed apart), and the rows'
size. Usage: python bench/word_pool.py [LANG ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import wordfreq

from loaders import artifact
from loaders.segmenter import load_segmenter
from loaders.word_pool import DEFAULT_SIZE, WORDLIST, compose_words


def main() -> None:
    languages = sys.argv[1:] or ["en", "ru", "de"]
    print(f"{DEFAULT_SIZE} most frequent words per language; float16 rows")
    print("| model | language | words kept | composed of several pieces | list load | compose | MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for directory in sorted(Path("artifacts").iterdir()):
        manifest = artifact.read_manifest(directory)
        vocab = artifact.read_vocab(directory, manifest)
        segmenter = load_segmenter(directory, manifest, vocab.raw)
        if segmenter is None:
            continue
        rows = np.load(directory / artifact.MATRIX, mmap_mode="r")
        norms = np.load(directory / artifact.NORMS)
        for lang in languages:
            started = time.perf_counter()
            wordfreq.top_n_list(lang, DEFAULT_SIZE, wordlist=WORDLIST)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            matrix, words = compose_words(rows, norms, vocab.display, segmenter, [lang], DEFAULT_SIZE)
            composed = time.perf_counter() - started
            several = sum(1 for n in words.pieces if n > 1)
            megabytes = matrix.shape[0] * matrix.shape[1] * 2 / 1e6
            print(
                f"| {manifest.name} | {lang} | {len(words.words)} | {several} | {loaded:.2f} s | "
                f"{composed:.2f} s | {megabytes:.1f} |"
            )


if __name__ == "__main__":
    main()
