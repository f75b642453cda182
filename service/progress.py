"""What an analysis job's computation is: a function that reports its progress (0..1, and at least
between blocks, where a cancel or the deadline stops it) and returns the encoded answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import msgspec

T = TypeVar("T")
Progress = Callable[[float], None]
Compute = Callable[[Progress], bytes]  # a job's work: reports progress, returns the encoded result


def timed(run: Callable[[Progress], T], answer: Callable[[T, float], msgspec.Struct]) -> Compute:
    """A job's work from its computation and its answer: `run(progress)`, then `answer(result,
    seconds)` encoded as JSON (the seconds the computation took, for the answer's took_seconds)."""

    def compute(progress: Progress) -> bytes:
        started = time.perf_counter()
        result = run(progress)
        return msgspec.json.encode(answer(result, round(time.perf_counter() - started, 3)))

    return compute
