"""Every route of the query plan on a model built in memory (tests/tiny_model.py): the route the plan
chooses, and the answer it gives, known by construction (a concept's words in four languages sit
together) and checked against exact brute force."""

from __future__ import annotations

from dataclasses import replace

import msgspec
import numpy as np
import pytest

from geometry.pooling import pool
from service import request_types as r
from service import response_types as s
from service.budget import Work
from service.errors import InvalidInput, OverBudget
from service.queries import answer, evaluate_dictionary, plan
from service.registry import LoadedModel
from service.settings import Limits
from tests.tiny_model import tiny_model

LIMITS = Limits()


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return tiny_model()


def brute_force(model: LoadedModel, token: str, k: int) -> list[str]:
    """The k nearest tokens by exact cosine over every indexed row, the query left out."""
    ident = model.strings.get(token)
    assert ident is not None
    unit = model.space.unit(model.space.indexed)
    scores = unit @ model.space.unit(np.array([ident]))[0]
    order = [int(model.space.indexed[i]) for i in np.argsort(-scores, kind="stable")]
    return [model.raw[i] for i in order if i != ident][:k]


def tokens(out: object, field: str = "neighbors") -> list[str]:
    return [row.token for row in getattr(out, field)]


def test_one_token_unfiltered_is_a_table_lookup_on_the_event_loop(model: LoadedModel) -> None:
    request = r.NeighborsRequest(token="▁water", k=3)
    steps = plan(model, request, LIMITS)
    assert (steps.route, steps.inline, steps.batch, steps.depth) == ("table", True, False, 3)
    out = answer(model, request, LIMITS)
    assert isinstance(out, s.NeighborsOut) and out.method == "table"
    assert tokens(out) == brute_force(model, "▁water", 3)
    assert set(tokens(out)) == {"▁Wasser", "▁вода", "▁νερό"}


def test_a_filter_or_a_vector_is_a_search(model: LoadedModel) -> None:
    filtered = r.NeighborsRequest(token="▁water", k=1, scripts=["Cyrillic"])
    steps = plan(model, filtered, LIMITS)
    assert (steps.route, steps.inline) == ("search", False)
    assert steps.mask is not None and int(steps.mask.sum()) == 12  # the Russian words alone
    assert tokens(answer(model, filtered, LIMITS)) == ["▁вода"]
    water = model.space.unit(np.array([model.strings.get("▁water")]))[0]
    vector = r.NeighborsRequest(vector=water.tolist(), k=4)
    out = answer(model, vector, LIMITS)
    assert plan(model, vector, LIMITS).route == "search" and isinstance(out, s.NeighborsOut)
    assert out.method == "exact" and tokens(out) == ["▁water", *brute_force(model, "▁water", 3)]


def test_a_text_of_several_pieces_is_composed_and_searched(model: LoadedModel) -> None:
    request = r.NeighborsRequest(text="waters", k=2)
    assert plan(model, request, LIMITS).route == "search"
    out = answer(model, request, LIMITS)
    assert isinstance(out, s.NeighborsOut) and out.query.kind == "text" and out.method == "exact"
    pieces = [model.strings.get("▁water"), model.strings.get("s")]
    assert [p.id for p in out.query.pieces or []] == pieces
    composed = pool(model.space, np.array(pieces), "mean")  # the mean of the pieces' rows, as queried
    scores = model.space.unit(model.space.indexed) @ composed
    assert tokens(out) == [model.raw[int(model.space.indexed[i])] for i in np.argsort(-scores)[:2]]


def test_best_score_ranks_by_the_examples_and_leaves_them_out(model: LoadedModel) -> None:
    request = r.NeighborsRequest(positive=["▁water"], strategy="best_score", k=3)
    assert plan(model, request, LIMITS).route == "best_score"
    out = answer(model, request, LIMITS)
    assert tokens(out) == brute_force(model, "▁water", 3)  # the same order: one positive
    translate = r.TranslationsRequest(positive=["▁sun"], strategy="best_score", target_scripts=["Greek"], k=1)
    assert plan(model, translate, LIMITS).route == "best_score"
    assert tokens(answer(model, translate, LIMITS), "candidates") == ["▁ήλιος"]


