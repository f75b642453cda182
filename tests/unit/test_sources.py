"""Every source kind on files the tests write themselves (no network)."""

from pathlib import Path

import numpy as np
import pytest

from loaders import artifact
from loaders.artifact import SourceError
from loaders.build import BuildOptions, build
from loaders.build.sources import parse_source
from tests import checkpoints


def test_xlmr_checkpoint(tmp_path: Path) -> None:
    tokens, matrix = checkpoints.xlmr_checkpoint(tmp_path / "xlmr")
    got = parse_source(f"hf:{tmp_path / 'xlmr'}").extract()
    assert got.tokens == tokens
    np.testing.assert_array_equal(got.matrix, matrix)
    assert (
        got.special_ids["bos"] == 0
        and got.special_ids["pad"] == 1
        and got.special_ids["mask"] == len(tokens) - 1
    )
    assert got.family == "xlm-roberta" and got.vocabulary == "sentencepiece-unigram"


def test_sharded_checkpoint_reads_only_the_embedding_shard(tmp_path: Path) -> None:
    tokens, matrix = checkpoints.xlmr_checkpoint(tmp_path / "sharded", shards=2)
    got = parse_source(f"hf:{tmp_path / 'sharded'}").extract()
    np.testing.assert_array_equal(got.matrix, matrix)


def test_mt5_checkpoint_keeps_padding_rows_and_float16(tmp_path: Path) -> None:
    tokens, matrix = checkpoints.mt5_checkpoint(tmp_path / "mt5", padding_rows=4)
    got = parse_source(f"hf:{tmp_path / 'mt5'}").extract()
    assert got.tokens == tokens and got.matrix.shape[0] == len(tokens) + 4
    assert got.original_dtype == "f16"
    np.testing.assert_array_equal(got.matrix, matrix)


def test_gpt2_checkpoint_is_byte_level(tmp_path: Path) -> None:
    tokens, matrix = checkpoints.gpt2_checkpoint(tmp_path / "gpt2")
    got = parse_source(f"hf:{tmp_path / 'gpt2'}").extract()
    assert got.vocabulary == "byte-level-bpe" and got.tokens == tokens
    assert got.tokens.index("Ġthe") == 256


def test_llama_checkpoint_bf16(tmp_path: Path) -> None:
    tokens, matrix = checkpoints.llama_checkpoint(tmp_path / "llama")
    got = parse_source(f"hf:{tmp_path / 'llama'}").extract()
    assert got.original_dtype == "bf16" and got.tokens == tokens
    assert got.vocabulary == "byte-fallback-bpe"
    assert got.special_ids == {"bos": 1, "eos": 2, "unk": 0}
    np.testing.assert_array_equal(got.matrix, checkpoints.bf16_round(matrix))


def test_tensor_override_and_unknown_tensor(tmp_path: Path) -> None:
    checkpoints.xlmr_checkpoint(tmp_path / "x")
    got = parse_source(f"hf:{tmp_path / 'x'}", tensor="roberta.embeddings.word_embeddings.weight").extract()
    assert got.matrix.shape[1] == 16
    with pytest.raises(SourceError, match="not in the checkpoint"):
        parse_source(f"hf:{tmp_path / 'x'}", tensor="nope.weight").extract()


def test_checkpoint_without_embedding_lists_candidates(tmp_path: Path) -> None:
    directory = tmp_path / "odd"
    checkpoints.xlmr_checkpoint(directory)
    checkpoints.write_safetensors(
        directory / "model.safetensors",
        {"a.weight": np.zeros((2, 2), np.float32), "b.bias": np.zeros(2, np.float32)},
    )
    with pytest.raises(SourceError, match="candidates found: a.weight, b.bias"):
        parse_source(f"hf:{directory}").extract()


def test_truncated_safetensors(tmp_path: Path) -> None:
    directory = tmp_path / "cut"
    checkpoints.xlmr_checkpoint(directory)
    data = (directory / "model.safetensors").read_bytes()
    (directory / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="truncated"):
        parse_source(f"hf:{directory}").extract()


