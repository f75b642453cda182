"""Lexicons on a hand-built vocabulary: words as people write them, composition, the languages no
list covers, CSLS means without a search, the candidates an application gives, exact search."""

import numpy as np
import pytest

from geometry.neighbors import Space, exact_search, normalize
from geometry.translation import table_means
from loaders.artifact import UnigramSegmenter, UnigramTable, match_key
from loaders.build import lexicon as lx
from loaders.build.index import knn_table
from loaders.build.lexicon import Source, compose, default_size, language_stats, script_sources, words_of
from service.lexicons import Given, Lexicon
from service.queries.given_candidates import ranked

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PIECES = ["<unk>", "▁", *(f"▁{c}" for c in LETTERS), *LETTERS, "▁the", "-", "'"]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("Wasser", "wasser"),
        ("WASSER", "wasser"),
        ("İstanbul", "istanbul"),  # Turkish dotted capital I
        ("ıstanbul", "istanbul"),  # Turkish dotless i
        ("l’eau", "l'eau"),
        ("lʼeau", "l'eau"),
        ("week‑end", "week-end"),  # a non-breaking hyphen
        ("ice  cream", "ice cream"),
        ("ﬁne", "fine"),  # NFKC: the ligature
        ("Cafe\u0301", "café"),  # NFKC: a combining accent composed
    ],
)
def test_a_word_is_found_however_it_is_written(written: str, stored: str) -> None:
    assert match_key(written) == match_key(stored)


def test_different_words_keep_different_keys() -> None:
    assert len({match_key(w) for w in ("rot", "röt", "rôt", "ro t", "ro-t")}) == 5


def _vocabulary() -> tuple[np.ndarray, np.ndarray, UnigramSegmenter]:
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((len(PIECES), 8)).astype(np.float32)
    norms = np.linalg.norm(rows, axis=1)
    norms[0] = 0.0  # <unk> is special: never pooled
    scores = [0.0, -5.0, *([-2.0] * 26), *([-2.0] * 26), -1.0, -3.0, -3.0]
    segmenter = UnigramSegmenter(UnigramTable(unk=0, scores=scores, normalization={}), PIECES)
    return rows, norms, segmenter


def test_every_word_is_its_pieces_mean_hyphens_and_spaces_included_and_the_rest_is_reported() -> None:
    rows, norms, segmenter = _vocabulary()
    source = Source("en", ["the", "und", "week-end", "ice cream", "日本"], "test", [0.5, 0.2, 0.1, 0.1, 0.1])
    made = compose(rows, norms, PIECES, segmenter, source)
    assert made.words == ["the", "und", "week-end", "ice cream"] and made.not_composed == ["日本"]
    the = made.words.index("the")
    assert made.pieces[the] == [PIECES.index("▁the")]
    np.testing.assert_allclose(made.rows[the], normalize(rows[PIECES.index("▁the")]), rtol=1e-5)
    und = [PIECES.index("▁u"), PIECES.index("n"), PIECES.index("d")]
    assert made.pieces[1] == und
    np.testing.assert_allclose(made.rows[1], normalize(rows[und].mean(axis=0)), rtol=1e-5)
    assert PIECES.index("-") in made.pieces[2]  # the hyphen is a piece of its own
    np.testing.assert_allclose(np.linalg.norm(made.rows, axis=1), 1.0, rtol=1e-5)
    stats = language_stats(source, made)
    assert (stats.entries, stats.words, stats.one_piece, stats.not_composed) == (5, 4, 1, 1)
    assert stats.not_composed_examples == ["日本"]
    # pieces per word weighted by frequency: (0.5 x 1 + 0.2 x 3 + 0.1 x 8 + 0.1 x 9) / 0.9
    lengths = [len(p) for p in made.pieces]
    assert stats.pieces_weighted == round((0.5 * 1 + 0.2 * 3 + 0.1 * lengths[2] + 0.1 * lengths[3]) / 0.9, 4)
    joined = words_of([("en", made), ("de", made)])
    assert joined.languages == ["en", "de"] and joined.language == [0] * 4 + [1] * 4


