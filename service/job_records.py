"""Where jobs keep their records: each job's state, the lease of the replica computing it, and cancel
requests. Every write of a state is checked against the lease's owner in one atomic step, so a
replica that lost its lease (it stalled, or the lease lapsed and another replica took the job over)
can no longer write: one owner at a time, and no "running" after "done".

- `LocalJobRecords`: a SQLite file shared by the workers of one machine (the default without Redis).
- `RedisJobRecords`: Redis, shared by replicas; the owner checks are Lua scripts. Give it an instance
  (or database of an instance) that does not evict: `noeviction` (deploy/ runs one beside the cache).
- `FallbackJobRecords`: Redis first; while Redis is unreachable, the local records.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.redis_client import ResilientRedis

Owner = str
TABLES = {"states": "state BLOB", "leases": "owner TEXT", "cancels": "flag INT"}
log = logging.getLogger("service.jobs")


class JobRecords(Protocol):
    name: str

    async def load(self, ident: str) -> bytes | None:
        """The job's encoded state (None: no such job, or expired)."""
        ...

    async def claim(self, ident: str, owner: Owner, lease: float) -> bool:
        """Take the lease when nobody holds it; True when `owner` now holds it."""
        ...

    async def renew(self, ident: str, owner: Owner, lease: float) -> bool:
        """Extend `owner`'s lease; False when it lapsed (whether or not another replica took it
        since: the job may have been finished by another, so a lapsed lease is never taken back)."""
        ...

    async def save(self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False) -> bool:
        """Write the state if `owner` holds the lease (`last`: and release the lease); False if not."""
        ...

    async def holder(self, ident: str) -> Owner | None: ...

    async def request_cancel(self, ident: str, ttl: int) -> None: ...

    async def cancel_requested(self, ident: str) -> bool: ...


class LocalJobRecords:
    """Job records in a SQLite file (WAL), shared by every worker process on this machine.
    Calls run in a thread: a busy database never stalls the event loop."""

    name = "local"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # one connection per process, used by one thread at a time
        self._db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose the last writes, never corrupt
            for table, column in TABLES.items():
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, {column}, expires REAL)"
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    async def _run(
        self, sql: list[tuple[str, tuple[object, ...]]], check: tuple[str, Owner] | None = None
    ) -> bool:
        """Run the statements in one write transaction; with `check` (ident, owner), only when the
        owner holds that job's lease. True when they ran."""
        return await asyncio.to_thread(self._transaction, sql, check)

    def _transaction(
        self, sql: list[tuple[str, tuple[object, ...]]], check: tuple[str, Owner] | None
    ) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if check is not None and self._owner(check[0], now) != check[1]:
                    self._db.execute("ROLLBACK")
                    return False
                for statement, args in sql:
                    self._db.execute(statement, args)
                self._db.execute("COMMIT")
                return True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _owner(self, ident: str, now: float) -> Owner | None:
        row = self._db.execute(
            "SELECT owner FROM leases WHERE id = ? AND expires > ?", (ident, now)
        ).fetchone()
        return None if row is None else str(row[0])

    def _read(self, statement: str, args: tuple[object, ...]) -> object | None:
        with self._lock:
            row = self._db.execute(statement, args).fetchone()
        return None if row is None else row[0]

    async def load(self, ident: str) -> bytes | None:
        found = await asyncio.to_thread(
            self._read, "SELECT state FROM states WHERE id = ? AND expires > ?", (ident, time.time())
        )
        return found if isinstance(found, bytes) else None

    async def claim(self, ident: str, owner: Owner, lease: float) -> bool:
        return await asyncio.to_thread(self._take, ident, owner, lease, "claim")

    async def renew(self, ident: str, owner: Owner, lease: float) -> bool:
        return await asyncio.to_thread(self._take, ident, owner, lease, "renew")

    async def mirror(self, ident: str, owner: Owner, lease: float) -> None:
        """Set the lease as Redis holds it (`FallbackJobRecords` keeps this copy for an outage)."""
        await asyncio.to_thread(self._take, ident, owner, lease, "mirror")

    def _take(self, ident: str, owner: Owner, lease: float, how: str) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                held = self._owner(ident, now)
                free = {"claim": held is None, "renew": held == owner, "mirror": True}[how]
                if free:
                    self._db.execute(
                        "INSERT OR REPLACE INTO leases (id, owner, expires) VALUES (?, ?, ?)",
                        (ident, owner, now + lease),
                    )
                    # expired rows of every table go now and then (cheap: an index on the key only)
                    for table in TABLES:
                        self._db.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))
                self._db.execute("COMMIT")
                return free
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    async def save(self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False) -> bool:
        sql: list[tuple[str, tuple[object, ...]]] = [
            (
                "INSERT OR REPLACE INTO states (id, state, expires) VALUES (?, ?, ?)",
                (ident, state, time.time() + ttl),
            )
        ]
        if last:
            sql.append(("DELETE FROM leases WHERE id = ?", (ident,)))
        return await self._run(sql, (ident, owner))

    async def holder(self, ident: str) -> Owner | None:
        return await asyncio.to_thread(self._locked_owner, ident)

    def _locked_owner(self, ident: str) -> Owner | None:
        with self._lock:
            return self._owner(ident, time.time())

    async def request_cancel(self, ident: str, ttl: int) -> None:
        await self._run([("INSERT OR REPLACE INTO cancels VALUES (?, 1, ?)", (ident, time.time() + ttl))])

    async def cancel_requested(self, ident: str) -> bool:
        found = await asyncio.to_thread(
            self._read, "SELECT flag FROM cancels WHERE id = ? AND expires > ?", (ident, time.time())
        )
        return found is not None


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


