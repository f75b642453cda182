"""Token strings held compactly, and found by string, without a Python object per token.

A worker used to hold each model's vocabulary as lists of `str`, a dict from string to id and a sorted
list for prefix search: ~45 MB of Python objects for e5's 250k tokens, rebuilt in every worker. The
artifact now carries the strings as one UTF-8 buffer with offsets and their sort order
(artifact.STRINGS, STRING_OFFSETS, STRING_ORDER); the service maps them, and looks strings up by binary
search: ~20 bytes a token, shared between workers through the page cache (issue 17), and 8 bytes a
string in each worker (StringIndex.heads).
"""

from __future__ import annotations

import bisect
import mmap
import operator
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

ENCODING = ("utf-8", "surrogatepass")  # vocabularies may hold lone surrogates; UTF-8 keeps code-point order


class TokenStrings(Sequence[str]):
    """Strings in id order: a UTF-8 buffer (bytes or a read-only mapping) and int64 offsets."""

    def __init__(self, buffer: Any, offsets: np.ndarray) -> None:
        self.buffer, self.offsets = buffer, offsets

    @classmethod
    def of(cls, strings: Sequence[str]) -> TokenStrings:
        encoded = [s.encode(*ENCODING) for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(b"".join(encoded), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"token {index} out of range")
        return self.buffer[self.offsets[i] : self.offsets[i + 1]].decode(*ENCODING)  # type: ignore[no-any-return]

    def take(self, ids: Sequence[int]) -> list[str]:
        """The strings of `ids` (valid ids): one gather of their offsets, not two numpy scalar reads
        per string (every answer reads its rows' raw and display forms)."""
        at = np.asarray(ids, dtype=np.int64)
        starts, stops = self.offsets[at].tolist(), self.offsets[at + 1].tolist()
        buffer = self.buffer
        return [buffer[a:b].decode(*ENCODING) for a, b in zip(starts, stops, strict=True)]

    def encoded(self) -> Iterator[bytes]:
        bounds = self.offsets.tolist()  # transient: one Python int per token while iterating
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            yield self.buffer[start:stop]

    def __iter__(self) -> Iterator[str]:
        for raw in self.encoded():
            yield raw.decode(*ENCODING)

    def char_lengths(self) -> np.ndarray:
        """Each string's length in code points (UTF-8 lead bytes), without decoding."""
        data = np.frombuffer(self.buffer, dtype=np.uint8, count=int(self.offsets[-1]))
        leads = np.concatenate([[0], np.cumsum((data & 0xC0) != 0x80)])
        return np.diff(leads[self.offsets])


def strings_at(strings: Sequence[str], ids: Sequence[int]) -> list[str]:
    """`[strings[i] for i in ids]`, gathered at once where the strings are a TokenStrings."""
    if isinstance(strings, TokenStrings):
        return strings.take(ids)
    return [strings[i] for i in ids]


def sort_order(raw: Sequence[str], display: Sequence[str]) -> np.ndarray:
    """Keys `id * 2 + from_display` in string order, one per distinct string: raw forms win over equal
    display forms; among equal raw forms the last id, among equal display forms the first (what a
    dict filled with the display forms and then the raw forms holds)."""
    entries = [(text, 0, -i, 2 * i) for i, text in enumerate(raw)]
    entries += [(text, 1, i, 2 * i + 1) for i, text in enumerate(display) if text != raw[i]]
    entries.sort()
    keep = [e[3] for j, e in enumerate(entries) if j == 0 or e[0] != entries[j - 1][0]]
    return np.asarray(keep, dtype=np.int64)


HEAD = 8  # bytes of a string's beginning held as one integer (StringIndex.heads)


def heads(strings: TokenStrings, ids: np.ndarray) -> np.ndarray:
    """The first HEAD UTF-8 bytes of each string of `ids` as a big-endian integer, zero-padded. UTF-8
    keeps code-point order, so heads never decrease where the strings do not."""
    data = np.frombuffer(strings.buffer, dtype=np.uint8)
    starts = strings.offsets[ids]
    lengths = strings.offsets[ids + 1] - starts
    out = np.zeros(len(ids), dtype=np.uint64)
    for j in range(HEAD if len(data) else 0):
        byte = np.where(lengths > j, data[np.minimum(starts + j, len(data) - 1)], 0)
        out = out * np.uint64(256) + byte.astype(np.uint64)
    return out


class StringIndex:
    """Token ids by raw or display form, by binary search over `order` (see sort_order): first among
    the strings' heads (one numpy search), then by the strings themselves among those that share the
    text's head (a Python bisect over all 250k strings decoded ~19 of them: 31 us a lookup)."""

    def __init__(self, raw: TokenStrings, display: TokenStrings, order: np.ndarray) -> None:
        self.raw, self.display, self.order = raw, display, order
        self.ids = order >> 1  # in string order
        self._positions = range(len(order))
        self.heads = heads(raw, self.ids)
        if display is not raw:
            shown = (order & 1).astype(bool)
            self.heads[shown] = heads(display, self.ids[shown])

    def _key(self, position: int) -> str:
        key = int(self.order[position])
        return self.display[key >> 1] if key & 1 else self.raw[key >> 1]

    def _left(self, text: str, lo: int = 0) -> int:
        # A uint64 scalar, not a Python int: numpy would cast the whole table to search it.
        head = np.uint64(int.from_bytes(text.encode(*ENCODING)[:HEAD].ljust(HEAD, b"\0"), "big"))
        lo = max(lo, int(self.heads.searchsorted(head, side="left")))
        hi = max(lo, int(self.heads.searchsorted(head, side="right")))
        return bisect.bisect_left(self._positions, text, lo=lo, hi=hi, key=self._key)

    def get(self, text: str) -> int | None:
        position = self._left(text)
        if position < len(self.order) and self._key(position) == text:
            return int(self.ids[position])
        return None

    def prefix(self, text: str) -> np.ndarray:
        """Ids of the strings starting with `text`, in string order (two binary searches)."""
        if not text:
            return self.ids
        start = self._left(text)
        last = ord(text[-1])
        if last == sys.maxunicode:  # no next string to bound the range with: walk it
            stop = start
            while stop < len(self.order) and self._key(stop).startswith(text):
                stop += 1
        else:
            stop = self._left(text[:-1] + chr(last + 1), lo=start)
        return self.ids[start:stop]


def pack(raw: Sequence[str], display: Sequence[str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """(buffer, offsets of shape (2, n + 1) for raw and display, sort order). Display forms equal to
    the raw ones take no bytes: their row of offsets repeats the raw row."""
    if list(display) == list(raw):
        table = TokenStrings.of(raw)
        return bytes(table.buffer), np.stack([table.offsets, table.offsets]), sort_order(raw, raw)
    both = TokenStrings.of([*raw, *display])
    offsets = np.stack([both.offsets[: len(raw) + 1], both.offsets[len(raw) :]])
    return bytes(both.buffer), offsets, sort_order(raw, display)


def mapped(path: Path) -> Any:
    if path.stat().st_size == 0:
        return b""
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def tables(
    buffer: Any, offsets: np.ndarray, order: np.ndarray
) -> tuple[TokenStrings, TokenStrings, StringIndex]:
    raw = TokenStrings(buffer, np.asarray(offsets[0]))
    same = np.array_equal(offsets[0], offsets[1])
    display = raw if same else TokenStrings(buffer, np.asarray(offsets[1]))
    return raw, display, StringIndex(raw, display, np.asarray(order))
