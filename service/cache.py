"""The answer cache in front of the computations: cache keys, one computation for identical concurrent
misses, and the admission gate (service/admission.py) every computation passes.

Keys start with the artifact's manifest checksum, so a rebuilt artifact never serves stale results,
and hold the canonicalized parameters, so equal requests written differently share a key. The
answers live in an `AnswerStore` (`service/stores/`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import msgspec

from geometry.interrupt import Interrupted, Token, interruptible
from loaders.artifact import trim_heap
from service.admission import Gate
from service.errors import ClientGone, TookTooLong
from service.stores import AnswerStore

KEY_ENCODER = msgspec.json.Encoder()


def cache_key(checksums: list[str], endpoint: str, request: msgspec.Struct) -> str:
    """Artifact checksums + endpoint + the digest of the request Struct's canonical encoding.

    The same digest is the response's ETag: equal requests, however written, share both.
    """
    digest = hashlib.blake2b(KEY_ENCODER.encode(request), digest_size=12).hexdigest()
    return f"pg:{'+'.join(checksums)}:{endpoint}:{digest}"


def _seal(body: bytes) -> bytes:
    """A stored value: the body's digest, then the body (checked on every read, not decoded)."""
    return hashlib.blake2b(body, digest_size=DIGEST).digest() + body


def _unseal(value: bytes) -> bytes | None:
    body = value[DIGEST:]
    return body if hashlib.blake2b(body, digest_size=DIGEST).digest() == value[:DIGEST] else None


async def _off_loop(work: Callable[[bytes], T], value: bytes) -> T:
    """Digest a large value in a worker thread (hashlib lets go of the GIL): checking a cached 7 MB
    export on the event loop held it for milliseconds on every hit."""
    return await anyio.to_thread.run_sync(work, value) if len(value) >= OFF_LOOP else work(value)


DIGEST = 16
OFF_LOOP = 256 * 1024  # bytes from which a value is digested in a worker thread
T = TypeVar("T")
TRIM_AFTER = 1.0  # seconds of computation after which the freed heap is returned to the system


@dataclass
class Flight:
    """One computation in progress, the requests waiting for it, and its interruption token."""

    future: asyncio.Future[bytes]
    token: Token
    waiters: int = 0


class ResponseCache:
    """Cached, single-flight computation of encoded responses.

    A hit returns the stored bytes as they are (a value whose digest does not match is a miss and is
    overwritten). Concurrent identical misses in this process share one computation; `inline` work
    (a table lookup) runs on the event loop, the rest in a worker thread, admitted by the gate, under
    a deadline, and interrupted between blocks once every request waiting for it has gone away.
    """

    def __init__(
        self,
        store: AnswerStore,
        ttl: int,
        count: Callable[[str, str], None] | None = None,
        max_value_bytes: int = 0,
        gate: Gate | None = None,
        deadline: float = 60.0,
    ) -> None:
        self.gate = gate or Gate(workers=4, queue=64)
        self.store = store
        self.ttl = ttl
        self.count = count or (lambda endpoint, outcome: None)
        self.max_value_bytes = max_value_bytes  # 0: no limit
        self.deadline = deadline  # seconds a computation may run
        self.inflight: dict[str, Flight] = {}

    async def get_or_compute(
        self,
        endpoint: str,
        key: str,
        compute: Callable[[], bytes],
        inline: bool = False,
        gone: Callable[[], Awaitable[object]] | None = None,
        client: str = "",
        cost: float = 0.0,
    ) -> tuple[bytes, bool]:
        """`gone()` returns when the requesting client disconnects (None: never asked); `client`:
        whose line the computation waits in, `cost` its predicted seconds (service/admission.py)."""
        raw = await self.store.get(key)
        if raw is not None:
            body = await _off_loop(_unseal, raw) if self.store.sealed else raw
            if body is not None:
                self.count(endpoint, "hit")
                return body, True
            self.count(endpoint, "corrupt")
        self.count(endpoint, "miss")
        if inline:
            body = compute()
            await self._keep(key, body)
            return body, False
        flight = self.inflight.get(key)
        if flight is None or flight.token.cancelled.is_set():  # a stopping flight is not joined
            token = Token()
            flight = self.inflight[key] = Flight(
                asyncio.ensure_future(self._gated(endpoint, key, compute, token, client, cost)), token
            )
            flight.future.add_done_callback(functools.partial(self._land, key, flight))
        flight.waiters += 1
        try:
            return await self._wait(flight, gone), False
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.future.done():
                flight.token.cancel()  # nobody is waiting any more: stop at the next block

    def _land(self, key: str, flight: Flight, _: object = None) -> None:
        if self.inflight.get(key) is flight:  # a newer flight for the key may have replaced it
            del self.inflight[key]
        if not flight.future.cancelled():
            flight.future.exception()  # retrieved: a computation nobody waited for is not an error

    @staticmethod
    async def _wait(flight: Flight, gone: Callable[[], Awaitable[object]] | None) -> bytes:
        if gone is None:
            return await asyncio.shield(flight.future)
        watcher: asyncio.Future[Any] = asyncio.ensure_future(gone())
        waiting: set[asyncio.Future[Any]] = {flight.future, watcher}
        try:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
        if flight.future not in done:
            raise ClientGone("the client disconnected before the answer was ready")
        return flight.future.result()

    async def _gated(
        self, endpoint: str, key: str, compute: Callable[[], bytes], token: Token, client: str, cost: float
    ) -> bytes:
        token.deadline = time.monotonic() + self.deadline  # from the arrival: queueing counts too
        async with self.gate.slot(client, cost, kind=endpoint):

            def run() -> bytes:
                started = time.monotonic()
                try:
                    with interruptible(token):
                        return compute()
                finally:
                    if time.monotonic() - started > TRIM_AFTER:  # a large computation: give back its heap
                        trim_heap()

            try:
                body = await anyio.to_thread.run_sync(run)
            except Interrupted as exc:
                if exc.reason == "deadline":
                    raise TookTooLong(f"the computation passed its deadline of {self.deadline:g} s") from exc
                raise ClientGone("every client waiting for this answer disconnected") from exc
        await self._keep(key, body)  # kept whoever still waits
        return body

    async def _keep(self, key: str, body: bytes) -> None:
        if not self.max_value_bytes or len(body) <= self.max_value_bytes:
            value = await _off_loop(_seal, body) if self.store.sealed else body
            await self.store.set(key, value, self.ttl)