class RedisJobRecords:
    """Job records in Redis (keys `job:`, `lease:`, `cancel:`), through a `ResilientRedis`'s short timeouts
    and cool-down. Each call answers (value, reachable)."""

    name = "redis"

    def __init__(self, redis: ResilientRedis) -> None:
        self.redis = redis
        client: Redis = redis.client
        self._save = client.register_script(_SAVE)
        self._renew = client.register_script(_RENEW)

    async def load(self, ident: str) -> tuple[bytes | None, bool]:
        return await self.redis.get(f"job:{ident}")

    async def claim(self, ident: str, owner: Owner, lease: float) -> tuple[bool, bool]:
        return await self.redis.add(f"lease:{ident}", owner.encode(), max(1, round(lease)))

    async def renew(self, ident: str, owner: Owner, lease: float) -> tuple[bool, bool]:
        done, ok = await self.redis.call(
            lambda: self._renew(keys=[f"lease:{ident}"], args=[owner, int(lease * 1000)]), 0
        )
        return bool(done), ok

    async def save(
        self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False
    ) -> tuple[bool, bool]:
        keys = [f"lease:{ident}", f"job:{ident}"]
        done, ok = await self.redis.call(
            lambda: self._save(keys=keys, args=[owner, state, ttl, int(last)]), 0
        )
        return bool(done), ok

    async def holder(self, ident: str) -> tuple[Owner | None, bool]:
        value, ok = await self.redis.get(f"lease:{ident}")
        return (None if value is None else value.decode()), ok

    async def request_cancel(self, ident: str, ttl: int) -> bool:
        return await self.redis.set(f"cancel:{ident}", b"1", ttl)

    async def cancel_requested(self, ident: str) -> tuple[bool, bool]:
        value, ok = await self.redis.get(f"cancel:{ident}")
        return value is not None, ok


class FallbackJobRecords:
    """Redis first, every write mirrored in the local records, which answer while Redis is
    unreachable (this machine's workers keep working; other machines see the job again once Redis is
    back and the job is asked for)."""

    name = "redis"

    def __init__(self, redis: RedisJobRecords, local: LocalJobRecords) -> None:
        self.redis = redis
        self.local = local

    async def load(self, ident: str) -> bytes | None:
        value, ok = await self.redis.load(ident)
        return value if ok and value is not None else await self.local.load(ident)

    async def claim(self, ident: str, owner: Owner, lease: float) -> bool:
        claimed, ok = await self.redis.claim(ident, owner, lease)
        if not ok:
            return await self.local.claim(ident, owner, lease)
        if claimed:
            await self.local.mirror(ident, owner, lease)  # local writes then pass the owner check
        return claimed

    async def renew(self, ident: str, owner: Owner, lease: float) -> bool:
        renewed, ok = await self.redis.renew(ident, owner, lease)
        if not ok:
            return await self.local.renew(ident, owner, lease)
        if renewed:
            await self.local.mirror(ident, owner, lease)
        return renewed

    async def save(self, ident: str, owner: Owner, state: bytes, ttl: int, *, last: bool = False) -> bool:
        saved, ok = await self.redis.save(ident, owner, state, ttl, last=last)
        if ok and not saved:
            return False  # another replica owns the job
        mirrored = await self.local.save(ident, owner, state, ttl, last=last)
        return saved if ok else mirrored

    async def holder(self, ident: str) -> Owner | None:
        value, ok = await self.redis.holder(ident)
        return value if ok else await self.local.holder(ident)

    async def request_cancel(self, ident: str, ttl: int) -> None:
        if not await self.redis.request_cancel(ident, ttl):
            await self.local.request_cancel(ident, ttl)

    async def cancel_requested(self, ident: str) -> bool:
        flagged, _ = await self.redis.cancel_requested(ident)
        return flagged or await self.local.cancel_requested(ident)


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