def test_a_script_no_list_covers_gets_the_vocabularys_own_word_initial_pieces() -> None:
    display = ["<s>", *(f"▁ก{chr(0x0E01 + i)}" for i in range(250)), "▁water", "ก"]
    scripts = ["Special", *["Thai"] * 250, "Latin", "Thai"]
    word_initial = np.array([False, *[True] * 250, True, False])
    found = script_sources(display, scripts, word_initial, covered={"Latin"}, size=100)
    assert [(s.language, s.origin, len(s.words)) for s in found] == [("th", "vocabulary", 100)]
    assert found[0].words[0] == "กก" and script_sources(display, scripts, word_initial, {"Thai"}, 100) == []


def test_default_sizes_come_from_the_byte_budget() -> None:
    assert default_size(384, 42) == 8300 and default_size(512, 42) == 6200 and default_size(256, 42) == 12400
    assert default_size(4096, 42) == 1000 and default_size(64, 1) == 20_000


def test_csls_means_from_the_table_equal_the_exact_ones_when_the_table_holds_every_token() -> None:
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((30, 6)).astype(np.float32)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    ids, sims = knn_table(unit, np.arange(30, dtype=np.uint64), 29)  # every other token, in order
    csls_r = sims[:, :3].mean(axis=1)
    pieces = [[4], [1, 2], [7, 8, 9]]
    vectors = np.stack([unit[4], normalize(matrix[[1, 2]].mean(0)), normalize(matrix[[7, 8, 9]].mean(0))])
    got = table_means(lambda x: unit[x], ids.astype(np.int64), csls_r, vectors, pieces, k=3)
    exact = [csls_r[4], *(np.sort(unit @ v)[-3:].mean() for v in vectors[1:])]
    np.testing.assert_allclose(got, exact, rtol=1e-5)


def test_given_candidates_rank_by_cosine_or_csls_with_known_answers() -> None:
    rows = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    space = Space(rows, np.ones(3, dtype=np.float32), None, None, None, np.arange(3))
    given = Given(
        space, np.array([0.9, 0.1, 0.0], dtype=np.float32), ["a", "b", "c"], [1, 2, 1], ["token"] * 3
    )
    query = np.array([1.0, 0.0], dtype=np.float32)
    order, cosine, csls = ranked(given, query, None, 3)
    assert order.tolist() == [0, 1, 2] and cosine.tolist() == pytest.approx([1.0, 0.8, 0.0]) and csls is None
    # CSLS: 2 cos - r_query - r: a 2 - 0.5 - 0.9 = 0.6; b 1.6 - 0.5 - 0.1 = 1.0; c -0.5
    order, _, csls = ranked(given, query, 0.5, 2)
    assert order.tolist() == [1, 0] and csls is not None and csls.tolist() == pytest.approx([1.0, 0.6])
    assert given.rows_of("A") == {0} and given.rows_of("d") == set()


def test_a_languages_words_are_searched_exactly_over_its_rows() -> None:
    """The lexicon's search (USearch's exact SIMD scan of its float16 rows, re-scored in float32) finds
    what numpy's brute force finds: recall 1.0 on every language's block."""
    rng = np.random.default_rng(9)
    rows = rng.standard_normal((3000, 16)).astype(np.float32)
    unit = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16)
    norms = np.linalg.norm(unit.astype(np.float32), axis=1)
    space = Space(unit, norms, None, None, None, np.arange(3000))
    for block in (np.arange(0, 1200), np.arange(1200, 3000)):
        for query in rng.standard_normal((5, 16)).astype(np.float32):
            query = normalize(query)
            found = exact_search(space, query, 20, block)
            truth = block[np.argsort(-(space.unit(block) @ query), kind="stable")[:20]]
            assert set(found.ids.tolist()) == set(truth.tolist())


def test_list_words_are_written_as_people_write_them_and_their_own_languages() -> None:
    """The tokenizer's own probabilities choose the casing (a capitalized form must win clearly);
    words in another script or of another language (English leaks into every list) are left out."""
    pieces = ["<unk>", "▁Haus", "▁haus", "▁Sie", "▁sie", "▁hund", "▁Hund"]
    scores = [0.0, -2.0, -5.0, -4.5, -5.0, -3.0, -3.2]  # ▁Haus far likelier; ▁Sie only a little
    segmenter = UnigramSegmenter(UnigramTable(unk=0, scores=scores, normalization={}), pieces)
    forms, pieces = lx.written_forms(segmenter, ["haus", "sie", "hund"])
    assert forms == ["Haus", "sie", "hund"] and pieces == [[1], [4], [5]]
    german = {"haus": 1e-4, "house": 2e-6, "hotel": 8e-5, "дом": 1e-7}
    english = {"house": 5e-4, "hotel": 9e-5}
    assert lx.own_words("de", ["haus", "house", "hotel", "дом", "42"], german, english) == ["haus", "hotel"]


