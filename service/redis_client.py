"""A Redis cache store that never fails a request.

Short timeouts and no retries: a down or hung Redis costs a request at most `timeout` seconds once,
after which Redis is skipped for `cooldown` seconds. Every failure is counted in a metric; the first
failure of an outage is logged (once), and so is the recovery. `FallbackAnswers` keeps a local
in-process copy of everything written, so job state and results keep working on this replica
while Redis is away.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from service.cache import MemoryAnswers

log = logging.getLogger("service.redis")
T = TypeVar("T")


class ResilientRedis:
    name = "redis"

    def __init__(
        self,
        url: str,
        timeout: float = 0.25,
        cooldown: float = 3.0,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self.client: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self.cooldown = cooldown
        self.down_until = 0.0
        self.outage = False
        self.on_error = on_error

    @property
    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    async def call(self, operation: Callable[[], Awaitable[T]], fallback: T) -> tuple[T, bool]:
        """(result, ok). While in cool-down, or on any Redis error: (fallback, False)."""
        if not self.available:
            return fallback, False
        try:
            result = await operation()
        except (RedisError, OSError) as exc:
            self.down_until = time.monotonic() + self.cooldown
            if self.on_error:
                self.on_error()
            if not self.outage:
                self.outage = True
                log.warning(
                    "redis unavailable (%s); serving without it, retrying every %.0f s", exc, self.cooldown
                )
            return fallback, False
        if self.outage:
            self.outage = False
            log.warning("redis is back")
        return result, True

    async def ping(self) -> bool:
        return (await self.call(self.client.ping, False))[1]

    async def get(self, key: str) -> tuple[bytes | None, bool]:
        value, ok = await self.call(lambda: self.client.get(key), None)  # type: ignore[arg-type,return-value]
        return (value.encode() if isinstance(value, str) else value), ok

    async def set(self, key: str, value: bytes, ttl: int) -> bool:
        return (await self.call(lambda: self.client.set(key, value, ex=ttl), None))[1]

    async def add(self, key: str, value: bytes, ttl: int) -> tuple[bool, bool]:
        result, ok = await self.call(lambda: self.client.set(key, value, ex=ttl, nx=True), None)
        return bool(result), ok

    async def delete(self, key: str) -> bool:
        return (await self.call(lambda: self.client.delete(key), 0))[1]

    async def close(self) -> None:
        await self.client.aclose()


class FallbackAnswers:
    """Redis first, with a local copy of every write used while Redis is unreachable."""

    name = "redis"

    def __init__(self, redis: ResilientRedis, local: MemoryAnswers) -> None:
        self.redis = redis
        self.local = local

    async def get(self, key: str) -> bytes | None:
        value, ok = await self.redis.get(key)
        if ok and value is not None:
            return value
        return await self.local.get(key)  # Redis away, or a value written while it was

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        await self.local.set(key, value, ttl)
        await self.redis.set(key, value, ttl)

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        claimed, ok = await self.redis.add(key, value, ttl)
        if not ok:
            return await self.local.add(key, value, ttl)
        await self.local.set(key, value, ttl)
        return claimed

    async def delete(self, key: str) -> None:
        await self.local.delete(key)
        await self.redis.delete(key)
