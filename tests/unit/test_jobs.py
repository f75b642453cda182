"""Jobs across replicas: a lapsed lease is taken over, a cancel stops the work between blocks."""

from __future__ import annotations

import asyncio
import threading
import time

import msgspec

from service.cache import MemoryStore
from service.jobs import JobRequest, Jobs, Progress

REQUEST = JobRequest("diversity", {"model": "m"}, {"seed": 1})


def replica(store: MemoryStore, results: MemoryStore, sync_wait: float = 0.05) -> Jobs:
    return Jobs(store, results, ttl=60, sync_wait=sync_wait, lease=1.0)


def test_a_dead_replicas_job_is_taken_over_once_its_lease_lapses() -> None:
    async def scenario() -> list[object]:
        store, results = MemoryStore(), MemoryStore()
        dead, alive = replica(store, results), replica(store, results, sync_wait=5.0)
        hold = threading.Event()

        def stuck(progress: Progress) -> bytes:  # the first replica never finishes: it "dies"
            hold.wait(10)
            return b"{}"

        first = await dead.run("key", "diversity", stuck, REQUEST)
        dead.local.clear()  # the dying replica stops renewing its lease and forgets the job
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        joined = await alive.run("key", "diversity", lambda p: b'{"n":2}', REQUEST)  # the lease is held
        state = await alive.state(first.body.id)  # type: ignore[union-attr]
        orphaned_early = await alive.orphaned(state)
        time.sleep(1.1)  # the lease lapses
        orphaned_late = await alive.orphaned(state)
        taken = await alive.run("key", "diversity", lambda p: b'{"n":2}', REQUEST)
        await asyncio.sleep(0.05)
        hold.set()
        done = await alive.state(first.body.id)  # type: ignore[union-attr]
        dead.close()
        alive.close()
        return [
            first.status_code,
            joined.status_code,
            orphaned_early,
            orphaned_late,
            taken.status_code,
            msgspec.json.encode(taken.body),
            done.status,
            done.request,
        ]

    first, joined, early, late, taken, body, status, request = asyncio.run(scenario())
    assert (first, joined, early, late, taken) == (202, 202, False, True, 200)
    assert body == b'{"n":2}' and status == "done" and request == REQUEST


def test_cancel_stops_a_job_between_blocks() -> None:
    async def scenario() -> tuple[str, int]:
        jobs = replica(MemoryStore(), MemoryStore())
        blocks: list[int] = []

        def slow(progress: Progress) -> bytes:
            for block in range(200):
                progress(block / 200)
                blocks.append(block)
                time.sleep(0.01)
            return b"{}"

        started = await jobs.run("key", "separability", slow, REQUEST)
        ident = started.body.id  # type: ignore[union-attr]
        await jobs.cancel(ident)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if (await jobs.state(ident)).status != "running":
                break
        state = await jobs.state(ident)
        jobs.close()
        return state.status, len(blocks)

    status, blocks = asyncio.run(scenario())
    assert status == "cancelled" and blocks < 50
