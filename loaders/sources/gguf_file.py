"""`gguf:<file>`: `token_embd.weight` and `tokenizer.ggml.tokens` of a GGUF file, dequantised."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loaders.errors import SourceError
from loaders.sources import Extracted, Source, existing_file

CONTROL_TOKEN_TYPE = 3  # llama.cpp's LLAMA_TOKEN_TYPE_CONTROL


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
        specials: dict[str, int] = {}
        for name in ("bos", "eos", "unknown", "padding"):
            key = f"tokenizer.ggml.{name}_token_id"
            if key in fields:
                specials[name] = int(fields[key].contents())
        if "tokenizer.ggml.token_type" in fields:
            types = fields["tokenizer.ggml.token_type"].contents()
            for ident, kind in enumerate(types):
                if kind == CONTROL_TOKEN_TYPE and ident not in specials.values():
                    specials[tokens[ident]] = ident
        arch = fields["general.architecture"].contents() if "general.architecture" in fields else "unknown"
        name = fields["general.name"].contents() if "general.name" in fields else path.stem
        return Extracted(
            name=str(name),
            family=str(arch),
            tokens=tokens,
            matrix=np.asarray(matrix, dtype=np.float32),
            original_dtype=tensor.tensor_type.name.lower(),
            special_ids=specials,
            byte_level=model == "gpt2",
        )
