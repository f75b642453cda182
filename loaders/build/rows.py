"""Row access to embedding tables larger than memory.

`MappedRows` reads rows of a raw little-endian table inside a file (a safetensors tensor, a .npy
matrix) as float32, through a private read-only mapping whose pages are dropped from this process
after every `RELEASE_EVERY` values read. The page cache keeps them, so a second pass costs a minor
fault, but the process's resident set never counts the whole file: a 256k x 4,096 build stays within
one float32 block of the stored float16 matrix plus the index (issue 17: streaming build).
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np

RELEASE_EVERY = 1 << 26  # values (~128 MB of float16) between page releases


class MappedRows:
    """A (rows, dim) table at `offset` in `path`, stored as `dtype` ('<f2', '<f4', '<f8' or 'bf16')."""

    ndim = 2

    def __init__(
        self, path: Path, offset: int, dtype: str, shape: tuple[int, int], scattered: bool = False
    ) -> None:
        self.path = path
        self.shape = shape
        self.bf16 = dtype == "bf16"
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        # Gathers of scattered rows (the re-rank): no read-ahead, and pages dropped after every read,
        # since each fault would otherwise map 64 KB around an 8 KB row (measured: +0.6 GB resident).
        self._release_every = 0 if scattered else RELEASE_EVERY
        if scattered:
            self._map.madvise(mmap.MADV_RANDOM)
        raw = np.dtype("<u2" if self.bf16 else dtype)
        self._raw = np.frombuffer(self._map, dtype=raw, count=shape[0] * shape[1], offset=offset).reshape(
            shape
        )
        self._read = 0

    @classmethod
    def npy(cls, path: Path, scattered: bool = False) -> MappedRows:
        header = np.load(path, mmap_mode="r")
        shape, dtype, offset = tuple(header.shape), header.dtype.str, int(header.offset)
        del header
        return cls(path, offset, dtype, shape, scattered)  # type: ignore[arg-type]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole: np.ndarray = self[:]
        return whole if dtype is None else whole.astype(dtype)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        raw = self._raw[key]
        out: np.ndarray
        if self.bf16:  # bfloat16 is the top half of a float32
            out = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            out = raw.astype(np.float32)
        self._read += out.size
        if self._read >= self._release_every:
            self._map.madvise(mmap.MADV_DONTNEED)
            self._read = 0
        return out
