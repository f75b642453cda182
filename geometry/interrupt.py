"""Cooperative interruption of long computations: loops call `checkpoint()` between blocks of work.

A computation runs under a `Token` (deadline, cancel flag) set for its thread with `interruptible`;
`checkpoint()` raises `Interrupted` once the flag is set (every client waiting for the answer went
away, or its job was cancelled) or the deadline has passed. Without a token it does nothing, so the
analysis functions stay plain functions in tests, loaders and the report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


class Interrupted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "cancelled" or "deadline"


@dataclass
class Token:
    deadline: float = float("inf")  # time.monotonic() value
    cancelled: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancelled.set()


_CURRENT: ContextVar[Token | None] = ContextVar("interrupt_token", default=None)


def checkpoint() -> None:
    token = _CURRENT.get()
    if token is None:
        return
    if token.cancelled.is_set():
        raise Interrupted("cancelled")
    if time.monotonic() > token.deadline:
        raise Interrupted("deadline")


@contextmanager
def interruptible(token: Token) -> Iterator[None]:
    reset = _CURRENT.set(token)
    try:
        yield
    finally:
        _CURRENT.reset(reset)
