"""THE artifact format. The loaders write artifacts and the service reads them through this module only.

An artifact is a directory:

    manifest.json        Manifest below: what the files are, with sha256 and size of each
    matrix.npy           vocab_size x dim embedding rows (float16 or float32), memory-mappable
    norms.npy            float32 L2 norm of every stored row (0 for rows the index leaves out); every
                         cosine (index, table, CSLS means, lexicon) is of the stored rows
    vocab.json           {"raw": [...], "display": [...]} token strings in id order
    strings.bin          the same strings as one UTF-8 buffer (display forms only where they differ),
    string_offsets.npy   int64 2 x (vocab_size + 1): raw and display offsets into it, and
    string_order.npy     int64 id * 2 + from_display per distinct string, in string order
                         (loaders/strings.py; mapped by the service instead of building lists)
    labels_paper.npy     uint16 code per token into manifest.labels["paper"].names
    labels_unicode.npy   uint16 code per token into manifest.labels["unicode"].names
    labels_language.npy  uint16 code per token into manifest.labels["language"].names (optional)
    language_guess.npy   int16 vocab_size x 2: top and runner-up language (index into
                         manifest.languages.languages), -1 where the token is in no word list
    language_scores.npy  float16 vocab_size x 3: top share, runner-up share, entropy (bits); NaN likewise
    kinds.npy            uint8 code per token into TOKEN_KINDS
    index.usearch        USearch HNSW index over L2-normalised rows; key = token id
    knn_ids.npy          int32 vocab_size x knn_k cosine neighbors (query excluded; -1 where the
    knn_sims.npy         float32 cosine of each        token is not indexed), best first; exact or
                         HNSW candidates re-ranked exactly, as manifest.table says
    csls_r.npy           float32 CSLS neighborhood mean of every row: mean cosine to its 10 nearest
                         neighbors (NaN where not indexed); from the table, or all pairs without one
    tokenizer.json | tokenizer.model | tokenizer_unigram.json
                         the model's own tokenizer (optional; TOKENIZER_FILES, loaders/segmenter.py)
    reachable.npy        int8 per token: can the tokenizer produce it (loaders/reachability.py; optional)
    lexicon.npy        float16 unit rows of frequent words composed from their pieces (optional,
    lexicon.json       LexiconWords: each row's word and language;   loaders/lexicon.py)
    lexicon_r.npy      float32 CSLS neighborhood mean of each row
    layout.npy           float16 vocab_size x 2: the vocabulary map's position of each token in [-1, 1]
                         (NaN outside the index), as manifest.layout says (geometry/layout.py; optional)

    encoder/             the encoder space (optional, built on demand: `python -m loaders encoder-space`),
                         a sub-artifact with its own manifest.json (EncoderSpaceManifest):
      rows.npy           float16 unit rows: the model's encoder output for each word below
      words.npy          int32 lexicon row of each encoded word (the lexicon's first words per language)
      r.npy              float32 CSLS neighborhood mean of each row among the encoded words

Writes go to a sibling temporary directory that is renamed into place at the end, so a crash
never leaves a half-written artifact behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import numpy as np

from loaders.errors import ArtifactError
from loaders.manifest import (  # the format's types, named here as artifact.X
    EncoderSpaceManifest as EncoderSpaceManifest,
)
from loaders.manifest import (
    FileEntry as FileEntry,
)
from loaders.manifest import (
    IndexParams as IndexParams,
)
from loaders.manifest import (
    LabelScheme as LabelScheme,
)
from loaders.manifest import (
    LanguageLabelling as LanguageLabelling,
)
from loaders.manifest import (
    LayoutInfo as LayoutInfo,
)
from loaders.manifest import (
    LexiconInfo as LexiconInfo,
)
from loaders.manifest import (
    LexiconLanguage as LexiconLanguage,
)
from loaders.manifest import (
    LexiconWords as LexiconWords,
)
from loaders.manifest import (
    Manifest as Manifest,
)
from loaders.manifest import (
    SourceInfo as SourceInfo,
)
from loaders.manifest import (
    TableInfo as TableInfo,
)
from loaders.manifest import (
    Vocab as Vocab,
)

FORMAT_VERSION = 1

MANIFEST = "manifest.json"
MATRIX = "matrix.npy"
NORMS = "norms.npy"
VOCAB = "vocab.json"
KINDS = "kinds.npy"
INDEX = "index.usearch"
KNN_IDS = "knn_ids.npy"
KNN_SIMS = "knn_sims.npy"
LANGUAGE_GUESS = "language_guess.npy"
LANGUAGE_SCORES = "language_scores.npy"
REACHABLE = "reachable.npy"  # int8 per token: 1 reachable, 0 unreachable, -1 not checked (optional)
LEXICON = "lexicon.npy"
STRINGS = "strings.bin"
STRING_OFFSETS = "string_offsets.npy"
STRING_ORDER = "string_order.npy"
LEXICON_WORDS = "lexicon.json"
LEXICON_R = "lexicon_r.npy"
CSLS_R = "csls_r.npy"  # optional: artifacts of loader 0.8 and earlier compute it at load
LAYOUT = "layout.npy"
# The model's tokenizer, by kind (Manifest.tokenizer); read by loaders/segmenter.py.
TOKENIZER_FILES = {
    "tokenizers": "tokenizer.json",
    "sentencepiece": "tokenizer.model",
    "unigram": "tokenizer_unigram.json",
}
# The language scheme's two labels that are not languages (every other label is an ISO 639 code).
AMBIGUOUS, UNLABELLED = "ambiguous", "unlabelled"
# Codes are positions: append, never reorder. "unused" is a reserved slot a source declares as such
# (GGUF token type UNUSED); like "special" it is stored but never indexed or returned.
TOKEN_KINDS = ("special", "byte", "word-initial", "continuation", "unused")
NOT_TEXT_KINDS = ("special", "byte", "unused")
# How a vocabulary segments text; decides which pieces are bytes and how they are displayed.
VOCABULARIES = {
    "sentencepiece-unigram": "SentencePiece unigram pieces, '▁' marks a word start (XLM-R, mT5, USE)",
    "byte-fallback-bpe": (
        "SentencePiece-style BPE with '▁' word starts and <0x00>..<0xFF> byte pieces for what the"
        " merges do not cover (Llama 1/2, Mistral)"
    ),
    "byte-level-bpe": "GPT-2 byte-level BPE; pieces decoded from bytes, 'Ġ' (space) shown as '▁'",
    "sentencepiece": "SentencePiece pieces of unknown model type, '▁' marks a word start",
    "wordpiece": "WordPiece: '##' marks a continuation",
    "whole-words": "static word vectors: every entry is a whole word",
    "unknown": "the source does not say",
}


ENCODER_DIR = "encoder"
ENCODER_ROWS = "rows.npy"
ENCODER_WORDS = "words.npy"
ENCODER_R = "r.npy"
M = TypeVar("M")


def labels_file(scheme: str) -> str:
    return f"labels_{scheme}.npy"


_manifest_decoder = msgspec.json.Decoder(Manifest)
_vocab_decoder = msgspec.json.Decoder(Vocab)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- writing


class ArtifactWriter:
    """Collects the files of one artifact in a temporary directory; `commit` renames it into place."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self._sha256: dict[str, str] = {}

    def path(self, name: str) -> Path:
        return self.dir / name

    def sha256(self, name: str) -> str:
        """A written file's hash, computed once: the build compares the matrix with earlier artifacts'
        before the manifest records it (2 GB read once, not three times, at LLM sizes). Each file is
        written once, before it is hashed."""
        if name not in self._sha256:
            self._sha256[name] = sha256_file(self.dir / name)
        return self._sha256[name]

    def save_array(self, name: str, array: np.ndarray[Any, Any]) -> None:
        np.save(self.dir / name, array, allow_pickle=False)

    def save_blocks(
        self, name: str, shape: tuple[int, ...], dtype: Any, blocks: Iterable[np.ndarray[Any, Any]]
    ) -> None:
        """An array written block by block (the bytes np.save writes for their concatenation), so the
        whole array is never in memory."""
        dtype = np.dtype(dtype)
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        written = 0
        with open(self.dir / name, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            for block in blocks:
                fh.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
                written += block.size
        if written != int(np.prod(shape)):
            raise ArtifactError(f"{name}: wrote {written} values for shape {shape}")

    def save_vocab(self, vocab: Vocab) -> None:
        from loaders.strings import pack

        (self.dir / VOCAB).write_bytes(msgspec.json.encode(vocab))
        buffer, offsets, order = pack(vocab.raw, vocab.display)
        (self.dir / STRINGS).write_bytes(buffer)
        self.save_array(STRING_OFFSETS, offsets)
        self.save_array(STRING_ORDER, order)

    def finish(self, manifest_without_files: dict[str, Any], kind: type[M]) -> M:
        files = {
            entry.name: FileEntry(size=entry.stat().st_size, sha256=self.sha256(entry.name))
            for entry in sorted(self.dir.iterdir())
            if entry.name != MANIFEST and entry.is_file()
        }
        manifest = msgspec.convert({**manifest_without_files, "files": files}, kind)
        (self.dir / MANIFEST).write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
        return manifest


@contextmanager
def writing(out: Path) -> Iterator[ArtifactWriter]:
    """Yield a writer on a temporary sibling of `out`; on success replace `out` with it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; artifacts are read by other users (containers)
    try:
        yield ArtifactWriter(tmp)
        if not (tmp / MANIFEST).exists():
            raise ArtifactError(f"{out}: internal error, no manifest was written")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- reading


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise ArtifactError(f"{directory}: not an artifact directory (it does not exist)")
    if not path.is_file():
        raise ArtifactError(f"{directory}: no {MANIFEST} (not an artifact, or an interrupted build)")
    raw = path.read_bytes()
    try:
        version = msgspec.json.decode(raw, type=dict[str, Any]).get("format_version")
    except msgspec.DecodeError as exc:
        raise ArtifactError(f"{directory}: {MANIFEST} is not valid JSON ({exc})") from exc
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{directory}: artifact format version {version!r}, this program reads version {FORMAT_VERSION};"
            " rebuild it with `python -m loaders build`"
        )
    try:
        return _manifest_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"{directory}: {MANIFEST} does not match the format: {exc}") from exc


def read_encoder_manifest(directory: Path) -> EncoderSpaceManifest | None:
    """The artifact's encoder space (None: not built)."""
    path = directory / ENCODER_DIR / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=EncoderSpaceManifest)
    except msgspec.DecodeError as exc:
        raise ArtifactError(f"{path}: not an encoder space manifest ({exc})") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise ArtifactError(f"{path}: format version {manifest.format_version}, rebuild the encoder space")
    return manifest


