"""What one call is and what its answers mean, without I/O: the sync and the async client both drive
`conversation`, so retries, revalidation and job handling are written once.

A `Call` is an HTTP request plus the Struct its answer decodes into. `Retries` says how long to wait
before trying again (503 and 429 with their `Retry-After`, dropped connections), within a bounded
budget. `Validators` keeps the ETag and body of recent answers so a repeated call is revalidated
(304, no body) instead of recomputed. `settle` reads one answer: a value, a job to poll, a retry, or a
typed exception. `conversation` is a generator that yields what to do next (send a Call, Sleep) and
is sent each reply; an interrupt thrown into it while a job runs cancels the job first.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import msgspec

from polyglot_client.errors import JobCancelled, JobFailed, JobTimeout, ProblemError, Unreachable, problem
from service import response_types as s

T = TypeVar("T")
RETRIED = frozenset({429, 503})


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    answer: type[T]
    params: dict[str, str] | None = None
    body: bytes | None = None

    def key(self) -> tuple[str, str, str, bytes]:
        return (self.method, self.path, repr(sorted((self.params or {}).items())), self.body or b"")


def query_string(request: msgspec.Struct) -> dict[str, str]:
    """A request Struct as the query string the service decodes into the same Struct: set fields only,
    lists comma-separated, booleans as true/false."""
    out: dict[str, str] = {}
    for name, value in msgspec.to_builtins(request).items():
        if isinstance(value, list):
            out[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def get(path: str, answer: type[T], request: msgspec.Struct | None = None) -> Call[T]:
    return Call("GET", path, answer, query_string(request) if request is not None else None)


def post(path: str, answer: type[T], request: msgspec.Struct) -> Call[T]:
    return Call("POST", path, answer, body=msgspec.json.encode(request))


@dataclass(frozen=True)
class Retries:
    """Bounded retries: at most `attempts` tries in all, and no wait past `budget_seconds` in all (the
    budget governs with the defaults: a service back within a minute is reached)."""

    attempts: int = 16
    budget_seconds: float = 60.0
    backoff_seconds: float = 0.25  # first wait when the answer names none (doubling, at most 8 s)

    def wait(self, attempt: int, waited: float, retry_after: float | None) -> float | None:
        """Seconds to wait before try `attempt + 1`, or None when the budget is spent."""
        if attempt + 1 >= self.attempts:
            return None
        pause = retry_after if retry_after is not None else min(self.backoff_seconds * 2**attempt, 8.0)
        return pause if waited + pause <= self.budget_seconds else None


@dataclass
class Validators:
    """ETags and bodies of the most recent answers (LRU), for If-None-Match on a repeated call."""

    size: int = 256
    held: OrderedDict[tuple[str, str, str, bytes], tuple[str, bytes]] = field(default_factory=OrderedDict)

    def headers(self, call: Call[Any]) -> dict[str, str]:
        found = self.held.get(call.key())
        return {"If-None-Match": found[0]} if found else {}

    def keep(self, call: Call[Any], etag: str | None, content: bytes) -> None:
        if etag is None or self.size <= 0:
            return
        self.held[call.key()] = (etag, content)
        self.held.move_to_end(call.key())
        while len(self.held) > self.size:
            self.held.popitem(last=False)

    def body(self, call: Call[Any]) -> bytes | None:
        found = self.held.get(call.key())
        return found[1] if found else None


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Done(Generic[T]):
    value: T


@dataclass(frozen=True)
class Again:
    retry_after: float | None
    error: Exception  # raised when the budget is spent


@dataclass(frozen=True)
class Poll:
    job: s.JobOut


Step = Done[T] | Again | Poll


def decode(call: Call[T], content: bytes) -> T:
    if call.answer is bytes:
        return content  # type: ignore[return-value]
    return msgspec.json.decode(content, type=call.answer)


def settle(
    call: Call[T], status: int, headers: Mapping[str, str], content: bytes, validators: Validators
) -> Step[T]:
    """What one answer means for the caller."""
    if status == 304:
        held = validators.body(call)
        if held is not None:
            return Done(decode(call, held))
    if status == 202 and call.answer is not s.JobOut:
        return Poll(msgspec.json.decode(content, type=s.JobOut))
    if 200 <= status < 300:
        validators.keep(call, headers.get("etag"), content)
        return Done(decode(call, content))
    try:
        body: Any = msgspec.json.decode(content)
    except msgspec.DecodeError:
        body = content.decode("utf-8", "replace")
    wait = retry_after(headers.get("retry-after"))
    error = problem(status, body, _reason(status), wait)
    if status in RETRIED:
        return Again(wait, error)
    raise error


def finished(job: s.JobOut, answer: type[T]) -> T | None:
    """The job's result as the endpoint's own answer type, None while it runs; raises if it ended
    without one."""
    if job.status == "done" and job.result is not None:
        return msgspec.convert(job.result, type=answer)
    if job.status == "failed":
        error = job.error or {}
        raise JobFailed(job.id, str(error.get("detail", "failed")), int(error.get("status", 500)))
    if job.status == "cancelled":
        raise JobCancelled(job.id, "cancelled")
    return None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True)
class Sleep:
    seconds: float


Reply = tuple[int, Mapping[str, str], bytes] | Exception  # status, headers, body; or what the send raised
Action = Call[Any] | Sleep
Conversation = Generator[Action, Reply | None, T]


@dataclass
class Policy:
    """How a client behaves beyond one request."""

    retries: Retries = field(default_factory=Retries)
    job_timeout: float = 600.0
    on_progress: Callable[[s.JobOut], None] | None = None
    api_key: str | None = None  # sent as Authorization: Bearer on every request
    validators: Validators = field(default_factory=Validators)
    base_url: str = ""  # named in the error when the service cannot be reached


def exchange(call: Call[T], policy: Policy) -> Generator[Action, Reply | None, Done[T] | Poll]:
    """One call until it has an answer: retried after 503/429 and failed sends, within the budget."""
    attempt, waited = 0, 0.0
    while True:
        reply = yield call
        assert reply is not None
        step: Step[T] = (
            Again(None, reply) if isinstance(reply, Exception) else settle(call, *reply, policy.validators)
        )
        if not isinstance(step, Again):
            return step
        pause = policy.retries.wait(attempt, waited, step.retry_after)
        if pause is None and isinstance(step.error, ProblemError):
            raise step.error
        if pause is None:  # a transport error: the package's own, with the cause attached
            raise Unreachable(policy.base_url + call.path, attempt + 1, waited, step.error) from step.error
        yield Sleep(pause)
        attempt, waited = attempt + 1, waited + pause


def conversation(call: Call[T], policy: Policy) -> Conversation[T]:
    """The answer of `call`; a 202 is polled until its job ends (progress to `on_progress`, at most
    `job_timeout` seconds). An interrupt thrown in while polling cancels the job, then propagates."""
    step = yield from exchange(call, policy)
    if isinstance(step, Done):
        return step.value
    job = step.job
    deadline, pause = time.monotonic() + policy.job_timeout, 0.1
    try:
        while True:
            if policy.on_progress is not None:
                policy.on_progress(job)
            value = finished(job, call.answer)
            if value is not None:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise JobTimeout(job.id, f"still {job.status} after {policy.job_timeout:g} s")
            yield Sleep(min(pause, left))
            pause = min(pause * 1.5, 2.0)
            polled = yield from exchange(Call("GET", job.url, s.JobOut), policy)
            assert isinstance(polled, Done)
            job = polled.value
    except (KeyboardInterrupt, asyncio.CancelledError):
        yield from exchange(Call("DELETE", job.url, s.JobOut), policy)
        raise
