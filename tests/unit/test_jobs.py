"""Jobs across replicas sharing one set of job records (a SQLite file, as the workers of one machine
do): a lapsed lease is taken over, a replica that lost its lease writes nothing more, a cancel stops
the work between blocks, the cheapest job runs first, one client cannot fill the queue, and a job
past its deadline fails."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import msgspec
import numpy as np
import pytest

from geometry.space_agreement import agreement
from service.errors import Forbidden, TooManyRequests
from service.jobs import JobRequest, Jobs, JobState
from service.progress import Compute, Progress
from service.stores import MemoryAnswers, SqliteJobRecords

REQUEST = JobRequest("diversity", {"model": "m"}, {"seed": 1})


def replica(
    records: SqliteJobRecords, results: MemoryAnswers, sync_wait: float = 0.05, **options: float
) -> Jobs:
    return Jobs(records, results, ttl=60, sync_wait=sync_wait, lease=1.0, **options)  # type: ignore[arg-type]


def slow_job(count: int, blocks: list[int], result: bytes) -> Compute:
    """A job of `count` 10 ms blocks that reports progress (and checks for a stop) before each and
    records each it finished in `blocks`."""

    def compute(progress: Progress) -> bytes:
        for block in range(count):
            progress(block / count)
            blocks.append(block)
            time.sleep(0.01)
        return result

    return compute


async def settled(jobs: Jobs, ident: str) -> JobState:
    """The job's state once it no longer runs (2 s at most)."""
    for _ in range(100):
        state = await jobs.state(ident)
        if state.status != "running":
            break
        await asyncio.sleep(0.02)
    return state


def test_a_dead_replicas_job_is_taken_over_once_its_lease_lapses(tmp_path: Path) -> None:
    async def scenario() -> list[object]:
        records, results = SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers()
        dead, alive = replica(records, results), replica(records, results, sync_wait=5.0)
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
        await asyncio.sleep(1.1)  # the lease lapses
        orphaned_late = await alive.orphaned(state)
        taken = await alive.run("key", "diversity", lambda p: b'{"n":2}', REQUEST)
        await asyncio.sleep(0.05)
        hold.set()
        done = await alive.state(first.body.id)  # type: ignore[union-attr]
        await asyncio.sleep(0.2)  # the "dead" replica's thread ends (its lease is gone: it writes nothing)
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


def test_a_replica_that_lost_its_lease_stops_and_writes_nothing_more(tmp_path: Path) -> None:
    """The stalled owner's lease lapses and the other replica takes the job over: the first one's
    renewal fails, its work stops at the next block, and neither its progress nor its end reaches
    the record (before: both computed, the owner flipped, progress went backwards, and "running"
    followed "done")."""

    async def scenario() -> tuple[list[str], list[float], int, str]:
        records, results = SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers()
        first, second = replica(records, results), replica(records, results, sync_wait=5.0)
        blocks: list[int] = []
        slow = slow_job(300, blocks, b'{"by":"first"}')
        started = await first.run("key", "diversity", slow, REQUEST)
        ident = started.body.id  # type: ignore[union-attr]
        heartbeat = [t for t in asyncio.all_tasks() if "_renew" in repr(t)]
        for task in heartbeat:  # the first replica stalls: no renewal while the lease lapses
            task.cancel()
        await asyncio.sleep(1.1)
        seen: list[str] = []
        progress: list[float] = []
        taken = await second.run("key", "diversity", lambda p: b'{"by":"second"}', REQUEST)
        seen.append(msgspec.json.encode(taken.body).decode())
        # the first replica's next progress write (or renewal) finds the lease taken: it stops
        for _ in range(50):
            await asyncio.sleep(0.02)
            state = await first.state(ident)
            seen.append(state.status)
            progress.append(state.progress)
            if ident not in first.local:
                break
        await asyncio.sleep(0.1)
        final = await first.state(ident)
        first.close()
        second.close()
        return seen, progress, len(blocks), msgspec.json.encode(final.result).decode()

    seen, progress, blocks, result = asyncio.run(scenario())
    assert seen[0] == '{"by":"second"}'
    assert set(seen[1:]) == {"done"}  # never "running" again after the second replica finished
    assert progress == sorted(progress) and blocks < 300
    assert result == '{"by":"second"}'


