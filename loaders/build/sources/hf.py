"""`hf:<directory or hub id>`: transformers tokenizer + the input-embedding tensor of a checkpoint.

The embedding tensor is read lazily from safetensors (sharded or not); `pytorch_model.bin` is a
fallback when torch is installed. Hub ids only work where the hub is reachable (not in tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from loaders.artifact import SourceError
from loaders.build.sources import Extracted, Source
from loaders.build.sources.safetensors_lazy import INDEX_FILE, load_tensor, tensor_names

# Input-embedding tensor names by family, most specific first.
KNOWN_TENSORS = (
    "roberta.embeddings.word_embeddings.weight",  # XLM-R, RoBERTa
    "bert.embeddings.word_embeddings.weight",  # BERT
    "embeddings.word_embeddings.weight",  # XLM-R / BERT base models
    "shared.weight",  # mT5, umT5, T5
    "encoder.embed_tokens.weight",  # mT5 encoder-only checkpoints
    "transformer.word_embeddings.weight",  # BLOOM (with head)
    "word_embeddings.weight",  # BLOOM
    "transformer.wte.weight",  # GPT-2 (with head)
    "wte.weight",  # GPT-2
    "model.embed_tokens.weight",  # Llama, Mistral, Qwen, Gemma
    "model.language_model.embed_tokens.weight",  # Gemma 3 multimodal
    "embed_tokens.weight",
)
_FAMILY_SUFFIXES = ("word_embeddings.weight", "embed_tokens.weight", "wte.weight", "shared.weight")
TORCH_FILE = "pytorch_model.bin"


def choose_tensor(names: list[str], override: str | None) -> str:
    if override:
        if override not in names:
            raise SourceError(
                f"tensor {override!r} not in the checkpoint; it has e.g. {', '.join(names[:8])}"
            )
        return override
    for name in KNOWN_TENSORS:
        if name in names:
            return name
    candidates = [n for n in names if n.endswith(_FAMILY_SUFFIXES)]
    if len(candidates) == 1:
        return candidates[0]
    shown = ", ".join(candidates or names[:12]) or "none"
    raise SourceError(
        f"no known input-embedding tensor; candidates found: {shown} (choose one with --tensor)"
    )


def _load_torch_tensor(path: Path, override: str | None) -> tuple[np.ndarray, str]:
    try:
        import torch
    except ImportError as exc:
        raise SourceError(f"{path}: only a {TORCH_FILE} checkpoint; install torch (extra 'torch')") from exc
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises many kinds on a corrupted pickle
        raise SourceError(f"{path}: cannot be read by torch ({exc.__class__.__name__}: {exc})") from exc
    name = choose_tensor(list(state), override)
    tensor = state[name]
    original = str(tensor.dtype).removeprefix("torch.")
    return tensor.float().numpy(), original


def vocabulary_of(spec: dict[str, Any]) -> str:
    """The artifact.VOCABULARIES key of a tokenizer.json (HF `tokenizers` serialisation)."""
    model = spec.get("model") or {}
    kind = model.get("type")
    if kind == "BPE":
        if "ByteLevel" in json.dumps([spec.get("pre_tokenizer"), spec.get("decoder")]):
            return "byte-level-bpe"
        return "byte-fallback-bpe" if model.get("byte_fallback") else "sentencepiece"
    return {"Unigram": "sentencepiece-unigram", "WordPiece": "wordpiece", "WordLevel": "whole-words"}.get(
        str(kind), "unknown"
    )


SPECIAL_NAMES = {"<unk>": "unk", "<s>": "bos", "</s>": "eos", "<pad>": "pad", "<mask>": "mask"}


def pieces_of(spec: dict[str, Any], where: str) -> tuple[list[str], dict[str, int]]:
    """(pieces in id order, special ids) of a tokenizer.json read as plain JSON (no tokenizers)."""
    model = spec.get("model") or {}
    vocab = model.get("vocab")
    if isinstance(vocab, list):  # Unigram: [[piece, score], ...] in id order
        ids = {str(entry[0]): i for i, entry in enumerate(vocab)}
    elif isinstance(vocab, dict):
        ids = {str(piece): int(ident) for piece, ident in vocab.items()}
    else:
        raise SourceError(f"{where}: tokenizer.json has no model.vocab")
    added = [t for t in spec.get("added_tokens", []) if isinstance(t, dict)]
    ids.update({str(t["content"]): int(t["id"]) for t in added})
    tokens = [""] * len(ids)
    for piece, ident in ids.items():
        if not 0 <= ident < len(tokens) or tokens[ident]:
            raise SourceError(f"{where}: token ids are not 0..{len(ids) - 1} without gaps")
        tokens[ident] = piece
    specials = {
        SPECIAL_NAMES.get(str(t["content"]), str(t["content"])): int(t["id"])
        for t in added
        if t.get("special")
    }
    return tokens, specials


def _backend(tokenizer: Any) -> Any:
    return getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)


def _vocabulary(tokenizer: Any) -> str:
    backend = _backend(tokenizer)
    if backend is None:  # a slow tokenizer: SentencePiece models are the common case
        return "sentencepiece" if getattr(tokenizer, "sp_model", None) is not None else "unknown"
    return vocabulary_of(json.loads(backend.to_str()))


SENTENCEPIECE_FILES = ("spiece.model", "tokenizer.model", "sentencepiece.bpe.model")


def stored_tokenizer(tokenizer: Any, directory: Path | None = None) -> tuple[str, bytes] | None:
    """What the artifact keeps of a checkpoint's tokenizer: the file the checkpoint ships, as it
    ships it (its tokenizer.json, else its SentencePiece model), else what transformers made of it
    (its tokenizer.json, else its SentencePiece model file), else nothing. A conversion is never
    preferred to the shipped file: transformers 5 converts an mT5 spiece.model (unk at 0) with T5's
    ids (unknown characters became </s>) and rewrites a Llama tokenizer.json's leading-space rule."""
    if directory is not None:
        shipped = directory / "tokenizer.json"
        if shipped.is_file():
            return "tokenizers", shipped.read_bytes()
        for name in SENTENCEPIECE_FILES:
            if (directory / name).is_file():
                return "sentencepiece", (directory / name).read_bytes()
    backend = _backend(tokenizer)
    if backend is not None:
        return "tokenizers", backend.to_str().encode("utf-8")
    model_file = getattr(tokenizer, "vocab_file", None)
    if model_file and str(model_file).endswith(".model") and Path(model_file).is_file():
        return "sentencepiece", Path(model_file).read_bytes()
    return None


