"""Admission control and the byte-bounded in-process cache, with tiny limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from geometry.interrupt import checkpoint
from service.admission import Gate
from service.cache import ResponseCache
from service.errors import ClientGone, Overloaded, TookTooLong, TooManyRequests
from service.stores import MemoryAnswers


def test_gate_runs_its_workers_queues_its_queue_and_refuses_the_rest() -> None:
    async def scenario() -> list[str]:
        gate = Gate(workers=1, queue=1)
        release = asyncio.Event()
        order: list[str] = []

        async def work(name: str) -> None:
            async with gate.slot():
                order.append(f"start {name}")
                await release.wait()

        first = asyncio.ensure_future(work("a"))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(work("b"))  # waits for the one slot
        await asyncio.sleep(0)
        assert (gate.running, gate.waiting) == (1, 1)
        with pytest.raises(Overloaded) as refused:
            await work("c")
        assert refused.value.retry_after == 1
        release.set()
        await asyncio.gather(first, second)
        return order

    assert asyncio.run(scenario()) == ["start a", "start b"]


def test_waiting_clients_are_served_in_turn_not_first_come() -> None:
    """One worker; a floods with six requests, then b and c ask once each: b and c start after one of
    a's, not after all six."""

    async def scenario() -> list[str]:
        gate = Gate(workers=1, queue=64, per_client=16)
        order: list[str] = []

        async def work(name: str) -> None:
            async with gate.slot(name[0]):
                order.append(name)
                await asyncio.sleep(0.01)

        tasks = [asyncio.ensure_future(work(f"a{i}")) for i in range(6)]
        await asyncio.sleep(0)
        tasks += [asyncio.ensure_future(work(name)) for name in ("b0", "c0", "b1")]
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == ["a0", "a1", "b0", "c0", "a2", "b1", "a3", "a4", "a5"]


def test_a_worker_is_always_left_for_another_client() -> None:
    """Three workers; a floods: it runs two at once, and b's query starts at once on the third."""

    async def scenario() -> tuple[dict[str, int], float]:
        gate = Gate(workers=3, queue=64, per_client=16)
        release = asyncio.Event()

        async def work(client: str) -> None:
            async with gate.slot(client):
                await release.wait()

        flood = [asyncio.ensure_future(work("a")) for _ in range(6)]
        await asyncio.sleep(0)
        held = dict(gate.held)
        started = time.monotonic()
        async with gate.slot("b"):
            waited = time.monotonic() - started
        release.set()
        await asyncio.gather(*flood)
        return held, waited

    held, waited = asyncio.run(scenario())
    assert held == {"a": 2} and waited < 0.01


def test_a_clients_share_of_the_queue_is_a_429_and_others_still_get_in() -> None:
    async def scenario() -> tuple[int, int]:
        gate = Gate(workers=1, queue=64, per_client=2)
        release = asyncio.Event()

        async def work(client: str) -> None:
            async with gate.slot(client):
                await release.wait()

        tasks = [asyncio.ensure_future(work("flood")) for _ in range(3)]  # one runs, two wait
        await asyncio.sleep(0)
        with pytest.raises(TooManyRequests) as share:
            await work("flood")
        other = asyncio.ensure_future(work("other"))
        await asyncio.sleep(0)
        waiting = gate.waiting
        release.set()
        await asyncio.gather(*tasks, other)
        return share.value.retry_after, waiting

    assert asyncio.run(scenario()) == (1, 3)


