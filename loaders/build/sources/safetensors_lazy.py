"""Read one tensor out of safetensors files without loading the rest (memory-mapped).

The format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
then the raw bytes. safetensors' own numpy reader cannot give BF16, so we map the bytes ourselves
(the embedding table through loaders/build/rows.py, read in blocks).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from loaders.artifact import SourceError
from loaders.build.rows import MappedRows

_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "F64": "<f8"}
INDEX_FILE = "model.safetensors.index.json"


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """Return the tensor table and the byte offset where tensor data starts."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise SourceError(f"{path}: truncated safetensors file (no header)")
        (length,) = struct.unpack("<Q", head)
        if length > 100_000_000:
            raise SourceError(f"{path}: corrupted safetensors header length {length}")
        raw = fh.read(length)
    if len(raw) < length:
        raise SourceError(f"{path}: truncated safetensors header")
    try:
        table: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise SourceError(f"{path}: corrupted safetensors header ({exc})") from exc
    table.pop("__metadata__", None)
    return table, 8 + length


def tensor_names(directory: Path) -> dict[str, Path]:
    """Map every tensor name of a (possibly sharded) checkpoint to the file holding it."""
    index = directory / INDEX_FILE
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        return {name: directory / shard for name, shard in weight_map.items()}
    names: dict[str, Path] = {}
    for file in sorted(directory.glob("*.safetensors")):
        table, _ = read_header(file)
        names.update(dict.fromkeys(table, file))
    return names


def load_tensor(path: Path, name: str) -> tuple[np.ndarray, str]:
    """Memory-map tensor `name` from `path`; returns (float array, original dtype name)."""
    if not path.is_file():
        raise SourceError(f"{path}: shard named in the index does not exist")
    table, start = read_header(path)
    if name not in table:
        raise SourceError(f"{path}: no tensor {name!r}")
    info = table[name]
    dtype = info["dtype"]
    if dtype not in _DTYPES:
        raise SourceError(f"{path}: tensor {name} has unsupported dtype {dtype}")
    begin, end = info["data_offsets"]
    shape = tuple(info["shape"])
    if start + end > path.stat().st_size:
        raise SourceError(f"{path}: truncated (tensor {name} runs past the end of the file)")
    count = int(np.prod(shape))
    if (end - begin) != count * np.dtype(_DTYPES[dtype]).itemsize:
        raise SourceError(f"{path}: tensor {name} byte size does not match its shape")
    if len(shape) == 2:  # the embedding table: read in blocks, converted to float32 as it is read
        mapped = MappedRows(path, start + begin, "bf16" if dtype == "BF16" else _DTYPES[dtype], shape)
        return mapped, dtype.lower()  # type: ignore[return-value]
    raw = np.memmap(path, dtype=_DTYPES[dtype], mode="r", offset=start + begin, shape=shape)
    if dtype == "BF16":  # bfloat16 is the top half of a float32
        return (raw.astype(np.uint32) << 16).view(np.float32), dtype.lower()
    return raw, dtype.lower()
