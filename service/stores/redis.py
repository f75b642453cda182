"""Redis that never fails a request: the connection (`ResilientRedis`: short timeouts, no retries,
a cool-down after a failure, each failure counted, an outage logged once and its end too), and the
two stores on it, which raise `Unreachable` when Redis does not answer.

Job records need an instance (or database) that does not evict: `noeviction` (deploy/ runs one beside
the cache); their owner checks are Lua scripts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    RedisError,
    ResponseError,
)

from service.stores.base import AnswerStore, JobRecords, Owner, Unreachable

log = logging.getLogger("service.redis")


class RedisRefused(Exception):
    """A configured Redis refused the service's credentials: the service does not start."""


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

    async def check_password(self) -> None:
        """At start-up: a Redis that refuses the password (or wants one) is a configuration error, not
        an outage to serve through; one that does not answer is an outage (served without it)."""
        options = self.client.connection_pool.connection_kwargs
        where = f"the Redis at {options.get('host', '?')}:{options.get('port', '?')}"
        try:
            await self.client.ping()
        except (AuthenticationError, AuthenticationWrongNumberOfArgsError, ResponseError) as exc:
            if isinstance(exc, ResponseError) and not any(w in str(exc) for w in ("NOAUTH", "WRONGPASS")):
                raise
            raise RedisRefused(
                f"{where} refused the service's password (the URL's: redis://:PASSWORD@host:port/db): {exc}"
            ) from exc
        except (RedisError, OSError):
            return

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


class RedisAnswers(AnswerStore):
    """Answers in Redis, through a `ResilientRedis`'s short timeouts and cool-down."""

    name = "redis"
    sealed = True

    def __init__(self, redis: ResilientRedis) -> None:
        self.redis = redis

    async def get(self, key: str) -> bytes | None:
        return _reached(*await self.redis.get(key))

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        _reached(None, await self.redis.set(key, value, ttl))

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        return _reached(*await self.redis.add(key, value, ttl))

    async def delete(self, key: str) -> None:
        _reached(None, await self.redis.delete(key))


def _reached(value: T, ok: bool) -> T:
    if not ok:
        raise Unreachable("redis did not answer")
    return value


# KEYS: lease key, state key; ARGV: owner, state, state ttl s, "1" to release the lease
_SAVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if ARGV[4] == '1' then redis.call('DEL', KEYS[1]) end
return 1
"""
# KEYS: lease key; ARGV: owner, lease ms
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""


class RedisJobRecords(JobRecords):
    """Job records in Redis (keys `job:`, `lease:`, `cancel:`), through a `ResilientRedis`'s short timeouts
    and cool-down."""

    name = "redis"

    def __init__(self, redis: ResilientRedis) -> None:
        self.redis = redis
        client: Redis = redis.client
        self._save = client.register_script(_SAVE)
        self._renew = client.register_script(_RENEW)

    async def load(self, ident: str) -> bytes | None:
        return _reached(*await self.redis.get(f"job:{ident}"))

    async def claim(self, ident: str, owner: Owner, lease: float) -> bool:
        return _reached(*await self.redis.add(f"lease:{ident}", owner.encode(), max(1, round(lease))))

    async def renew(self, ident: str, owner: Owner, lease: float) -> bool:
        renew = lambda: self._renew(keys=[f"lease:{ident}"], args=[owner, int(lease * 1000)])  # noqa: E731
        return bool(_reached(*await self.redis.call(renew, 0)))

    async def save(self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False) -> bool:
        keys = [f"lease:{ident}", f"job:{ident}"]
        save = lambda: self._save(keys=keys, args=[owner, state, ttl, int(last)])  # noqa: E731
        return bool(_reached(*await self.redis.call(save, 0)))

    async def holder(self, ident: str) -> Owner | None:
        value = _reached(*await self.redis.get(f"lease:{ident}"))
        return None if value is None else value.decode()

    async def request_cancel(self, ident: str, run: str, ttl: int) -> None:
        _reached(None, await self.redis.set(f"cancel:{ident}", run.encode(), ttl))

    async def cancelled_run(self, ident: str) -> str | None:
        value = _reached(*await self.redis.get(f"cancel:{ident}"))
        return None if value is None else value.decode()