def test_a_request_that_cannot_start_in_time_is_refused_at_once_or_when_its_wait_runs_out() -> None:
    async def scenario() -> tuple[float, float, int]:
        gate = Gate(workers=1, queue=64, per_client=64, max_wait=0.2)
        gate.mean_hold = 0.15  # two requests ahead of a third: 0.45 s predicted, over 0.2 s
        release = asyncio.Event()

        async def work(client: str) -> None:
            async with gate.slot(client):
                await release.wait()

        running = asyncio.ensure_future(work("a"))
        await asyncio.sleep(0)
        queued = asyncio.ensure_future(work("a"))  # 0.3 s predicted: admitted
        await asyncio.sleep(0)
        started = time.monotonic()
        with pytest.raises(Overloaded, match="could not start within 0.2 s") as at_once:
            await work("a")
        refused_after = time.monotonic() - started
        with pytest.raises(Overloaded, match="waited 0.2 s"):
            await queued  # the worker stayed busy past its wait
        waited = time.monotonic() - started
        release.set()
        await running
        return refused_after, waited, at_once.value.retry_after

    refused_after, waited, retry_after = asyncio.run(scenario())
    assert refused_after < 0.05 and 0.15 < waited < 0.4 and retry_after == 1


def test_the_predicted_costs_refuse_at_once_what_could_not_start_in_time() -> None:
    """Two workers busy with computations predicted at 100 s (one client, one other): a request
    that would wait for them is refused at once, asking to come back when a worker frees."""

    async def scenario() -> tuple[float, int, float]:
        gate = Gate(workers=2, queue=64, per_client=16, max_wait=30.0)
        release = asyncio.Event()

        async def work(client: str, cost: float) -> None:
            async with gate.slot(client, cost):
                await release.wait()

        running = [asyncio.ensure_future(work(c, 100.0)) for c in ("a", "b")]
        await asyncio.sleep(0)
        predicted = gate.predicted_wait("c")
        started = time.monotonic()
        with pytest.raises(Overloaded, match="could not start within 30 s") as refused:
            await work("c", 1.0)
        took = time.monotonic() - started
        release.set()
        await asyncio.gather(*running)
        return predicted, refused.value.retry_after, took

    predicted, retry_after, took = asyncio.run(scenario())
    assert predicted == pytest.approx(100.0, abs=0.1) and retry_after == 70 and took < 0.05


def test_a_computation_with_no_budget_cost_is_predicted_from_its_own_kind() -> None:
    """Exports (no budget prediction) have held a worker 40 s each lately: a request behind one is
    refused at once, not after its 30 s wait; each kind's mean follows what its computations take."""

    async def scenario() -> tuple[float, dict[str, float]]:
        gate = Gate(workers=1, queue=64, per_client=16, max_wait=30.0)
        gate.holds["export"] = 40.0
        release = asyncio.Event()

        async def work(client: str, kind: str) -> None:
            async with gate.slot(client, kind=kind):
                await release.wait()

        running = asyncio.ensure_future(work("a", "export"))
        await asyncio.sleep(0)
        predicted = gate.predicted_wait("b")
        with pytest.raises(Overloaded, match="could not start within 30 s"):
            await work("b", "neighbors")
        release.set()
        await running
        async with gate.slot("b", kind="geometry"):
            pass
        return predicted, gate.holds

    predicted, holds = asyncio.run(scenario())
    assert predicted == pytest.approx(40.0, abs=0.1)
    # the export held its worker ~0 s: the mean moves by SMOOTHING (0.2) of the way; a new kind's
    # first hold is its mean; a request refused before it ran holds nothing
    assert holds["export"] == pytest.approx(32.0, abs=0.1) and holds["geometry"] == pytest.approx(0, abs=0.05)
    assert "neighbors" not in holds


def test_memory_store_is_bounded_in_bytes_and_skips_oversized_values() -> None:
    async def scenario() -> MemoryAnswers:
        store = MemoryAnswers(max_entries=100, max_bytes=1000)
        for i in range(5):
            await store.set(f"k{i}", b"x" * 300, 60)
        await store.set("huge", b"y" * 1001, 60)
        return store

    store = asyncio.run(scenario())
    assert list(store._data) == ["k2", "k3", "k4"] and store.held_bytes == 900  # oldest out first


class SealedMemory(MemoryAnswers):
    """A store whose values leave the process (as Redis's do): sealed with their digest."""

    sealed = True


