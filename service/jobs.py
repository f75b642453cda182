"""Long-running analyses: computed once per key, cached, polled as jobs when slow, never orphaned.

`Jobs.run(key, kind, compute, request)`:
- a cached result answers at once (200, `cached: true`);
- otherwise the replica that claims the job's *lease* (a short-lived key in the job store) computes
  it in a worker thread and renews the lease while it runs; identical requests here or on another
  replica join it (202 with `/v1/jobs/{id}` to poll) instead of starting another;
- the request waits up to `sync_wait` seconds; a result by then answers 200, else 202.

A replica that dies stops renewing: its lease lapses within `lease` seconds and the next request or
poll, on any replica, claims the job again (the state carries the request, so a poll can restart it).
`cancel` stops a job between blocks of its work (each progress report checks the flag), here or, via
the store, on the replica running it. Job state lives in its own store, not among cached responses,
so no burst of answers can evict it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import msgspec

from service.cache import Store
from service.errors import DomainError, InvalidInput, Overloaded, UnknownJob
from service.metrics import metrics

log = logging.getLogger("service.jobs")
Progress = Callable[[float], None]
Compute = Callable[[Progress], bytes]  # a job's work: reports progress, returns the encoded result
Status = Literal["running", "done", "failed", "cancelled"]


class JobRequest(msgspec.Struct):
    """What restarts a job anywhere: the endpoint, its path parameters and the resolved request."""

    endpoint: str
    path: dict[str, str]
    query: dict[str, Any]


class JobState(msgspec.Struct, omit_defaults=True):
    id: str
    kind: str
    status: Status
    progress: float = 0.0
    started: float = 0.0
    finished: float | None = None
    result: dict[str, Any] | None = None  # the decoded result once done (small: a few KB)
    error: dict[str, str | int] | None = None
    request: JobRequest | None = None


class Outcome(msgspec.Struct):
    status_code: int  # 200 or 202
    body: msgspec.Raw | JobState
    cached: bool


class Cancelled(Exception):
    """Raised inside a job's thread at its next progress report once the job is cancelled."""


def job_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


