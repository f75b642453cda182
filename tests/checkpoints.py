"""Writers of small model files for loader tests: HF checkpoints, GGUF, word vectors. No network."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from loaders.artifact import WORD_MARK, byte_decoder

XLMR_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
MT5_SPECIALS = ["<pad>", "</s>", "<unk>"]
WORDS = ["▁the", ",", "▁water", "▁Wasser", "▁вода", "▁水", "▁ที่", "s", "ing", "▁agua", "▁食べ", "る"]


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], bf16: Sequence[str] = ()) -> None:
    """Write a safetensors file by hand (numpy has no bfloat16; names in `bf16` are stored as BF16)."""
    header: dict[str, object] = {}
    blobs: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        if name in bf16:
            data = (
                (np.ascontiguousarray(array, dtype=np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
            )
            dtype = "BF16"
        else:
            data = np.ascontiguousarray(array).tobytes()
            dtype = {"float32": "F32", "float16": "F16"}[str(array.dtype)]
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def _save_tokenizer(
    directory: Path, tokenizer: Tokenizer, config: dict[str, object], specials: dict[str, str]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", **specials})
    )
    (directory / "config.json").write_text(json.dumps(config))


def unigram_tokenizer(pieces: Sequence[str], unk_id: int, specials: Sequence[str]) -> Tokenizer:
    tokenizer = Tokenizer(models.Unigram([(p, -float(i)) for i, p in enumerate(pieces)], unk_id=unk_id))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.add_special_tokens(list(specials))
    return tokenizer


def xlmr_checkpoint(
    directory: Path, matrix: np.ndarray | None = None, pieces: Sequence[str] | None = None, shards: int = 1
) -> tuple[list[str], np.ndarray]:
    """An XLM-R-style checkpoint (Unigram + Metaspace, <s> <pad> </s> <unk> first, <mask> last)."""
    tokens = list(pieces) if pieces is not None else [*XLMR_SPECIALS, *WORDS, "<mask>"]
    if matrix is None:
        matrix = np.random.default_rng(0).standard_normal((len(tokens), 16)).astype(np.float32)
    tokenizer = unigram_tokenizer(tokens, 3, [*XLMR_SPECIALS, "<mask>"])
    _save_tokenizer(
        directory,
        tokenizer,
        {"model_type": "xlm-roberta"},
        {
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
        },
    )
    tensors = {
        "roberta.embeddings.word_embeddings.weight": matrix,
        "roberta.embeddings.position_embeddings.weight": np.zeros((4, matrix.shape[1]), np.float32),
    }
    if shards == 1:
        write_safetensors(directory / "model.safetensors", tensors)
    else:
        weight_map = {}
        for i, (name, array) in enumerate(tensors.items()):
            shard = f"model-{i + 1:05d}-of-{len(tensors):05d}.safetensors"
            write_safetensors(directory / shard, {name: array})
            weight_map[name] = shard
        (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return tokens, matrix


def mt5_checkpoint(directory: Path, padding_rows: int = 4) -> tuple[list[str], np.ndarray]:
    """An mT5-style checkpoint: shared.weight with padding rows past the vocabulary, float16."""
    tokens = [*MT5_SPECIALS, *WORDS]
    matrix = np.random.default_rng(1).standard_normal((len(tokens) + padding_rows, 8)).astype(np.float16)
    tokenizer = unigram_tokenizer(tokens, 2, MT5_SPECIALS)
    _save_tokenizer(
        directory,
        tokenizer,
        {"model_type": "mt5"},
        {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"},
    )
    write_safetensors(directory / "model.safetensors", {"shared.weight": matrix, "lm_head.weight": matrix})
    return tokens, matrix


def byte_level_tokens(extra: Sequence[str]) -> list[str]:
    table = byte_decoder()
    return [*sorted(table, key=lambda c: table[c]), *extra]


def gpt2_checkpoint(directory: Path) -> tuple[list[str], np.ndarray]:
    """A GPT-2-style byte-level BPE checkpoint (`Ġ` = space byte)."""
    tokens = byte_level_tokens(["Ġthe", "Ġwater", "ĠÐ²Ð¾Ð´Ð°", "Ġæ°´", "<|endoftext|>"])
    tokenizer = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(["<|endoftext|>"])
    _save_tokenizer(
        directory,
        tokenizer,
        {"model_type": "gpt2"},
        {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
    )
    matrix = np.random.default_rng(2).standard_normal((len(tokens), 8)).astype(np.float32)
    write_safetensors(directory / "model.safetensors", {"transformer.wte.weight": matrix})
    return tokens, matrix


def llama_checkpoint(directory: Path) -> tuple[list[str], np.ndarray]:
    """A Llama-style checkpoint: SentencePiece-like BPE with byte fallback, BF16 embeddings."""
    tokens = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256)), "▁the", "▁water", "▁вода"]
    tokenizer = Tokenizer(
        models.BPE(
            vocab={t: i for i, t in enumerate(tokens)}, merges=[], byte_fallback=True, unk_token="<unk>"
        )
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.add_special_tokens(["<unk>", "<s>", "</s>"])
    _save_tokenizer(
        directory,
        tokenizer,
        {"model_type": "llama"},
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    )
    matrix = np.random.default_rng(3).standard_normal((len(tokens), 8)).astype(np.float32)
    write_safetensors(
        directory / "model.safetensors",
        {"model.embed_tokens.weight": matrix, "lm_head.weight": matrix},
        bf16=["model.embed_tokens.weight"],
    )
    return tokens, matrix


def llama_layout(directory: Path, tokenizer_json: Path, matrix: np.ndarray) -> Path:
    """A Llama-family HF checkpoint around a real tokenizer.json: model.embed_tokens.weight."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tokenizer.json").write_bytes(tokenizer_json.read_bytes())
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "LlamaTokenizerFast",  # as Llama checkpoints name it
                "bos_token": "<s>",
                "eos_token": "</s>",
                "unk_token": "<unk>",
            }
        )
    )
    (directory / "config.json").write_text(json.dumps({"model_type": "llama"}))
    write_safetensors(
        directory / "model.safetensors", {"model.embed_tokens.weight": matrix.astype(np.float16)}
    )
    return directory