def cached_twice(store: MemoryAnswers) -> tuple[list[tuple[bytes, bool]], bytes | None, list[int]]:
    """A miss then a hit through `store`, the value it holds after them, and the computations run;
    then, for a sealed store, the answer once the stored value is damaged."""

    async def scenario() -> tuple[list[tuple[bytes, bool]], bytes | None, list[int]]:
        cache = ResponseCache(store, 60)
        calls: list[int] = []

        def compute() -> bytes:
            calls.append(1)
            return b'{"a":1}'

        answers = [await cache.get_or_compute("e", "key", compute, inline=True)]
        answers.append(await cache.get_or_compute("e", "key", compute))
        stored = await store.get("key")
        if store.sealed:
            await store.set("key", b"\x00" * 16 + b'{"a":2}', 60)  # its digest no longer matches
            answers.append(await cache.get_or_compute("e", "key", compute, inline=True))
        return answers, stored, calls

    return asyncio.run(scenario())


def test_cache_hits_return_stored_bytes_and_a_damaged_sealed_value_is_a_miss() -> None:
    answers, stored, calls = cached_twice(SealedMemory())
    assert answers == [(b'{"a":1}', False), (b'{"a":1}', True), (b'{"a":1}', False)] and len(calls) == 2
    assert stored is not None and stored[16:] == b'{"a":1}' and len(stored) == 16 + 7


def test_the_in_process_store_keeps_answers_as_they_are() -> None:
    """No digest to compute on every miss and hit: its values never leave the process."""
    answers, stored, calls = cached_twice(MemoryAnswers())
    assert answers == [(b'{"a":1}', False), (b'{"a":1}', True)] and stored == b'{"a":1}' and len(calls) == 1


def slow_blocks(blocks: list[int]) -> Callable[[], bytes]:
    def compute() -> bytes:
        for block in range(300):
            checkpoint()  # where the analyses check between blocks of work
            blocks.append(block)
            time.sleep(0.01)
        return b"{}"

    return compute


def test_work_stops_within_a_block_once_its_only_client_disconnects() -> None:
    blocks: list[int] = []

    async def leaves_after_three_blocks() -> None:  # whenever the worker thread got to start
        while len(blocks) < 3:
            await asyncio.sleep(0.005)

    async def scenario() -> None:
        cache = ResponseCache(MemoryAnswers(), 60)
        with pytest.raises(ClientGone):
            await cache.get_or_compute("e", "key", slow_blocks(blocks), gone=leaves_after_three_blocks)
        await asyncio.sleep(0.2)  # the thread notices at its next checkpoint

    asyncio.run(scenario())
    stopped_at = len(blocks)
    time.sleep(0.1)
    assert 3 <= stopped_at < 40 and len(blocks) == stopped_at  # nothing ran after it stopped


def test_work_past_its_deadline_is_stopped() -> None:
    blocks: list[int] = []

    async def scenario() -> None:
        cache = ResponseCache(MemoryAnswers(), 60, deadline=0.1)
        with pytest.raises(TookTooLong):
            await cache.get_or_compute("e", "key", slow_blocks(blocks))

    asyncio.run(scenario())
    assert len(blocks) < 40  # of 300: stopped at the deadline (0.1 s from the arrival, ~10 blocks)


def test_a_request_arriving_after_every_earlier_client_left_gets_a_fresh_computation() -> None:
    blocks: list[int] = []

    async def scenario() -> bytes:
        cache = ResponseCache(MemoryAnswers(), 60)
        with pytest.raises(ClientGone):  # the only client leaves: that computation is stopping
            await cache.get_or_compute("e", "key", slow_blocks(blocks), gone=lambda: asyncio.sleep(0.05))
        body, hit = await cache.get_or_compute("e", "key", lambda: b'{"fresh":1}')  # not the stopping one
        assert not hit
        return body

    assert asyncio.run(scenario()) == b'{"fresh":1}'
