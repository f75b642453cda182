"""Long-running analyses: computed once per key, cached, and polled as jobs when slow.

`Jobs.run(key, compute)`:
- a cached result answers at once (200, `cached: true`);
- otherwise one computation per key starts in a worker thread (identical requests, here or on
  another replica sharing the store, join it instead of starting another);
- the request waits up to `sync_wait` seconds; a result by then answers 200, else 202 with
  `/v1/jobs/{id}` to poll. Job state (status, progress, result) lives in the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import msgspec

from service.cache import Store
from service.errors import DomainError, Overloaded, UnknownJob
from service.metrics import metrics

log = logging.getLogger("service.jobs")
Progress = Callable[[float], None]


class JobState(msgspec.Struct, omit_defaults=True):
    id: str
    kind: str
    status: Literal["running", "done", "failed"]
    progress: float = 0.0
    started: float = 0.0
    finished: float | None = None
    result: dict[str, Any] | None = None  # the decoded result once done (small: a few KB)
    error: dict[str, str | int] | None = None


class Outcome(msgspec.Struct):
    status_code: int  # 200 or 202
    body: msgspec.Raw | JobState
    cached: bool


def job_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


class Jobs:
    def __init__(
        self,
        store: Store,
        ttl: int,
        sync_wait: float = 3.0,
        workers: int = 2,
        count: Callable[[str, str], None] | None = None,
        max_queued: int = 16,
    ) -> None:
        self.workers = workers
        self.max_queued = max_queued
        self.count = count or (lambda kind, outcome: None)
        self.store = store
        self.ttl = ttl
        self.sync_wait = sync_wait
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis")
        self.local: dict[str, asyncio.Future[bytes]] = {}

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def forget(self, key: str) -> None:
        """Drop a cached result (it did not decode): the next run computes it again."""
        await self.store.delete(f"result:{key}")

    async def state(self, ident: str) -> JobState:
        raw = await self.store.get(f"job:{ident}")
        if raw is None:
            raise UnknownJob(f"no job {ident!r} (finished jobs are kept for the cache TTL)", field="job_id")
        try:
            return msgspec.json.decode(raw, type=JobState)
        except msgspec.DecodeError as exc:
            raise UnknownJob(f"job {ident!r} state is unreadable", field="job_id") from exc

    async def _save(self, job: JobState) -> None:
        await self.store.set(f"job:{job.id}", msgspec.json.encode(job), self.ttl)

    async def run(self, key: str, kind: str, compute: Callable[[Progress], bytes]) -> Outcome:
        """`compute(progress)` returns the encoded result (JSON bytes)."""
        cached = await self.store.get(f"result:{key}")
        if cached is not None:
            self.count(kind, "hit")
            return Outcome(200, msgspec.Raw(cached), True)
        self.count(kind, "miss")
        ident = job_id(key)
        future = self.local.get(ident)
        if future is None:
            if len(self.local) >= self.workers + self.max_queued:  # refused before claiming the key
                raise Overloaded(
                    f"{len(self.local)} analyses are running or queued here; try again shortly",
                    retry_after=5,
                )
            claimed = await self.store.add(
                f"job:{ident}",
                msgspec.json.encode(JobState(ident, kind, "running", started=time.time())),
                self.ttl,
            )
            if not claimed:
                existing = await self.state(ident)
                if existing.status == "running":  # another replica computes it: poll there
                    return Outcome(202, existing, False)
                await self.store.delete(f"job:{ident}")  # done but result evicted, or failed: again
                return await self.run(key, kind, compute)
            future = self._start(key, ident, kind, compute)
        try:
            body = await asyncio.wait_for(asyncio.shield(future), timeout=self.sync_wait)
        except TimeoutError:
            return Outcome(202, await self.state(ident), False)
        return Outcome(200, msgspec.Raw(body), False)

    def _start(
        self, key: str, ident: str, kind: str, compute: Callable[[Progress], bytes]
    ) -> asyncio.Future[bytes]:
        loop = asyncio.get_running_loop()
        started = time.time()
        last = [0.0]

        def progress(share: float) -> None:  # called from the worker thread; throttled
            if (share - last[0] >= 0.05 or share >= 1.0) and not loop.is_closed():
                last[0] = share
                state = JobState(ident, kind, "running", round(share, 3), started)
                asyncio.run_coroutine_threadsafe(self._save(state), loop)

        async def finish(task: asyncio.Future[bytes]) -> None:
            self.local.pop(ident, None)
            if task.cancelled():
                return
            error = task.exception()
            if error is None:
                result = task.result()
                await self.store.set(f"result:{key}", result, self.ttl)
                await self._save(
                    JobState(ident, kind, "done", 1.0, started, time.time(), msgspec.json.decode(result))
                )
            else:
                known = isinstance(error, DomainError)
                if not known:
                    log.error("job %s (%s) failed: %r", ident, kind, error)
                detail = error.detail if isinstance(error, DomainError) else "the computation failed"
                reason = type(error).__name__ if known else "internal"  # the API maps it to a status
                await self._save(
                    JobState(
                        ident,
                        kind,
                        "failed",
                        last[0],
                        started,
                        time.time(),
                        error={"kind": reason, "detail": detail},
                    )
                )

        def timed(report: Progress) -> bytes:
            with metrics().analysis_seconds.labels(kind).time():
                return compute(report)

        future: asyncio.Future[bytes] = loop.run_in_executor(self.executor, timed, progress)
        self.local[ident] = future
        future.add_done_callback(lambda task: asyncio.ensure_future(finish(task)))
        return future