def test_a_batch_answers_in_order(model: LoadedModel) -> None:
    fire = model.strings.get("▁Feuer")
    request = r.NeighborsRequest(queries=[r.Query(token="▁fire"), r.Query(id=fire)], k=1, scripts=["Greek"])
    steps = plan(model, request, LIMITS)
    assert (steps.route, steps.batch, steps.queries, steps.field) == ("search", True, 2, "queries")
    out = answer(model, request, LIMITS)
    assert isinstance(out, s.NeighborsBatchOut)
    assert [tokens(one) for one in out.results] == [["▁φωτιά"], ["▁φωτιά"]]


def test_translations_default_to_every_other_script(model: LoadedModel) -> None:
    request = r.TranslationsRequest(token="▁water", k=2)
    assert plan(model, request, LIMITS).route == "search"
    out = answer(model, request, LIMITS)
    assert isinstance(out, s.TranslationsOut) and out.method == "csls"
    assert set(tokens(out, "candidates")) == {"▁вода", "▁νερό"}
    assert out.target_scripts == ["Cyrillic", "Greek"]


def test_lexicon_words_and_given_candidates(model: LoadedModel) -> None:
    words = r.TranslationsRequest(text="water", pool="words", target_languages=["de"], k=1, space="input")
    assert plan(model, words, LIMITS).route == "lexicon"
    out = answer(model, words, LIMITS)
    assert tokens(out, "candidates") == ["Wasser"] and out.target_languages == ["de"]  # type: ignore[union-attr]
    given = r.TranslationsRequest(token="▁house", candidates=["хлеб", "дом", "Buch"], k=3)
    assert plan(model, given, LIMITS).route == "given"
    assert tokens(answer(model, given, LIMITS), "candidates")[0] == "дом"


def test_the_encoder_space_ranks_encoded_words(model: LoadedModel) -> None:
    neighbors = r.NeighborsRequest(text="water", space="encoder", k=3)
    assert plan(model, neighbors, LIMITS).route == "encoder_words"
    # the encoder gives a concept's words one direction: exact ties, in lexicon order (de, ru, el)
    assert tokens(answer(model, neighbors, LIMITS)) == ["Wasser", "вода", "νερό"]
    words = r.TranslationsRequest(text="dog", space="encoder", target_languages=["ru"], k=1)
    assert plan(model, words, LIMITS).route == "encoder_words"
    assert tokens(answer(model, words, LIMITS), "candidates") == ["собака"]
    given = r.TranslationsRequest(text="dog", space="encoder", candidates=["кошка", "собака"], k=1)
    assert plan(model, given, LIMITS).route == "encoder_given"
    assert tokens(answer(model, given, LIMITS), "candidates") == ["собака"]


def test_the_plan_refuses_before_any_work(model: LoadedModel) -> None:
    with pytest.raises(InvalidInput, match="give limit"):
        plan(model, r.NeighborsRequest(token="▁water", cursor="3"), LIMITS)
    with pytest.raises(InvalidInput, match="pool=words"):
        plan(model, r.TranslationsRequest(token="▁water", pool="words", mmr=0.5), LIMITS)
    with pytest.raises(InvalidInput, match="k must be between 1 and 5"):
        plan(model, r.NeighborsRequest(token="▁water", k=6), Limits(max_k=5))
    tight = Limits(max_work_seconds=1e-4)
    with pytest.raises(OverBudget) as refused:
        plan(model, r.NeighborsRequest(text="water " * 100, k=1), tight)
    assert refused.value.field == "k"
    # a search's scans are known once its queries are: admitted or refused then, before the search
    vectors = [r.Query(vector=np.ones(16).tolist()) for _ in range(64)]
    steps = plan(model, r.NeighborsRequest(queries=vectors, k=1), Limits(max_work_seconds=2e-4))
    with pytest.raises(OverBudget):
        steps.admit_search(model, [None] * 64)