def verify(directory: Path, manifest: Manifest | EncoderSpaceManifest, checksums: bool = True) -> None:
    """Check every listed file exists with its recorded size, then (when asked) its sha256."""
    for name, entry in manifest.files.items():
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{directory}: file {name} is missing")
        size = path.stat().st_size
        if size != entry.size:
            raise ArtifactError(
                f"{directory}: {name} has {size} bytes, the manifest says {entry.size} (truncated?)"
            )
    if checksums:
        for name, entry in manifest.files.items():
            if sha256_file(directory / name) != entry.sha256:
                raise ArtifactError(f"{directory}: {name} fails its sha256 check (corrupted)")


def open_array(directory: Path, name: str, rows: int | None) -> np.ndarray[Any, Any]:
    """Memory-map a .npy file and check its row count (None: any)."""
    try:
        array: np.ndarray[Any, Any] = np.load(directory / name, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"{directory}: {name} cannot be read ({exc})") from exc
    if rows is not None and array.shape[0] != rows:
        raise ArtifactError(f"{directory}: {name} has {array.shape[0]} rows, expected {rows}")
    return array


def read_vocab(directory: Path, manifest: Manifest) -> Vocab:
    try:
        vocab = _vocab_decoder.decode((directory / VOCAB).read_bytes())
    except (OSError, msgspec.DecodeError) as exc:
        raise ArtifactError(f"{directory}: {VOCAB} cannot be read ({exc})") from exc
    if len(vocab.raw) != manifest.vocab_size or len(vocab.display) != manifest.vocab_size:
        raise ArtifactError(f"{directory}: {VOCAB} does not hold {manifest.vocab_size} tokens")
    return vocab
