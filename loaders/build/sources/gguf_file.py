"""`gguf:<file>`: `token_embd.weight` and `tokenizer.ggml.tokens` of a GGUF file, dequantised."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loaders.artifact import BYTE_PIECE, SourceError
from loaders.build.sources import Extracted, Source, existing_file

# llama.cpp's llama_token_type, the values of `tokenizer.ggml.token_type`.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
# UNKNOWN and CONTROL are specials; USER_DEFINED pieces are text matched verbatim, so their
# spelling decides their kind like NORMAL ones.
DECLARED_KINDS = {UNUSED: "unused", BYTE: "byte"}
VOCABULARIES = {"gpt2": "byte-level-bpe", "bert": "wordpiece", "t5": "sentencepiece-unigram"}
# GGUF's names of the special roles -> the roles every source uses (loaders.sources.ROLES)
GGUF_ROLES = {
    "bos": "bos",
    "eos": "eos",
    "unknown": "unk",
    "padding": "pad",
    "seperator": "sep",  # sic: llama.cpp's key
    "cls": "cls",
    "mask": "mask",
}


def gguf_vocabulary(model: str, types: list[int], tokens: list[str]) -> str:
    """`tokenizer.ggml.model` -> artifact.VOCABULARIES key; "llama" is SentencePiece, BPE with byte
    fallback when it has byte pieces (Llama 2), otherwise of a model type the file does not say."""
    if model == "llama":
        has_bytes = BYTE in types or any(BYTE_PIECE.match(t) for t in tokens[:512])
        return "byte-fallback-bpe" if has_bytes else "sentencepiece"
    return VOCABULARIES.get(model, "unknown")


class GGUFSource(Source):
    kind = "gguf"

    def files(self) -> list[Path]:
        return [existing_file(self.location, "GGUF file")]

    def extract(self) -> Extracted:
        import gguf

        path = self.files()[0]
        try:
            reader = gguf.GGUFReader(path)
        except Exception as exc:  # the reader raises ValueError/struct errors on bad files
            raise SourceError(f"{path}: not a readable GGUF file ({exc})") from exc
        tensors = {t.name: t for t in reader.tensors}
        if "token_embd.weight" not in tensors:
            raise SourceError(f"{path}: no token_embd.weight; tensors: {', '.join(list(tensors)[:12])}")
        tensor = tensors["token_embd.weight"]
        n_embd, n_vocab = (int(v) for v in tensor.shape[:2])  # GGML order: [n_embd, n_vocab]
        matrix = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(n_vocab, n_embd)
        fields = reader.fields
        if "tokenizer.ggml.tokens" not in fields:
            raise SourceError(f"{path}: no tokenizer.ggml.tokens")
        tokens = [str(t) for t in fields["tokenizer.ggml.tokens"].contents()]
        model = fields["tokenizer.ggml.model"].contents() if "tokenizer.ggml.model" in fields else "llama"
        specials: dict[str, int] = {}  # by role, as every source names them (ROLES); others by token
        for name, role in GGUF_ROLES.items():
            key = f"tokenizer.ggml.{name}_token_id"
            if key in fields:
                specials[role] = int(fields[key].contents())
        types: list[int] = []
        if "tokenizer.ggml.token_type" in fields:
            types = [int(t) for t in fields["tokenizer.ggml.token_type"].contents()]
        for ident, kind in enumerate(types):
            if kind in (UNKNOWN, CONTROL) and ident not in specials.values():
                specials["unk" if kind == UNKNOWN and "unk" not in specials else tokens[ident]] = ident
        declared = {i: DECLARED_KINDS[k] for i, k in enumerate(types) if k in DECLARED_KINDS}
        arch = fields["general.architecture"].contents() if "general.architecture" in fields else "unknown"
        name = fields["general.name"].contents() if "general.name" in fields else path.stem
        return Extracted(
            name=str(name),
            family=str(arch),
            tokens=tokens,
            matrix=np.asarray(matrix, dtype=np.float32),
            original_dtype=tensor.tensor_type.name.lower(),
            special_ids=specials,
            vocabulary=gguf_vocabulary(str(model), types, tokens),
            declared_kinds=declared,
        )
