"""Admission of computations to the worker threads: bounded in time, fair between clients.

At most `workers` computations run at once, and one client's at most `workers - 1` of them: a
worker is always left for another client, whose query starts at once instead of after the
flooding client's next computation. A request that finds no worker for it waits in its client's
line; when a worker frees, the lines are served in turn (one request of each waiting client, round
robin; first come within a line), so a client that sends 64 heavy requests delays another client's
query by about one computation, not by 64. A client may have `per_client` requests waiting (429
beyond: its share, not the service, is used up), all clients together `queue` (503 beyond).

Waiting is bounded: a request whose predicted wait is longer than `max_wait` is refused at once,
and one that waited `max_wait` is refused then, both 503 with a Retry-After; the computation's own
deadline counts from its arrival (service/cache.py), so queueing and running share one bound. The
prediction: the first worker it may use frees when the computation on it is predicted to end, and
the requests served before it in turn share the workers; each computation's cost is the work
budget's prediction (service/budget.py) where the request has one, times how much longer than
predicted computations have recently taken here (several share the cores), else the recent mean
time a computation of its kind (its endpoint) held a worker, else that of any computation.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.errors import Overloaded, TooManyRequests

SMOOTHING = 0.2  # weight of the newest hold time in the running mean
MAX_SLOWDOWN = 100.0  # one stalled computation moves the mean this far at most


class Gate:
    def __init__(
        self, workers: int, queue: int, per_client: int | None = None, max_wait: float = 30.0
    ) -> None:
        self.workers = workers
        self.queue = queue
        self.per_client = per_client if per_client is not None else max(1, queue // 4)
        self.max_wait = max_wait
        self.share = max(1, workers - 1)  # computations one client may run at once
        self.running = 0
        self.held: Counter[str] = Counter()  # computations running, by client
        self.mean_hold = 0.05  # seconds a computation holds a worker (running mean)
        self.lines: dict[str, deque[asyncio.Future[None]]] = {}  # insertion order: whose turn is next
        self.holds: dict[str, float] = {}  # mean_hold by kind of computation (endpoint)
        self.cost_of: dict[asyncio.Future[None], tuple[float, str]] = {}  # each waiting turn's cost, kind
        self.started: dict[object, tuple[str, float, float, str]] = {}  # running: client, start, cost, kind
        self.slowdown = 1.0  # held / predicted, recent computations (running mean)

    @property
    def waiting(self) -> int:
        return sum(len(line) for line in self.lines.values())

    def _cost(self, cost: float, kind: str) -> float:
        return cost * self.slowdown if cost > 0 else self.holds.get(kind, self.mean_hold)

    def predicted_wait(self, client: str) -> float:
        """Seconds a new request of `client` would wait: until a worker it may use frees (its own,
        when it runs its share), then while the requests before it in turn run (every other
        waiting client is served up to one more time than this client has requests waiting)."""
        if self._free_for(client) and client not in self.lines:
            return 0.0
        now = time.monotonic()
        own = self.held[client] >= self.share
        frees = [
            max(start + self._cost(cost, kind) - now, 0.0)
            for who, start, cost, kind in self.started.values()
            if not own or who == client
        ]
        mine = list(self.lines.get(client, ()))
        others = [list(line)[: len(mine) + 1] for c, line in self.lines.items() if c != client]
        before = mine + [turn for line in others for turn in line]
        work = sum(self._cost(*self.cost_of.get(turn, (0.0, ""))) for turn in before)
        return min(frees, default=0.0) + work / self.workers

    def _refuse_or_queue(self, client: str, cost: float, kind: str) -> asyncio.Future[None]:
        mine = len(self.lines.get(client, ()))
        if mine >= self.per_client:
            raise TooManyRequests(
                f"you have {mine} computations waiting here (at most {self.per_client} per client); "
                "wait for their answers",
                retry_after=max(1, math.ceil(self.mean_hold * mine / self.workers)),
            )
        if self.waiting >= self.queue:
            raise Overloaded(
                f"{self.running} computations are running and {self.waiting} waiting; try again shortly",
                retry_after=1,
            )
        wait = self.predicted_wait(client)
        if wait > self.max_wait:
            raise Overloaded(
                f"this computation could not start within {self.max_wait:g} s (about {wait:.0f} s of "
                "work is ahead of it); try again later",
                retry_after=max(1, math.ceil(wait - self.max_wait)),
            )
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lines.setdefault(client, deque()).append(turn)
        self.cost_of[turn] = (cost, kind)
        return turn

    def _free_for(self, client: str) -> bool:
        return self.running < self.workers and self.held[client] < self.share

    def _take(self, client: str) -> None:
        self.running += 1
        self.held[client] += 1

    def _release(self, client: str) -> None:
        self.running -= 1
        self.held[client] -= 1
        if not self.held[client]:
            del self.held[client]

    def _forget(self, client: str, turn: asyncio.Future[None]) -> None:
        self.cost_of.pop(turn, None)
        line = self.lines.get(client)
        if line is not None and turn in line:
            line.remove(turn)
            if not line:
                del self.lines[client]

    def _hand_on(self) -> None:
        """A worker is free: the next client in turn that may run one more gets it (and goes to the
        end of the turn)."""
        while self.running < self.workers:
            client = next((c for c in self.lines if self.held[c] < self.share), None)
            if client is None:
                return
            line = self.lines.pop(client)
            turn = line.popleft()
            if line:
                self.lines[client] = line
            self.cost_of.pop(turn, None)
            if not turn.done():
                self._take(client)
                turn.set_result(None)

    @asynccontextmanager
    async def slot(self, client: str = "", cost: float = 0.0, kind: str = "") -> AsyncIterator[None]:
        """A worker for one computation of `client`, predicted to take `cost` seconds (0: unknown,
        the recent mean of its `kind`)."""
        if self._free_for(client) and client not in self.lines:
            self._take(client)
        else:
            turn = self._refuse_or_queue(client, cost, kind)
            try:
                await asyncio.wait_for(asyncio.shield(turn), self.max_wait)
            except TimeoutError:
                if not turn.done():
                    self._forget(client, turn)
                    raise Overloaded(
                        f"waited {self.max_wait:g} s for a worker; try again shortly", retry_after=1
                    ) from None
            except asyncio.CancelledError:  # the client went away
                if turn.done() and not turn.cancelled():  # the slot was handed over: hand it on
                    self._release(client)
                    self._hand_on()
                else:
                    turn.cancel()
                    self._forget(client, turn)
                raise
        started = time.monotonic()
        token = object()
        self.started[token] = (client, started, cost, kind)
        try:
            yield
        finally:
            del self.started[token]
            held = time.monotonic() - started
            self.mean_hold += SMOOTHING * (held - self.mean_hold)
            if kind:  # the first hold of a kind is its mean, until more are seen
                self.holds[kind] = self.holds.get(kind, held) + SMOOTHING * (
                    held - self.holds.get(kind, held)
                )
            if cost > 0:
                self.slowdown += SMOOTHING * (min(held / cost, MAX_SLOWDOWN) - self.slowdown)
            self._release(client)
            self._hand_on()
