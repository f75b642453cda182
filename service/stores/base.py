"""The two stores behind the service, one protocol each, one module per backend beside them:

    AnswerStore   encoded answers with a TTL (memory.py: in-process; redis.py: shared by replicas;
                  fallback.py: Redis first, the local copy while it is away)
    JobRecords    each job's state, the lease of the replica computing it, and cancel requests
                  (sqlite.py: one machine's workers; redis.py; fallback.py)

A Redis backend that cannot reach its server raises `Unreachable`; the fallback backends answer from
their local copy then, so no request fails for a Redis outage. Every backend subclasses its protocol,
so mypy checks that it satisfies it.
"""

from __future__ import annotations

from typing import Protocol

Owner = str


class Unreachable(Exception):
    """The store's server did not answer (down, hung, or in its cool-down after a failure)."""


class AnswerStore(Protocol):
    name: str
    # whether values are sealed with their digest (service/cache.py): they leave this process (Redis)
    # and may come back damaged; in-process values cannot, and a 16 KB digest costs ~12 µs a request
    sealed: bool

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: int) -> None: ...

    async def add(self, key: str, value: bytes, ttl: int) -> bool:
        """Set only when absent; True when this call set it (a lock / single-flight claim)."""
        ...

    async def delete(self, key: str) -> None: ...


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

    async def request_cancel(self, ident: str, run: str, ttl: int) -> None:
        """Ask the replica computing run `run` of the job to stop it (a later run is not concerned)."""
        ...

    async def cancelled_run(self, ident: str) -> str | None:
        """The run of the job whose cancel was asked for within its flag's lifetime, if any."""
        ...