def test_local_records_check_the_owner_of_every_write(tmp_path: Path) -> None:
    async def scenario() -> list[bool]:
        records = SqliteJobRecords(tmp_path / "jobs.sqlite")
        other = SqliteJobRecords(tmp_path / "jobs.sqlite")  # another worker process's connection
        return [
            await records.claim("j", "a", 0.2),
            await other.claim("j", "b", 0.2),  # held by a
            await other.save("j", "b", b"x", 60),  # not b's
            await records.save("j", "a", b"y", 60),
            await other.renew("j", "b", 0.2),
            await asyncio.sleep(0.25) or await records.renew("j", "a", 0.2),  # lapsed: never taken back
            await other.claim("j", "b", 0.2),  # free: b takes it
            await records.renew("j", "a", 0.2),  # a lost it
            await records.save("j", "a", b"z", 60, last=True),
            await other.save("j", "b", b"w", 60, last=True),  # b's end releases the lease
            await records.claim("j", "a", 0.2),
            (await other.load("j")) == b"w",
        ]

    expected = [True, False, False, True, False, False, True, False, False, True, True, True]
    assert asyncio.run(scenario()) == expected


def test_cancel_stops_a_job_between_blocks(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, int]:
        jobs = replica(SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers())
        blocks: list[int] = []
        started = await jobs.run("key", "separability", slow_job(200, blocks, b"{}"), REQUEST)
        ident = started.body.id  # type: ignore[union-attr]
        await jobs.cancel(ident)
        state = await settled(jobs, ident)
        jobs.close()
        return state.status, len(blocks)

    status, blocks = asyncio.run(scenario())
    assert status == "cancelled" and blocks < 50


def test_a_cancel_through_another_replica_stops_that_run_only(tmp_path: Path) -> None:
    """A cancel left in the records by the replica that got the DELETE stops the run within about a
    second (TICK, not a third of the 30 s lease); the same analysis asked again while the cancel's
    flag lives is a new run and finishes."""

    async def scenario() -> tuple[str, float, str, list[int]]:
        records, results = SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers()
        owner, other = (Jobs(records, results, ttl=60, sync_wait=0.05, lease=30.0) for _ in range(2))
        started = await owner.run("key", "separability", slow_job(1000, [], b"{}"), REQUEST)
        ident = started.body.id  # type: ignore[union-attr]
        asked = time.monotonic()
        await other.cancel(ident)
        first = await settled(owner, ident)
        took = time.monotonic() - asked
        again: list[int] = []
        rerun = await other.run("key", "separability", slow_job(300, again, b'{"n": 1}'), REQUEST)
        assert rerun.status_code == 202
        for _ in range(200):  # the new run: 3 s, past the flag's checks each second
            if (await other.state(ident)).status != "running":
                break
            await asyncio.sleep(0.05)
        second = (await other.state(ident)).status
        owner.close()
        other.close()
        return first.status, took, second, again

    first, took, second, blocks = asyncio.run(scenario())
    assert (first, second) == ("cancelled", "done")
    assert took < 2.0  # a second's tick, not a third of the lease (10 s)
    assert blocks == list(range(300))


def test_a_lease_lost_mid_step_stops_the_step_within_about_a_second(tmp_path: Path) -> None:
    """A long step (its progress does not move, so no state is written that would find the lease
    gone) stops within about a second of another replica taking its lease."""

    def one_long_step(progress: Progress) -> bytes:
        for _ in range(1000):
            progress(0.0)
            time.sleep(0.01)
        return b"{}"

    async def scenario() -> tuple[str, float, bytes | None]:
        records, results = SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers()
        jobs = Jobs(records, results, ttl=60, sync_wait=0.05, lease=30.0)  # type: ignore[arg-type]
        started = await jobs.run("key", "separability", one_long_step, REQUEST)
        ident = started.body.id  # type: ignore[union-attr]
        await asyncio.sleep(0.2)
        taken = time.monotonic()
        steal = "UPDATE leases SET owner = 'elsewhere' WHERE id = ?"
        await asyncio.to_thread(records._db.execute, steal, (ident,))
        while ident in jobs.local:
            await asyncio.sleep(0.02)
        stopped = time.monotonic() - taken
        jobs.close()
        return (await jobs.state(ident)).status, stopped, await results.get("result:key")

    status, stopped, result = asyncio.run(scenario())
    assert status == "running"  # the replica that lost its lease wrote nothing more
    assert stopped < 2.0 and result is None


