"""Word pools on a hand-built vocabulary: every row is its word's pieces pooled, languages in order."""

import numpy as np

from geometry.neighbors import normalise
from loaders.artifact import WordPoolWords
from loaders.segmenter import UnigramSegmenter, UnigramTable
from loaders.word_pool import compose_words

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PIECES = ["<unk>", "▁", *(f"▁{c}" for c in LETTERS), *LETTERS, "▁the"]


def test_every_word_is_its_pieces_mean_and_one_piece_words_are_the_token() -> None:
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((len(PIECES), 8)).astype(np.float32)
    norms = np.linalg.norm(rows, axis=1)
    norms[0] = 0.0  # <unk> is special: never pooled
    scores = [0.0, -5.0, *([-2.0] * 26), *([-2.0] * 26), -1.0]
    segmenter = UnigramSegmenter(UnigramTable(unk=0, scores=scores, normalization={}), PIECES)
    matrix, words = compose_words(rows, norms, PIECES, segmenter, ["en", "de"], 200)
    assert isinstance(words, WordPoolWords) and words.languages == ["en", "de"]
    assert len(matrix) == len(words.words) == len(words.language) == len(words.pieces)
    first_de = words.language.index(1)
    assert set(words.language[:first_de]) == {0} and set(words.language[first_de:]) == {1}
    the = words.words.index("the")
    assert words.pieces[the] == 1
    np.testing.assert_allclose(matrix[the], normalise(rows[PIECES.index("▁the")]), rtol=1e-5)
    und = words.words.index("und", first_de)  # German "und": ▁u + n + d
    expected = normalise(rows[[PIECES.index("▁u"), PIECES.index("n"), PIECES.index("d")]].mean(axis=0))
    assert words.pieces[und] == 3
    np.testing.assert_allclose(matrix[und], expected, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, rtol=1e-5)