def test_torch_bin_checkpoint(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    directory = tmp_path / "bin"
    tokens, matrix = checkpoints.xlmr_checkpoint(directory)
    (directory / "model.safetensors").unlink()
    torch.save(
        {"roberta.embeddings.word_embeddings.weight": torch.from_numpy(matrix)},
        directory / "pytorch_model.bin",
    )
    got = parse_source(f"hf:{directory}").extract()
    np.testing.assert_array_equal(got.matrix, matrix)


@pytest.mark.parametrize(("qtype", "tolerance"), [("Q8_0", 0.02), ("Q4_0", 0.3), ("F16", 5e-3)])
def test_gguf_reads_back_within_quantisation_error(tmp_path: Path, qtype: str, tolerance: float) -> None:
    tokens, matrix = checkpoints.gguf_file(tmp_path / "m.gguf", qtype)
    got = parse_source(f"gguf:{tmp_path / 'm.gguf'}").extract()
    assert got.tokens == tokens and got.matrix.shape == matrix.shape
    assert np.abs(got.matrix - matrix).max() < tolerance
    assert got.special_ids == {"bos": 1, "eos": 2, "unk": 0}
    assert got.original_dtype == qtype.lower()


@pytest.mark.build
def test_gguf_token_types_each_land_in_their_kind(tmp_path: Path) -> None:
    """NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED and BYTE, with no unknown_token_id key: the
    UNKNOWN <unk> must still be special (it used to be read as a normal token)."""
    path = tmp_path / "types.gguf"
    checkpoints.gguf_file(path, "F32", with_every_token_type=True)
    made = build(f"gguf:{path}", tmp_path / "art", BuildOptions(knn=3))[0]
    kinds = np.load(tmp_path / "art" / artifact.KINDS)
    tokens = artifact.read_vocab(tmp_path / "art", made).raw
    by_token = {t: artifact.TOKEN_KINDS[k] for t, k in zip(tokens, kinds.tolist(), strict=True)}
    assert by_token == {
        "<unk>": "special",  # UNKNOWN
        "<s>": "special",  # CONTROL
        "</s>": "special",  # CONTROL
        "<|tool|>": "continuation",  # USER_DEFINED: text, by its spelling
        "▁<hr>": "word-initial",  # USER_DEFINED
        "<unused0>": "unused",  # UNUSED
        "<unused1>": "unused",
        "<0x0A>": "byte",  # BYTE
        "<0xE4>": "byte",
        **{t: "word-initial" for t in checkpoints.GGUF_WORDS},  # NORMAL
    }
    assert made.vocabulary == "byte-fallback-bpe"
    assert made.special_ids["unk"] == 0
    # never indexed: special and unused; bytes and user-defined text are
    assert made.index.count == len(tokens) - 5


def test_vec_file(tmp_path: Path) -> None:
    words, matrix = checkpoints.vec_file(tmp_path / "v.vec")
    got = parse_source(f"vec:{tmp_path / 'v.vec'}").extract()
    assert got.tokens == words and got.vocabulary == "whole-words"
    np.testing.assert_allclose(got.matrix, matrix, atol=1e-6)


def test_vec_file_with_a_short_row(tmp_path: Path) -> None:
    (tmp_path / "bad.vec").write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(SourceError, match=r"bad.vec:3: 2 values, expected 3"):
        parse_source(f"vec:{tmp_path / 'bad.vec'}").extract()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nonsense", "not KIND:LOCATION"),
        ("zip:foo", "unknown source kind 'zip'"),
        ("packaged:gpt-5", "unknown packaged model"),
        ("gguf:/nonexistent.gguf", "does not exist"),
        ("hf:/nonexistent/dir", "does not exist"),
    ],
)
def test_bad_source_specs(spec: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_source(spec).extract()
