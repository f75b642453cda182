"""`vec:<file>`: word2vec / fastText text vectors (MUSE's aligned vectors use this format).

First line "count dim", then one "word v1 v2 ... vdim" per line, UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loaders.artifact import SourceError
from loaders.build.sources import Extracted, Source, existing_file


class VecSource(Source):
    kind = "vec"

    def files(self) -> list[Path]:
        return [existing_file(self.location, "vector file")]

    def extract(self) -> Extracted:
        path = self.files()[0]
        with open(path, encoding="utf-8", errors="strict") as fh:
            try:
                count, dim = (int(v) for v in fh.readline().split())
            except ValueError as exc:
                raise SourceError(f"{path}: first line must be '<count> <dim>'") from exc
            tokens: list[str] = []
            matrix = np.zeros((count, dim), dtype=np.float32)
            seen: set[str] = set()
            for number, line in enumerate(fh, start=2):
                if not line.strip():
                    continue
                word, *values = line.rstrip("\n").rstrip(" ").split(" ")
                if len(values) != dim:
                    raise SourceError(f"{path}:{number}: {len(values)} values, expected {dim}")
                if len(tokens) == count:
                    raise SourceError(f"{path}: more than the {count} vectors the header announces")
                if word in seen:  # fastText files repeat words occasionally; keep the first
                    continue
                seen.add(word)
                try:
                    matrix[len(tokens)] = np.asarray(values, dtype=np.float32)
                except ValueError as exc:
                    raise SourceError(f"{path}:{number}: not a number ({exc})") from exc
                tokens.append(word)
        if not tokens:
            raise SourceError(f"{path}: no vectors")
        return Extracted(
            name=path.stem,
            family="static-vectors",
            tokens=tokens,
            matrix=matrix[: len(tokens)],
            original_dtype="text",
            vocabulary="whole-words",
        )
