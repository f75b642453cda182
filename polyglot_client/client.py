"""`Client` (sync) and `AsyncClient`: one method per endpoint, both driving the same conversation
(polyglot_client/calls.py) over one pooled httpx connection each.

    with Client("http://127.0.0.1:8000") as client:
        client.neighbors("multilingual-e5-small", token="▁water", k=10, languages=["fr"])

Analyses that answer 202 are polled until done (progress to `on_progress`, at most `job_timeout`
seconds; an interrupt cancels the job with DELETE /v1/jobs/{id}). 503 and 429 are retried after their
Retry-After and dropped connections after a short backoff, within `retries` (every endpoint of this
API only reads, so every call may be repeated). Answers are gzipped and revalidated with their ETag.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

import httpx

from polyglot_client import endpoints as e
from polyglot_client.calls import Action, Call, Conversation, Policy, Reply, Retries, Sleep, conversation
from service import response_types as s

P = ParamSpec("P")
T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)
DEFAULT_URL = "http://127.0.0.1:8000"
HEADERS = {"Accept-Encoding": "gzip"}
Progress = Callable[[s.JobOut], None]


class Endpoint(Generic[P, T]):
    """A builder bound to a client: `client.neighbors(...)` returns the answer, on an AsyncClient an
    awaitable of it."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: Client, owner: type | None = None) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: AsyncClient, owner: type | None = None) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, client: None, owner: type | None = None) -> Endpoint[P, T]: ...
    def __get__(self, client: Any, owner: type | None = None) -> Any:
        if client is None:
            return self

        def call(*args: P.args, **kwargs: P.kwargs) -> Any:
            return client.run(self.build(*args, **kwargs))

        call.__doc__ = self.build.__doc__
        return call


class Endpoints(Generic[H]):
    """Every endpoint, once, for both clients."""

    health = Endpoint(e.health)
    ready = Endpoint(e.ready)
    models = Endpoint(e.models)
    model = Endpoint(e.model)
    lexicon = Endpoint(e.lexicon)
    tokens = Endpoint(e.tokens)
    token = Endpoint(e.token)
    anomalies = Endpoint(e.anomalies)
    geometry = Endpoint(e.geometry)
    footprint = Endpoint(e.footprint)
    footprint_ids = Endpoint(e.footprint_ids)
    vocabulary_map = Endpoint(e.vocabulary_map)
    map_column = Endpoint(e.map_column)
    export = Endpoint(e.export)
    neighbors = Endpoint(e.neighbors)
    neighbors_batch = Endpoint(e.neighbors_batch)
    translations = Endpoint(e.translations)
    translations_batch = Endpoint(e.translations_batch)
    evaluate = Endpoint(e.evaluate)
    separability = Endpoint(e.separability)
    diversity = Endpoint(e.diversity)
    relations = Endpoint(e.relations)
    compare = Endpoint(e.compare)
    compare_spaces = Endpoint(e.compare_spaces)
    job = Endpoint(e.job)
    cancel = Endpoint(e.cancel)

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        retries: Retries | None = None,
        job_timeout: float = 600.0,
        on_progress: Progress | None = None,
        http: H | None = None,
        api_key: str | None = None,
    ) -> None:
        """`base_url`, `timeout` and `api_key` default to $POLYGLOT_URL, $POLYGLOT_TIMEOUT and
        $POLYGLOT_API_KEY (else http://127.0.0.1:8000, 30 s and none), the retry budget to
        $POLYGLOT_RETRY_SECONDS (else 60 s); `http` is an httpx client to use instead of one of its
        own (a test client, a proxy set-up)."""
        self.base_url = (base_url or os.environ.get("POLYGLOT_URL") or DEFAULT_URL).rstrip("/")
        self.timeout = float(timeout if timeout is not None else os.environ.get("POLYGLOT_TIMEOUT", 30))
        key = api_key if api_key is not None else os.environ.get("POLYGLOT_API_KEY") or None
        if retries is None:
            retries = Retries(budget_seconds=float(os.environ.get("POLYGLOT_RETRY_SECONDS", 60)))
        self.policy = Policy(retries, job_timeout, on_progress, key, base_url=self.base_url)
        self.http: H = http if http is not None else self.connect(self.base_url, self.timeout)

    @staticmethod
    def connect(base_url: str, timeout: float) -> H:
        raise NotImplementedError

    @property
    def on_progress(self) -> Progress | None:
        return self.policy.on_progress

    @on_progress.setter
    def on_progress(self, report: Progress | None) -> None:
        self.policy.on_progress = report

    @staticmethod
    def sent(call: Call[Any], policy: Policy) -> dict[str, Any]:
        headers = policy.validators.headers(call)
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if policy.api_key:
            headers["Authorization"] = f"Bearer {policy.api_key}"
        return {"params": call.params, "content": call.body, "headers": headers}


def _step(plan: Conversation[T], reply: Reply | None, interrupt: BaseException | None) -> Action:
    return plan.throw(interrupt) if interrupt is not None else plan.send(reply)


class Client(Endpoints[httpx.Client]):
    @staticmethod
    def connect(base_url: str, timeout: float) -> httpx.Client:
        return httpx.Client(base_url=base_url, timeout=timeout, headers=HEADERS)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def run(self, call: Call[T]) -> T:
        # the two drivers of the one conversation differ only in how they wait and send
        plan = conversation(call, self.policy)
        reply: Reply | None = None
        interrupt: BaseException | None = None
        while True:
            try:
                action = _step(plan, reply, interrupt)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            reply, interrupt = None, None
            try:
                if isinstance(action, Sleep):
                    time.sleep(action.seconds)
                else:
                    answer = self.http.request(action.method, action.path, **self.sent(action, self.policy))
                    reply = (answer.status_code, answer.headers, answer.content)
            except httpx.TransportError as error:  # refused, reset, timed out: the conversation decides
                reply = error
            except KeyboardInterrupt as stop:  # into the conversation: it cancels a running job
                interrupt = stop


class AsyncClient(Endpoints[httpx.AsyncClient]):
    @staticmethod
    def connect(base_url: str, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=HEADERS)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run(self, call: Call[T]) -> T:
        plan = conversation(call, self.policy)
        reply: Reply | None = None
        interrupt: BaseException | None = None
        while True:
            try:
                action = _step(plan, reply, interrupt)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            reply, interrupt = None, None
            try:
                if isinstance(action, Sleep):
                    await asyncio.sleep(action.seconds)
                else:
                    answer = await self.http.request(
                        action.method, action.path, **self.sent(action, self.policy)
                    )
                    reply = (answer.status_code, answer.headers, answer.content)
            except httpx.TransportError as error:
                reply = error
            except asyncio.CancelledError as stop:
                interrupt = stop