def test_a_step_without_progress_reports_stops_at_its_next_checkpoint(tmp_path: Path) -> None:
    """compare-spaces' main step (the two spaces' exact neighbors) reports no progress while it runs;
    its blocks check the job's flag and deadline (geometry's checkpoints), so a cancel stops it
    within a block, and a deadline fails it."""
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((120_000, 64)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    queries, reference = np.arange(0, 120_000, 600), np.arange(1000)

    def compare(progress: Progress) -> bytes:
        unit = lambda ids: rows[ids]  # noqa: E731
        for _ in range(50):  # far longer than the test waits
            agreement(unit, unit, len(rows), queries, reference, 10)
        return b"{}"

    async def scenario(deadline: float) -> tuple[JobState, float]:
        jobs = Jobs(
            SqliteJobRecords(tmp_path / f"{deadline}.sqlite"),
            MemoryAnswers(),
            ttl=60,
            sync_wait=0.05,
            deadline=deadline,
        )  # type: ignore[arg-type]
        started = await jobs.run("key", "compare-spaces", compare, REQUEST)
        ident = started.body.id  # type: ignore[union-attr]
        await asyncio.sleep(0.5)
        asked = time.monotonic()
        if deadline > 10:
            await jobs.cancel(ident)
        while ident in jobs.local:
            await asyncio.sleep(0.01)
        stopped = time.monotonic() - asked
        state = await jobs.state(ident)
        jobs.close()
        return state, stopped

    cancelled, took = asyncio.run(scenario(600.0))
    assert cancelled.status == "cancelled" and took < 1.0
    late, took = asyncio.run(scenario(1.0))
    assert late.status == "failed" and late.error == {
        "kind": "TookTooLong",
        "detail": "the analysis passed its deadline of 1 s of work",
    }
    assert took < 1.5


def test_with_api_keys_only_the_key_that_asked_may_cancel(tmp_path: Path) -> None:
    """A job asked for with a key (its client "key:..."): another key's cancel is refused (403), its
    own key's cancels it; a job asked for without keys may be cancelled by anyone."""

    async def scenario() -> tuple[str, str]:
        jobs = replica(SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers())
        keyed = msgspec.structs.replace(REQUEST, client="key:aaaaaaaaaaaa")
        started = await jobs.run("keyed", "separability", slow_job(200, [], b"{}"), keyed)
        ident = started.body.id  # type: ignore[union-attr]
        with pytest.raises(Forbidden, match="another API key"):
            await jobs.cancel(ident, "key:bbbbbbbbbbbb")
        await jobs.cancel(ident, "key:aaaaaaaaaaaa")
        open_job = await jobs.run("open", "separability", slow_job(200, [], b"{}"), REQUEST)
        other = open_job.body.id  # type: ignore[union-attr]
        await jobs.cancel(other, "key:bbbbbbbbbbbb")
        states = (await settled(jobs, ident)).status, (await settled(jobs, other)).status
        jobs.close()
        return states

    assert asyncio.run(scenario()) == ("cancelled", "cancelled")


def test_the_cheapest_waiting_job_runs_first_and_one_client_cannot_fill_the_queue(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[str], str]:
        jobs = replica(SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers(), workers=1, per_client=2)
        order: list[str] = []
        gate = threading.Event()

        def job(name: str) -> object:
            def compute(progress: Progress) -> bytes:
                if name == "first":
                    gate.wait(5)
                order.append(name)
                return b"{}"

            return compute

        await jobs.run("k1", "separability", job("first"), REQUEST, cost=100, client="a")  # takes the worker
        await jobs.run("k2", "separability", job("heavy"), REQUEST, cost=50, client="a")
        await jobs.run("k3", "diversity", job("cheap"), REQUEST, cost=0.1, client="b")
        try:
            await jobs.run("k4", "separability", job("one too many"), REQUEST, cost=50, client="a")
            refused = ""
        except TooManyRequests as exc:  # this client's share (429), the service is not full (503)
            refused = exc.detail
        gate.set()
        for _ in range(100):
            await asyncio.sleep(0.02)
            if len(order) == 3:
                break
        jobs.close()
        return order, refused

    order, refused = asyncio.run(scenario())
    assert order == ["first", "cheap", "heavy"]
    assert "you have 2 analyses running or queued" in refused


def test_a_job_past_its_deadline_fails(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, dict[str, object] | None]:
        jobs = replica(SqliteJobRecords(tmp_path / "jobs.sqlite"), MemoryAnswers(), deadline=0.2)

        def endless(progress: Progress) -> bytes:
            while True:
                progress(0.5)
                time.sleep(0.01)

        started = await jobs.run("key", "separability", endless, REQUEST)
        state = await settled(jobs, started.body.id)  # type: ignore[union-attr]
        jobs.close()
        return state.status, state.error  # type: ignore[return-value]

    status, error = asyncio.run(scenario())
    assert status == "failed" and error is not None and error["kind"] == "TookTooLong"


def test_a_finished_jobs_record_answers_when_the_cached_result_is_gone(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, bool, bytes]:
        records = SqliteJobRecords(tmp_path / "jobs.sqlite")
        jobs = replica(records, MemoryAnswers(), sync_wait=5.0)
        await jobs.run("key", "diversity", lambda p: b'{"n":1}', REQUEST)
        other = replica(records, MemoryAnswers())  # another worker: its cached answers do not hold it
        again = await other.run("key", "diversity", lambda p: b'{"n":2}', REQUEST)
        jobs.close()
        other.close()
        return again.status_code, again.cached, msgspec.json.encode(again.body)

    assert asyncio.run(scenario()) == (200, True, b'{"n":1}')
