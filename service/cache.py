"""Cache stores (bytes with a TTL) and cache keys.

`MemoryStore` is an in-process LRU: the default on one machine. A Redis store implements the same
interface so that replicas share results and job state. Keys start with the artifact's manifest
checksum, so a rebuilt artifact never serves stale results, and hold the canonicalised parameters,
so equal requests written differently share a key.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import anyio.to_thread
import msgspec


class Store(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: int) -> None: ...

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        """Set only when absent; True when this call set it (a lock / single-flight claim)."""
        ...

    async def delete(self, key: str) -> None: ...


class MemoryStore:
    name = "memory"

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()  # handlers run on the event loop and in worker threads

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key)

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


def cache_key(checksums: list[str], endpoint: str, params: dict[str, Any]) -> str:
    """Artifact checksums + endpoint + parameters in canonical form (sorted keys, sorted lists)."""

    def canonical(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: canonical(v) for k, v in sorted(value.items()) if v is not None}
        if isinstance(value, list | tuple | set):
            items = [canonical(v) for v in value]
            return sorted(items, key=repr) if isinstance(value, set) else items
        return value

    payload = msgspec.json.encode({"params": canonical(params)})
    digest = hashlib.sha256(payload).hexdigest()[:24]
    return f"pg:{'+'.join(checksums)}:{endpoint}:{digest}"


T = TypeVar("T")


class ResponseCache:
    """Cached, single-flight computation of encoded responses.

    A hit returns the stored bytes; a value that does not decode is a miss and is overwritten.
    Concurrent identical misses in this process share one computation (run in a worker thread).
    """

    def __init__(self, store: Store, ttl: int, count: Callable[[str, str], None] | None = None) -> None:
        self.store = store
        self.ttl = ttl
        self.count = count or (lambda endpoint, outcome: None)
        self.inflight: dict[str, asyncio.Future[bytes]] = {}

    async def get_or_compute(
        self, endpoint: str, key: str, compute: Callable[[], bytes], decode: Callable[[bytes], object]
    ) -> tuple[bytes, bool]:
        raw = await self.store.get(key)
        if raw is not None:
            try:
                decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.count(endpoint, "corrupt")
            else:
                self.count(endpoint, "hit")
                return raw, True
        self.count(endpoint, "miss")
        future = self.inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(anyio.to_thread.run_sync(compute))
            self.inflight[key] = future
            future.add_done_callback(lambda _: self.inflight.pop(key, None))
            body = await future
            await self.store.set(key, body, self.ttl)
            return body, False
        return await asyncio.shield(future), False