def llama_gguf(path: Path, tokens: Sequence[str], matrix: np.ndarray) -> Path:
    """A llama.cpp-style GGUF of a Llama vocabulary: <unk> UNKNOWN, <s> </s> CONTROL, bytes BYTE."""
    import gguf

    types = [2, 3, 3] + [6 if re.fullmatch(r"<0x[0-9A-F]{2}>", t) else 1 for t in tokens[3:]]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(list(tokens))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_tensor("token_embd.weight", matrix.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def bf16_round(matrix: np.ndarray) -> np.ndarray:
    return ((np.asarray(matrix, np.float32).view(np.uint32) >> 16) << 16).view(np.float32)


GGUF_WORDS = ["▁the", "▁water", "▁вода", "▁水", *(f"▁w{i}" for i in range(25))]
# (token, llama.cpp token type) for a file with every type: 1 NORMAL .. 6 BYTE
EVERY_TOKEN_TYPE = [
    ("<unk>", 2),
    ("<s>", 3),
    ("</s>", 3),
    ("<|tool|>", 4),
    ("▁<hr>", 4),
    ("<unused0>", 5),
    ("<unused1>", 5),
    ("<0x0A>", 6),
    ("<0xE4>", 6),
]


def gguf_file(
    path: Path, qtype_name: str = "Q8_0", with_every_token_type: bool = False
) -> tuple[list[str], np.ndarray]:
    """A llama-tokenizer GGUF. By default specials are CONTROL and have their id keys; with
    `with_every_token_type` the vocabulary holds every token type and no unknown_token_id key."""
    import gguf

    head = EVERY_TOKEN_TYPE if with_every_token_type else [("<unk>", 3), ("<s>", 3), ("</s>", 3)]
    tokens = [t for t, _ in head] + GGUF_WORDS
    types = [k for _, k in head] + [1] * len(GGUF_WORDS)
    matrix = np.random.default_rng(4).standard_normal((len(tokens), 64)).astype(np.float32)
    qtype = gguf.GGMLQuantizationType[qtype_name]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    if not with_every_token_type:
        writer.add_unk_token_id(0)
    writer.add_tensor("token_embd.weight", gguf.quants.quantize(matrix, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return tokens, matrix


def vec_file(path: Path) -> tuple[list[str], np.ndarray]:
    words = ["water", "Wasser", "agua", "вода", "水", "eau"]
    matrix = np.random.default_rng(5).standard_normal((len(words), 5)).astype(np.float32).round(4)
    lines = [f"{len(words)} 5"] + [
        f"{w} " + " ".join(f"{v:.4f}" for v in row) for w, row in zip(words, matrix, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return words, matrix


__all__ = ["WORD_MARK"]


LLM_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sv", "fi", "hu", "tr", "vi", "id",
    "ru", "uk", "bg", "el", "ar", "fa", "he", "hi", "bn", "ta", "ur", "ja", "zh", "ko", "mk",
)  # fmt: skip
LLM_SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>"]


def llm_vocabulary(rows: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`rows` pieces the way a large multilingual SentencePiece vocabulary looks: specials, then real
    frequent words of 30 languages in 13 scripts, word-initial ('▁') and as continuations, taken
    round-robin by frequency rank. Returns (pieces, language index or -1, rank within language)."""
    import wordfreq

    lists = [wordfreq.top_n_list(lang, rows // 2, wordlist="best") for lang in LLM_LANGUAGES]
    pieces, language, rank = list(LLM_SPECIALS), [-1] * len(LLM_SPECIALS), [0] * len(LLM_SPECIALS)
    seen = set(pieces)
    for r in range(max(map(len, lists))):
        for marker in ("▁", ""):
            for j, words in enumerate(lists):
                piece = marker + words[r] if r < len(words) else ""
                if piece and piece not in seen and len(pieces) < rows:
                    seen.add(piece)
                    pieces.append(piece)
                    language.append(j)
                    rank.append(r)
        if len(pieces) >= rows:
            break
    while len(pieces) < rows:  # only for shapes beyond the word lists
        pieces.append(f"▁x{len(pieces)}")
        language.append(-1)
        rank.append(len(pieces))
    return pieces, np.asarray(language), np.asarray(rank)


def _write_bf16_tensor(path: Path, name: str, shape: tuple[int, int], blocks: Iterator[np.ndarray]) -> None:
    """A one-tensor BF16 safetensors file written block by block (never the whole table in memory)."""
    size = shape[0] * shape[1] * 2
    raw = json.dumps({name: {"dtype": "BF16", "shape": list(shape), "data_offsets": [0, size]}}).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        for block in blocks:
            fh.write(
                (np.ascontiguousarray(block, dtype=np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
            )


def llm_checkpoint(directory: Path | str, rows: int, dim: int, seed: int = 0, block: int = 8192) -> list[str]:
    """A Llama-layout checkpoint of an LLM-sized multilingual vocabulary: `model.embed_tokens.weight`
    (rows x dim, BF16) in the first of two shards, a norm in the second, the index JSON, config and a
    unigram tokenizer over `llm_vocabulary`. Rows have cluster structure, so neighbors mean
    something: a direction per language, a shared direction per frequency-rank bucket ('topic', so
    words of similar rank in different languages are near each other) and noise."""
    directory = Path(directory)
    pieces, language, rank = llm_vocabulary(rows)
    tokenizer = unigram_tokenizer(pieces, LLM_SPECIALS.index("<unk>"), LLM_SPECIALS)
    _save_tokenizer(
        directory,
        tokenizer,
        {
            "model_type": "llama",
            "architectures": ["LlamaForCausalLM"],
            "vocab_size": rows,
            "hidden_size": dim,
        },
        {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"},
    )
    rng = np.random.default_rng(seed)
    lang_dirs = rng.standard_normal((len(LLM_LANGUAGES) + 1, dim)).astype(np.float32)
    topics = rng.standard_normal((max(16, rows // 64), dim)).astype(np.float32)

    def blocks() -> Iterator[np.ndarray]:
        for lo in range(0, rows, block):
            hi = min(lo + block, rows)
            noise = np.random.default_rng([seed, lo]).standard_normal((hi - lo, dim), dtype=np.float32)
            yield 0.02 * (
                0.8 * lang_dirs[language[lo:hi]] + topics[(rank[lo:hi] // 4) % len(topics)] + 0.6 * noise
            )

    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    _write_bf16_tensor(directory / shards[0], "model.embed_tokens.weight", (rows, dim), blocks())
    write_safetensors(directory / shards[1], {"model.norm.weight": np.ones(dim, np.float32)})
    weight_map = {"model.embed_tokens.weight": shards[0], "model.norm.weight": shards[1]}
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return pieces


def mt5_spiece_checkpoint(directory: Path) -> bytes:
    """An mT5-layout checkpoint that ships only a SentencePiece model (<unk> 0, <pad> 1, </s> 2, as
    mT5's spiece.model) and a T5Tokenizer config; shared.weight covers the 100 extra ids the
    tokenizer adds. Returns the model's bytes."""
    import io

    import sentencepiece

    directory.mkdir(parents=True, exist_ok=True)
    lines = ["the water is cold", "вода холодная", "le pays de l'eau", "das Wasser ist kalt"] * 50
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=36,
        hard_vocab_limit=False,
        unk_id=0,
        pad_id=1,
        eos_id=2,
        bos_id=-1,
        model_type="unigram",
        character_coverage=1.0,
        minloglevel=2,
    )
    (directory / "spiece.model").write_bytes(model.getvalue())
    (directory / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "T5Tokenizer"}))
    (directory / "config.json").write_text(json.dumps({"model_type": "mt5"}))
    pieces = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue()).get_piece_size()
    matrix = np.random.default_rng(4).standard_normal((pieces + 100, 8)).astype(np.float32)
    write_safetensors(directory / "model.safetensors", {"shared.weight": matrix})
    return model.getvalue()
