"""Answers in this process: the default store on one machine, and the local copy of the fallback."""

from __future__ import annotations

import threading

from cachetools import TLRUCache

from service.stores.base import AnswerStore


class MemoryAnswers(AnswerStore):
    """In-process store: cachetools' TLRU cache (least recently used out first, a TTL per entry), bounded
    in bytes; every entry counts at least max_bytes / max_entries, which bounds the entries too."""

    name = "memory"
    sealed = False

    def __init__(self, max_entries: int = 2048, max_bytes: int = 256 * 1024 * 1024) -> None:
        floor = max(1, max_bytes // max_entries)
        self._data: TLRUCache[str, tuple[float, bytes]] = TLRUCache(
            maxsize=max_bytes,
            ttu=lambda _key, item, now: now + item[0],
            getsizeof=lambda item: max(len(item[1]), floor),
        )
        self._lock = threading.Lock()  # handlers run on the event loop and in worker threads

    @property
    def held_bytes(self) -> int:
        """The bytes charged for the entries held (each at least the floor)."""
        return int(self._data.currsize)

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
        return None if item is None else item[1]

    def _put(self, key: str, value: bytes, ttl: int) -> None:
        try:
            self._data[key] = (ttl, value)
        except ValueError:  # larger than the whole cache: never kept
            self._data.pop(key, None)

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._put(key, value, ttl)

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        with self._lock:  # check and set under one lock: a claim
            if self._data.get(key) is not None:
                return False
            self._put(key, value, ttl)
            return True

    async def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)