def test_a_word_lookup_answers_in_the_best_space_the_model_has(model: LoadedModel) -> None:
    """pool=words without a space: the encoder space where it is built and the options allow it."""
    lookup = r.TranslationsRequest(text="dog", pool="words", target_languages=["ru"], k=1)
    steps = plan(model, lookup, LIMITS)
    assert (steps.route, steps.space) == ("encoder_words", "encoder")
    out = answer(model, lookup, LIMITS)
    assert (
        isinstance(out, s.TranslationsOut)
        and out.space == "encoder"
        and tokens(out, "candidates") == ["собака"]
    )
    filtered = r.TranslationsRequest(
        text="dog", pool="words", target_languages=["ru"], exclude_anomalous=True
    )
    assert plan(model, filtered, LIMITS).space == "input"  # an option of the input table: its space
    tokens_asked = r.TranslationsRequest(text="dog", target_languages=["ru"])
    assert plan(model, tokens_asked, LIMITS).space == "input"  # not a word lookup
    without = replace(model, encoder_space=None, encoder_missing="not built")
    assert plan(without, lookup, LIMITS).space == "input"


def test_a_word_lookup_finds_its_query_in_its_own_language(model: LoadedModel) -> None:
    """source_language names the query's lexicon; left out, the language where the word is found."""
    asked = r.TranslationsRequest(text="HUND", pool="words", space="input", source_language="de", k=1)
    out = answer(model, asked, LIMITS)
    assert isinstance(out, s.TranslationsOut)
    assert (out.query.word, out.query.word_language) == ("Hund", "de")  # written as the lexicon writes it
    assert "de" not in (out.target_languages or []) and tokens(out, "candidates")[0] in {
        "dog",
        "собака",
        "σκύλος",
    }
    guessed = answer(model, r.TranslationsRequest(text="вода", pool="words", space="input", k=3), LIMITS)
    assert isinstance(guessed, s.TranslationsOut) and guessed.query.word_language == "ru"
    assert set(tokens(guessed, "candidates")) == {"water", "Wasser", "νερό"}
    with pytest.raises(InvalidInput, match="not fi"):
        plan(model, r.TranslationsRequest(text="вода", pool="words", source_language="fi"), LIMITS)
    with pytest.raises(InvalidInput, match="word lookups"):
        plan(model, r.TranslationsRequest(text="вода", source_language="ru"), LIMITS)


def test_evaluation_counts_every_source_word(model: LoadedModel) -> None:
    """P@k over all source words (an unreachable target is a miss) beside P@k over the reachable."""
    dictionary = "water Wasser de\nhouse Haus de\nbread Brot de\nsky Himmel de\n"
    out = evaluate_dictionary(model, r.EvaluateRequest(dictionary=dictionary, pool="words", space="input"))
    assert (out.sources, out.queries) == (4, 3)  # Himmel is not in the lexicon
    assert out.precision["csls"]["p@1"] == 1.0 and out.precision_all == {
        "cosine": {"p@1": 0.75, "p@5": 0.75, "p@10": 0.75},
        "csls": {"p@1": 0.75, "p@5": 0.75, "p@10": 0.75},
    }
    assert out.by_language is not None and out.by_language["de"].precision_all == out.precision_all


def test_a_word_lookup_is_charged_for_its_target_words_and_what_it_encodes(model: LoadedModel) -> None:
    words = model.encoded().words
    dim, ru = words.space.matrix.shape[1], len(words.language_rows(["ru"]))
    held = r.TranslationsRequest(text="dog", space="encoder", target_languages=["ru"], k=1, method="csls")
    work = plan(model, held, LIMITS).work.by_part()
    # "dog" is a lexicon word: nothing encoded, its CSLS mean stored; one scan of the Russian words
    assert "encoding" not in work and ru < len(words.words)
    assert work["brute force"] == pytest.approx(Work().scans(1, ru, dim, batched=False).seconds)
    new = msgspec.structs.replace(held, text="doggo")  # encoded, and its CSLS mean is a scan of every word
    work = plan(model, new, LIMITS).work.by_part()
    scans = Work().scans(1, ru, dim, batched=False).scans(1, len(words.words), dim)
    assert work["encoding"] > 0 and work["brute force"] == pytest.approx(scans.seconds)
