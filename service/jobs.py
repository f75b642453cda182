"""Long-running analyses: computed once per key, cached, polled as jobs when slow, never orphaned.

`Jobs.run(key, kind, compute, request)`:
- a cached result, or a finished job's record, answers at once (200, `cached: true`);
- otherwise the replica that claims the job's *lease* computes it in a worker thread and renews the
  lease while it runs; identical requests here or on another replica join it (202 with
  `/v1/jobs/{id}` to poll) instead of starting another;
- the request waits up to `sync_wait` seconds; a result by then answers 200, else 202.

The job's id is derived from its key (artifact checksums, endpoint and the canonical request), and
the record carries the canonical request: whichever replica restarts a job restarts the same one.
Every state write is checked against the lease's owner (`service/stores/`): a replica that
lost its lease stops its computation and writes nothing more. A replica that dies stops renewing:
its lease lapses within `lease` seconds and the next request or poll, on any replica, claims the job.

Jobs wait for a worker in order of their predicted cost (cheapest first, then first come), each
client may hold at most `per_client` of them, and a job past `deadline` seconds of work stops
between blocks and fails (503).
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import msgspec

from geometry.interrupt import Interrupted, Token, interruptible
from loaders.artifact import trim_heap
from service.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    Overloaded,
    TookTooLong,
    TooManyRequests,
    UnknownJob,
)
from service.metrics import metrics
from service.progress import Compute, Progress
from service.stores import AnswerStore, JobRecords

log = logging.getLogger("service.jobs")
Status = Literal["running", "done", "failed", "cancelled"]
T = TypeVar("T")
TICK = 1.0  # seconds between a running job's checks of its lease and of a cancel left elsewhere


class JobRequest(msgspec.Struct):
    """What restarts a job anywhere: the endpoint, its path parameters and the canonical request."""

    endpoint: str
    path: dict[str, str]
    query: dict[str, Any]
    client: str = ""  # who asked: with API keys, only that key may cancel it (service/api/access.py)


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
    run: str = ""  # this run of the job: a cancel names the run it was asked for, never a later one


class Outcome(msgspec.Struct):
    status_code: int  # 200 or 202
    body: msgspec.Raw | JobState
    cached: bool


class Cancelled(Exception):
    """Raised inside a job's thread at its next progress report once the job is cancelled (or its
    lease went to another replica)."""


@dataclass(kw_only=True)
class Work:
    """One job of this replica: what stops it, when it must end, and who asked for it."""

    ident: str
    kind: str
    client: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False  # the lease went to another replica: write nothing more
    deadline: float = float("inf")  # monotonic; set when a worker picks the job up


def job_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


class Jobs:
    def __init__(
        self,
        records: JobRecords,
        results: AnswerStore,
        ttl: int,
        sync_wait: float = 3.0,
        workers: int = 2,
        count: Callable[[str, str], None] | None = None,
        max_queued: int = 16,
        lease: float = 30.0,
        deadline: float = 600.0,
        per_client: int = 4,
    ) -> None:
        self.records = records  # job state, leases, cancel flags
        self.results = results  # encoded results, among the cached answers
        self.ttl = ttl
        self.sync_wait = sync_wait
        self.workers = workers
        self.max_queued = max_queued
        self.lease = lease
        self.deadline = deadline
        self.per_client = per_client
        self.owner = uuid.uuid4().hex  # this replica
        self.count = count or (lambda kind, outcome: None)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis")
        self.local: dict[str, asyncio.Future[bytes]] = {}
        self.work: dict[str, Work] = {}
        self._waiting: list[tuple[float, int, Callable[[], None]]] = []  # (cost, order, start)
        self._order = itertools.count()
        self._busy = 0

    def close(self) -> None:
        for work in self.work.values():
            work.stop.set()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def forget(self, key: str) -> None:
        """Drop a cached result (it did not decode): the next run computes it again."""
        await self.results.delete(f"result:{key}")

    async def state(self, ident: str) -> JobState:
        raw = await self.records.load(ident)
        if raw is None:
            raise UnknownJob(f"no job {ident!r} (finished jobs are kept for the cache TTL)", field="job_id")
        try:
            return msgspec.json.decode(raw, type=JobState)
        except msgspec.DecodeError as exc:
            raise UnknownJob(f"job {ident!r} state is unreadable", field="job_id") from exc

    async def orphaned(self, job: JobState) -> bool:
        """A running job whose lease has lapsed: its replica died (or lost the store)."""
        return (
            job.status == "running" and job.id not in self.local and await self.records.holder(job.id) is None
        )

    async def _done(self, ident: str) -> bytes | None:
        """A finished job's result from its record (the cached answer may have been evicted)."""
        try:
            job = await self.state(ident)
        except UnknownJob:
            return None
        return msgspec.json.encode(job.result) if job.status == "done" and job.result is not None else None

    async def run(
        self,
        key: str,
        kind: str,
        compute: Compute,
        request: JobRequest | None = None,
        *,
        cost: float = 1.0,
        client: str = "",
    ) -> Outcome:
        """`compute(progress)` returns the encoded result (JSON bytes); `cost` (predicted seconds)
        orders the queue; `client` names who asked (each may hold `per_client` jobs here)."""
        ident = job_id(key)
        cached = await self.results.get(f"result:{key}") or await self._done(ident)
        if cached is not None:
            self.count(kind, "hit")
            return Outcome(200, msgspec.Raw(cached), True)
        self.count(kind, "miss")
        future = self.local.get(ident)
        if future is None:
            self._admit(client)
            if not await self.records.claim(ident, self.owner, self.lease):  # another replica has it
                try:
                    return Outcome(202, await self.state(ident), False)
                except UnknownJob:  # claimed a moment ago, state not written yet
                    return Outcome(202, JobState(ident, kind, "running", started=time.time()), False)
            future = await self._start(
                key, Work(ident=ident, kind=kind, client=client), compute, request, cost
            )
        try:
            body = await asyncio.wait_for(asyncio.shield(future), timeout=self.sync_wait)
        except TimeoutError:
            return Outcome(202, await self.state(ident), False)
        except Cancelled:  # cancelled, or taken over by another replica: its record says which
            return Outcome(202, await self.state(ident), False)
        return Outcome(200, msgspec.Raw(body), False)

    def _admit(self, client: str) -> None:
        """Refuse, before claiming the lease, a job beyond the queue or beyond the client's share."""
        if len(self.local) >= self.workers + self.max_queued:
            raise Overloaded(
                f"{len(self.local)} analyses are running or queued here; try again shortly", retry_after=5
            )
        mine = sum(1 for work in self.work.values() if work.client == client)
        if mine >= self.per_client:
            raise TooManyRequests(
                f"you have {mine} analyses running or queued here (at most {self.per_client} per client); "
                "poll them, or try again once one finishes",
                retry_after=5,
            )

    async def cancel(self, ident: str, client: str = "") -> JobState:
        """Stop a running job (here, or through the records on the replica running it). With API keys
        (a client known by its key), only the key that asked for the job may cancel it; without
        keys, anyone who reaches the service may."""
        job = await self.state(ident)
        asked = "" if job.request is None else job.request.client
        if asked.startswith("key:") and client != asked:
            raise Forbidden(f"job {ident!r} was asked for with another API key: only that key may cancel it")
        if job.status != "running":
            raise InvalidInput(
                f"job {ident!r} has already {job.status.replace('done', 'finished')}", field="job_id"
            )
        here = self.work.get(ident)
        if here is not None and here.run == job.run:
            here.stop.set()
        else:  # the replica running it stops it within a second (`_renew`)
            await self.records.request_cancel(ident, job.run, max(1, int(self.lease * 2)))
        return job

    async def _save(self, work: Work, state: JobState, last: bool = False) -> None:
        if work.lost:
            return
        if not await self.records.save(
            work.ident, self.owner, msgspec.json.encode(state), self.ttl, last=last
        ):
            self._lose(work)

    def _lose(self, work: Work) -> None:
        if not work.lost:
            log.warning("job %s: another replica holds its lease; stopping here", work.ident)
        work.lost = True
        work.stop.set()

    async def _start(
        self, key: str, work: Work, compute: Compute, request: JobRequest | None, cost: float
    ) -> asyncio.Future[bytes]:
        loop = asyncio.get_running_loop()
        ident, kind = work.ident, work.kind
        started = time.time()
        last = [0.0]
        self.work[ident] = work
        run = work.run
        await self._save(work, JobState(ident, kind, "running", started=started, request=request, run=run))

        def late() -> TookTooLong:
            return TookTooLong(f"the analysis passed its deadline of {self.deadline:g} s of work")

        def progress(share: float) -> None:  # called from the worker thread, between blocks of work
            if work.stop.is_set():
                raise Cancelled(ident)
            if time.monotonic() > work.deadline:
                raise late()
            if (share - last[0] >= 0.05 or share >= 1.0) and not loop.is_closed():
                last[0] = share
                state = JobState(ident, kind, "running", round(share, 3), started, request=request, run=run)
                asyncio.run_coroutine_threadsafe(self._save(work, state), loop)

        def timed(report: Progress) -> bytes:
            work.deadline = time.monotonic() + self.deadline  # counted from the start, not the queue
            report(0.0)  # cancelled while queued: do not start
            # The analysis's inner loops (geometry's checkpoints) stop on the same flag and deadline
            # as its progress reports: a long step stops within a block, not at its next report.
            token = Token(deadline=work.deadline, cancelled=work.stop)
            try:
                with metrics().analysis_seconds.labels(kind).time(), interruptible(token):
                    return compute(report)
            except Interrupted as stopped:
                if stopped.reason == "cancelled":
                    raise Cancelled(ident) from None
                raise late() from None
            finally:
                trim_heap()  # an analysis frees hundreds of MB: give them back to the system

        async def finish(task: asyncio.Future[bytes]) -> None:
            self.local.pop(ident, None)
            self.work.pop(ident, None)
            heartbeat.cancel()
            error = None if task.cancelled() else task.exception()
            ended = JobState(ident, kind, "done", 1.0, started, time.time(), request=request, run=run)
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
            await self._save(work, ended, last=True)

        future: asyncio.Future[bytes] = loop.create_future()

        def begin() -> None:  # a worker is free: run the job in it
            running = loop.run_in_executor(self.executor, timed, progress)

            def ended(task: asyncio.Future[bytes]) -> None:
                self._busy -= 1
                self._next()
                if future.done():
                    return
                if task.cancelled():
                    future.cancel()
                elif (error := task.exception()) is not None:
                    future.set_exception(error)
                else:
                    future.set_result(task.result())

            running.add_done_callback(ended)

        heartbeat = asyncio.ensure_future(self._renew(work))
        self.local[ident] = future

        def settle(task: asyncio.Future[bytes]) -> None:
            if not loop.is_closed():  # a stopping service records nothing more
                loop.create_task(finish(task))

        future.add_done_callback(settle)
        heapq.heappush(self._waiting, (cost, next(self._order), begin))
        self._next()
        return future

    def _next(self) -> None:
        """Start the cheapest waiting jobs while workers are free."""
        while self._busy < self.workers and self._waiting:
            _, _, begin = heapq.heappop(self._waiting)
            self._busy += 1
            begin()

    async def _renew(self, work: Work) -> None:
        """Keep the lease while the job runs and pick up a cancel of this run left through another
        replica, once a second: a lost lease or a cancel stops the job's step within about a second
        (each step reports progress at least once a second)."""
        while True:
            await asyncio.sleep(min(TICK, self.lease / 3))
            if not await self.records.renew(work.ident, self.owner, self.lease):
                self._lose(work)
            if await self.records.cancelled_run(work.ident) == work.run:
                work.stop.set()