class Jobs:
    def __init__(
        self,
        store: Store,
        results: Store,
        ttl: int,
        sync_wait: float = 3.0,
        workers: int = 2,
        count: Callable[[str, str], None] | None = None,
        max_queued: int = 16,
        lease: float = 30.0,
    ) -> None:
        self.store = store  # job state, leases, cancel flags
        self.results = results  # encoded results, among the cached answers
        self.ttl = ttl
        self.sync_wait = sync_wait
        self.workers = workers
        self.max_queued = max_queued
        self.lease = lease
        self.owner = uuid.uuid4().hex  # this replica
        self.count = count or (lambda kind, outcome: None)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis")
        self.local: dict[str, asyncio.Future[bytes]] = {}
        self.stops: dict[str, threading.Event] = {}

    def close(self) -> None:
        for stop in self.stops.values():
            stop.set()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def forget(self, key: str) -> None:
        """Drop a cached result (it did not decode): the next run computes it again."""
        await self.results.delete(f"result:{key}")

    async def state(self, ident: str) -> JobState:
        raw = await self.store.get(f"job:{ident}")
        if raw is None:
            raise UnknownJob(f"no job {ident!r} (finished jobs are kept for the cache TTL)", field="job_id")
        try:
            return msgspec.json.decode(raw, type=JobState)
        except msgspec.DecodeError as exc:
            raise UnknownJob(f"job {ident!r} state is unreadable", field="job_id") from exc

    async def orphaned(self, job: JobState) -> bool:
        """A running job whose lease has lapsed: its replica died (or lost the store)."""
        return (
            job.status == "running"
            and job.id not in self.local
            and await self.store.get(f"lease:{job.id}") is None
        )

    async def _save(self, job: JobState) -> None:
        await self.store.set(f"job:{job.id}", msgspec.json.encode(job), self.ttl)

    async def run(
        self, key: str, kind: str, compute: Callable[[Progress], bytes], request: JobRequest | None = None
    ) -> Outcome:
        """`compute(progress)` returns the encoded result (JSON bytes)."""
        cached = await self.results.get(f"result:{key}")
        if cached is not None:
            self.count(kind, "hit")
            return Outcome(200, msgspec.Raw(cached), True)
        self.count(kind, "miss")
        ident = job_id(key)
        future = self.local.get(ident)
        if future is None:
            if len(self.local) >= self.workers + self.max_queued:  # refused before claiming the lease
                raise Overloaded(
                    f"{len(self.local)} analyses are running or queued here; try again shortly",
                    retry_after=5,
                )
            if not await self.store.add(f"lease:{ident}", self.owner.encode(), self._lease_ttl()):
                try:  # another replica holds the lease: poll its job
                    return Outcome(202, await self.state(ident), False)
                except UnknownJob:  # claimed a moment ago, state not written yet
                    return Outcome(202, JobState(ident, kind, "running", started=time.time()), False)
            future = await self._start(key, ident, kind, compute, request)
        try:
            body = await asyncio.wait_for(asyncio.shield(future), timeout=self.sync_wait)
        except TimeoutError:
            return Outcome(202, await self.state(ident), False)
        return Outcome(200, msgspec.Raw(body), False)

    async def cancel(self, ident: str) -> JobState:
        """Stop a running job (here, or through the store on the replica running it)."""
        job = await self.state(ident)
        if job.status != "running":
            raise InvalidInput(
                f"job {ident!r} has already {job.status.replace('done', 'finished')}", field="job_id"
            )
        if ident in self.stops:
            self.stops[ident].set()
        else:
            await self.store.set(f"cancel:{ident}", b"1", max(1, int(self.lease * 2)))
        return job

    def _lease_ttl(self) -> int:
        return max(1, round(self.lease))

    async def _start(
        self,
        key: str,
        ident: str,
        kind: str,
        compute: Callable[[Progress], bytes],
        request: JobRequest | None,
    ) -> asyncio.Future[bytes]:
        loop = asyncio.get_running_loop()
        started = time.time()
        last = [0.0]
        stop = self.stops[ident] = threading.Event()
        await self._save(JobState(ident, kind, "running", started=started, request=request))

        def progress(share: float) -> None:  # called from the worker thread, between blocks of work
            if stop.is_set():
                raise Cancelled(ident)
            if (share - last[0] >= 0.05 or share >= 1.0) and not loop.is_closed():
                last[0] = share
                state = JobState(ident, kind, "running", round(share, 3), started, request=request)
                asyncio.run_coroutine_threadsafe(self._save(state), loop)

        def timed(report: Progress) -> bytes:
            report(0.0)  # cancelled while queued: do not start
            with metrics().analysis_seconds.labels(kind).time():
                return compute(report)

        async def finish(task: asyncio.Future[bytes]) -> None:
            self.local.pop(ident, None)
            self.stops.pop(ident, None)
            heartbeat.cancel()
            error = None if task.cancelled() else task.exception()
            ended = JobState(ident, kind, "done", 1.0, started, time.time(), request=request)
            if task.cancelled() or isinstance(error, Cancelled):
                ended = msgspec.structs.replace(ended, status="cancelled", progress=last[0])
            elif error is None:
                result = task.result()
                await self.results.set(f"result:{key}", result, self.ttl)
                ended = msgspec.structs.replace(ended, result=msgspec.json.decode(result))
            else:
                known = isinstance(error, DomainError)
                if not known:
                    log.error("job %s (%s) failed: %r", ident, kind, error)
                detail = error.detail if isinstance(error, DomainError) else "the computation failed"
                reason = type(error).__name__ if known else "internal"  # the API maps it to a status
                ended = msgspec.structs.replace(
                    ended, status="failed", progress=last[0], error={"kind": reason, "detail": detail}
                )
            await self._save(ended)
            await self.store.delete(f"lease:{ident}")

        future: asyncio.Future[bytes] = loop.run_in_executor(self.executor, timed, progress)
        heartbeat = asyncio.ensure_future(self._renew(ident, stop))
        self.local[ident] = future
        future.add_done_callback(lambda task: asyncio.ensure_future(finish(task)))
        return future

    async def _renew(self, ident: str, stop: threading.Event) -> None:
        """Keep the lease while the job runs; pick up a cancel request left by another replica."""
        while True:
            await asyncio.sleep(self.lease / 3)
            await self.store.set(f"lease:{ident}", self.owner.encode(), self._lease_ttl())
            if await self.store.get(f"cancel:{ident}") is not None:
                stop.set()
