"""Admission control and the byte-bounded in-process cache, with tiny limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from geometry.interrupt import checkpoint
from service.cache import Gate, ResponseCache
from service.errors import ClientGone, Overloaded, TookTooLong
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


def test_memory_store_is_bounded_in_bytes_and_skips_oversized_values() -> None:
    async def scenario() -> MemoryAnswers:
        store = MemoryAnswers(max_entries=100, max_bytes=1000)
        for i in range(5):
            await store.set(f"k{i}", b"x" * 300, 60)
        await store.set("huge", b"y" * 1001, 60)
        return store

    store = asyncio.run(scenario())
    assert list(store._data) == ["k2", "k3", "k4"] and store.held_bytes == 900  # oldest out first


def test_cache_hits_return_stored_bytes_and_a_damaged_value_is_a_miss() -> None:
    async def scenario() -> list[tuple[bytes, bool]]:
        store = MemoryAnswers()
        cache = ResponseCache(store, 60)
        calls: list[int] = []

        def compute() -> bytes:
            calls.append(1)
            return b'{"a":1}'

        first = await cache.get_or_compute("e", "key", compute, inline=True)
        again = await cache.get_or_compute("e", "key", compute)
        await store.set("key", b"\x00" * 16 + b'{"a":2}', 60)  # its digest no longer matches
        damaged = await cache.get_or_compute("e", "key", compute, inline=True)
        assert len(calls) == 2
        return [first, again, damaged]

    assert asyncio.run(scenario()) == [(b'{"a":1}', False), (b'{"a":1}', True), (b'{"a":1}', False)]


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

    async def scenario() -> None:
        cache = ResponseCache(MemoryAnswers(), 60)
        with pytest.raises(ClientGone):
            await cache.get_or_compute("e", "key", slow_blocks(blocks), gone=lambda: asyncio.sleep(0.1))
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
    assert 3 <= len(blocks) < 40


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