def test_inflected_forms_group_under_their_dictionary_form() -> None:
    """собак, собаку, собаки rank under собака, which takes the place of its best form."""
    from service.queries.word_search import by_dictionary_form

    words = ["собака", "собак", "собаку", "кот", "собаки"]
    lemmas = lx.lemma_rows("ru", words)
    assert lemmas == [-1, 0, 0, -1, 0]
    unit = np.eye(5, dtype=np.float32)
    pool = Lexicon.of_rows(unit, np.zeros(5, np.float32), words, np.zeros(5, np.int16), ["ru"],
                           np.ones(5, np.int16), np.asarray(lemmas, dtype=np.int32))  # fmt: skip
    ranking = (np.array([1, 3, 2, 0, 4]), np.array([0.9, 0.8, 0.7, 0.6, 0.5], dtype=np.float32), None)
    (ids, cosine, _), forms = by_dictionary_form(pool, ranking, 2)
    assert ids.tolist() == [0, 3] and cosine.tolist() == [np.float32(0.9), np.float32(0.8)]
    assert forms == [["собак", "собаку", "собаки"], []]


def test_croatian_bosnian_and_serbian_are_answered_from_the_serbo_croatian_list() -> None:
    words = ["voda", "ljubav", "kuća", "wasser"]
    language = np.array([0, 0, 0, 1])
    rows = normalize(np.random.default_rng(8).normal(size=(4, 3))).astype(np.float16)
    lexicon = Lexicon.of_rows(
        rows, np.zeros(4, np.float32), words, language, ["sh", "de"], np.ones(4, np.int16)
    )
    assert [lexicon.own_code(code) for code in ("hr", "bs", "sr", "sh", "de", "sl")] == [
        "sh", "sh", "sh", "sh", "de", None,
    ]  # fmt: skip
    assert lexicon.lacks(["hr", "sl", "de", "pt"]) == ["pt", "sl"]
    assert lexicon.language_rows(["hr"]).tolist() == [0, 1, 2]
    # Serbian in Cyrillic by its Latin spelling; Croatian as written; never another language's word
    assert lexicon.find("вода", "sr") == [0] and lexicon.find("Љубав", "sr") == [1]
    assert lexicon.find("kuća", "hr") == [2] and lexicon.find("wasser", "hr") == []
    assert lexicon.find("вода", "ru") == [] and lexicon.find("вода") == []
    without = Lexicon.of_rows(
        rows[3:], np.zeros(1, np.float32), ["wasser"], language[3:] * 0, ["de"], np.ones(1, np.int16)
    )
    assert without.lacks(["hr"]) == ["hr"]


def test_a_rows_place_is_counted_within_its_language() -> None:
    language = np.array([0, 0, 0, 1, 1])
    rows = normalize(np.random.default_rng(9).normal(size=(5, 3))).astype(np.float16)
    words = ["a", "b", "c", "x", "y"]
    lexicon = Lexicon.of_rows(
        rows, np.zeros(5, np.float32), words, language, ["en", "de"], np.ones(5, np.int16)
    )
    places, sizes = lexicon.places(np.array([4, 0, 2]))
    assert places.tolist() == [1, 0, 2] and sizes.tolist() == [2, 3, 3]
    assert lexicon.language_rows(["de"]).tolist() == [3, 4]
    assert lexicon.language_rows(["de", "en"]).tolist() == [0, 1, 2, 3, 4]
    assert lexicon.language_rows(["fr"]).tolist() == []
    mixed = Lexicon.of_rows(
        rows[:3], np.zeros(3, np.float32), words[:3], np.array([0, 1, 0]), ["en", "de"], np.ones(3, np.int16)
    )
    assert mixed.language_rows(["en"]).tolist() == [0, 2]  # rows not in runs: found by a scan