class HFSource(Source):
    kind = "hf"

    def __init__(self, location: str, tensor: str | None = None) -> None:
        super().__init__(location)
        self.tensor = tensor
        self.directory = Path(location).expanduser()

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []  # a hub id: fingerprinted by name only
        wanted = (".json", ".safetensors", ".model", ".txt", ".bin")
        return [p for p in self.directory.iterdir() if p.is_file() and p.name.endswith(wanted)]

    def _config(self) -> dict[str, Any]:
        path = self.directory / "config.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _embedding(self) -> tuple[np.ndarray, str, str]:
        names = tensor_names(self.directory)
        if names:
            name = choose_tensor(sorted(names), self.tensor)
            matrix, original = load_tensor(names[name], name)
            return matrix, original, name
        torch_file = self.directory / TORCH_FILE
        if torch_file.is_file():
            matrix, original = _load_torch_tensor(torch_file, self.tensor)
            return matrix, original, TORCH_FILE
        raise SourceError(f"{self.directory}: no *.safetensors, {INDEX_FILE} or {TORCH_FILE} found")

    def extract(self) -> Extracted:
        if not self.directory.exists() and ("/" not in self.location or self.location.startswith((".", "/"))):
            raise SourceError(f"checkpoint directory {self.location!r} does not exist")
        if not self.directory.is_dir():
            self.directory = self._download()
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.directory))
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError...
            raise SourceError(f"{self.directory}: tokenizer cannot be loaded ({exc})") from exc
        matrix, original, _ = self._embedding()
        if matrix.ndim != 2:
            raise SourceError(f"{self.directory}: embedding tensor has shape {matrix.shape}, expected 2-D")
        tokens = [str(t) for t in tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))]
        specials: dict[str, int] = {}
        for attr in (
            "bos_token",
            "eos_token",
            "unk_token",
            "pad_token",
            "mask_token",
            "cls_token",
            "sep_token",
        ):
            token = getattr(tokenizer, attr, None)
            ident = tokenizer.convert_tokens_to_ids(token) if token else None
            if isinstance(ident, int) and ident >= 0:
                specials[attr.removesuffix("_token")] = ident
        for token, ident in zip(tokenizer.all_special_tokens, tokenizer.all_special_ids, strict=False):
            if ident not in specials.values():
                specials[str(token)] = int(ident)
        config = self._config()
        return Extracted(
            name=self.directory.name,
            family=str(config.get("model_type", "unknown")),
            tokens=tokens,
            matrix=matrix,
            original_dtype=original,
            special_ids=specials,
            vocabulary=_vocabulary(tokenizer),
            tokenizer=stored_tokenizer(tokenizer, self.directory),
        )

    def _download(self) -> Path:  # pragma: no cover - needs the hub, which tests never reach
        try:
            from huggingface_hub import snapshot_download

            patterns = ["*.json", "*.model", "*.txt", "*.safetensors"]
            return Path(snapshot_download(self.location, allow_patterns=patterns))
        except Exception as exc:
            raise SourceError(
                f"{self.location!r}: not a local directory and the hub is not reachable ({exc})"
            ) from exc
