"""Sources of input embeddings. Each kind is one module with one `Source` subclass.

A source spec on the command line is `KIND:LOCATION`, e.g. `packaged:multilingual-e5-small`,
`hf:/path/to/checkpoint`, `gguf:model.gguf`, `vec:vectors.txt`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loaders.artifact import SourceError

# The special roles every source names its special tokens by (HF tokenizers' attribute names,
# GGUF's tokenizer.ggml.*_token_id keys and the packaged tables, mapped to these).
ROLES = ("bos", "eos", "unk", "pad", "mask", "cls", "sep")


@dataclass
class Extracted:
    """What every source yields: the raw vocabulary and the (possibly padded) embedding table."""

    name: str
    family: str
    tokens: list[str]  # raw token strings in id order; len(tokens) <= matrix rows
    matrix: np.ndarray[Any, Any]  # source_rows x dim, float (dequantised where the source was quantised)
    original_dtype: str
    # special tokens by role (ROLES) where the source names one, else by their token string
    special_ids: dict[str, int] = field(default_factory=dict)
    vocabulary: str = "unknown"  # a key of artifact.VOCABULARIES
    # Kinds the source's own metadata declares (GGUF token types), id -> TOKEN_KINDS name; they
    # override what the piece's spelling suggests.
    declared_kinds: dict[int, str] = field(default_factory=dict)
    description: str = ""
    tokenizer: tuple[str, bytes] | None = None  # (kind, stored bytes): see loaders/artifact/_segmenter.py


class Source(ABC):
    kind: str = ""

    def __init__(self, location: str) -> None:
        self.location = location

    @abstractmethod
    def files(self) -> list[Path]:
        """The files whose bytes the artifact depends on (hashed into the fingerprint)."""

    def fingerprint(self) -> str:
        digest = hashlib.sha256(f"{self.kind}:".encode())
        for path in sorted(self.files()):
            digest.update(path.name.encode())
            with open(path, "rb") as fh:
                while block := fh.read(1 << 22):
                    digest.update(block)
        return digest.hexdigest()

    @abstractmethod
    def extract(self) -> Extracted:
        """Read the vocabulary and the embedding table."""


def parse_source(spec: str, tensor: str | None = None) -> Source:
    from loaders.build.sources.gguf_file import GGUFSource
    from loaders.build.sources.hf import HFSource
    from loaders.build.sources.packaged import PACKAGED
    from loaders.build.sources.vec import VecSource

    kind, sep, location = spec.partition(":")
    if not sep or not location:
        raise SourceError(f"source {spec!r} is not KIND:LOCATION (kinds: packaged, hf, gguf, vec)")
    if kind == "packaged":
        if location not in PACKAGED:
            raise SourceError(f"unknown packaged model {location!r}; known: {', '.join(sorted(PACKAGED))}")
        return PACKAGED[location]()  # type: ignore[call-arg]
    if kind == "hf":
        return HFSource(location, tensor=tensor)
    kinds: dict[str, type[Source]] = {"gguf": GGUFSource, "vec": VecSource}
    if kind not in kinds:
        raise SourceError(f"unknown source kind {kind!r}; known: packaged, hf, gguf, vec")
    return kinds[kind](location)


def existing_file(location: str, what: str) -> Path:
    path = Path(location).expanduser()
    if not path.is_file():
        raise SourceError(f"{what} {location!r} does not exist or is not a file")
    return path
