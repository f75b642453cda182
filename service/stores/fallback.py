"""Redis first, and a local copy of every write that answers while Redis is unreachable: this
replica keeps working through an outage (other replicas see what it wrote once Redis is back and the
key is asked for)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import RedisError

from service.stores.base import AnswerStore, JobRecords, Owner, Unreachable
from service.stores.memory import MemoryAnswers
from service.stores.redis import RedisAnswers, RedisJobRecords
from service.stores.sqlite import SqliteJobRecords

log = logging.getLogger("service.jobs")
T = TypeVar("T")
UNREACHED = object()  # what `_remote` answers when Redis did not


async def _remote(call: Awaitable[T]) -> T | object:
    """Redis's answer, or UNREACHED."""
    try:
        return await call
    except Unreachable:
        return UNREACHED


async def _first_found(
    remote: Awaitable[bytes | None], local: Callable[[], Awaitable[bytes | None]]
) -> bytes | None:
    """Redis's value, else (away, or nothing there) the local copy's: written while Redis was away."""
    value = await _remote(remote)
    return value if isinstance(value, bytes) else await local()


class FallbackAnswers(AnswerStore):
    """Redis first, with a local copy of every write used while Redis is unreachable."""

    name = "redis"
    sealed = True

    def __init__(self, redis: RedisAnswers, local: MemoryAnswers) -> None:
        self.redis = redis
        self.local = local

    async def get(self, key: str) -> bytes | None:
        return await _first_found(self.redis.get(key), lambda: self.local.get(key))

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        await self.local.set(key, value, ttl)
        await _remote(self.redis.set(key, value, ttl))

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        claimed = await _remote(self.redis.add(key, value, ttl))
        if claimed is UNREACHED:
            return await self.local.add(key, value, ttl)
        await self.local.set(key, value, ttl)
        return bool(claimed)

    async def delete(self, key: str) -> None:
        await self.local.delete(key)
        await _remote(self.redis.delete(key))


class FallbackJobRecords(JobRecords):
    """Redis first, every write mirrored in the local records, which answer while Redis is
    unreachable (this machine's workers keep working; other machines see the job again once Redis is
    back and the job is asked for)."""

    name = "redis"

    def __init__(self, redis: RedisJobRecords, local: SqliteJobRecords) -> None:
        self.redis = redis
        self.local = local

    async def load(self, ident: str) -> bytes | None:
        return await _first_found(self.redis.load(ident), lambda: self.local.load(ident))

    async def claim(self, ident: str, owner: Owner, lease: float) -> bool:
        return await self._leased(
            self.redis.claim(ident, owner, lease), self.local.claim, (ident, owner, lease)
        )

    async def renew(self, ident: str, owner: Owner, lease: float) -> bool:
        return await self._leased(
            self.redis.renew(ident, owner, lease), self.local.renew, (ident, owner, lease)
        )

    async def _leased(
        self,
        remote: Awaitable[bool],
        local: Callable[[str, Owner, float], Awaitable[bool]],
        lease: tuple[str, Owner, float],
    ) -> bool:
        """A claim or renewal in Redis, mirrored locally (local writes then pass the owner check);
        while Redis is away, the same in the local records."""
        taken = await _remote(remote)
        if taken is UNREACHED:
            return await local(*lease)
        if taken:
            await self.local.mirror(*lease)
        return bool(taken)

    async def save(self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False) -> bool:
        saved = await _remote(self.redis.save(ident, owner, state, ttl, last=last))
        if saved is False:
            return False  # another replica owns the job
        mirrored = await self.local.save(ident, owner, state, ttl, last=last)
        return mirrored if saved is UNREACHED else bool(saved)

    async def holder(self, ident: str) -> Owner | None:
        held = await _remote(self.redis.holder(ident))
        return await self.local.holder(ident) if held is UNREACHED else held  # type: ignore[return-value]

    async def request_cancel(self, ident: str, run: str, ttl: int) -> None:
        if await _remote(self.redis.request_cancel(ident, run, ttl)) is UNREACHED:
            await self.local.request_cancel(ident, run, ttl)

    async def cancelled_run(self, ident: str) -> str | None:
        remote = await _remote(self.redis.cancelled_run(ident))
        return remote if isinstance(remote, str) else await self.local.cancelled_run(ident)


async def warn_if_evicting(records: JobRecords) -> None:
    """Log once at start-up when the jobs' Redis may evict keys: a burst of answers in the same
    instance would then evict running jobs' records (their polls answer 404)."""
    if not isinstance(records, FallbackJobRecords):
        return
    try:  # directly, not through the store: CONFIG may be refused (managed Redis) without an outage
        policy = await records.redis.redis.client.config_get("maxmemory-policy")
    except (RedisError, OSError):
        return
    chosen = policy.get("maxmemory-policy", "")
    if chosen and chosen != "noeviction":
        log.warning(
            "the jobs' Redis runs maxmemory-policy %s: cached answers can evict job records; give jobs an "
            "instance with noeviction (POLYGLOT_JOBS_REDIS_URL)",
            chosen,
        )
