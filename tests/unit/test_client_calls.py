"""The client's conversation without I/O: what it sends, how long it waits, what it raises."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import msgspec
import pytest

from polyglot_client import BadRequest, JobFailed, PolyglotError, Unavailable, Unreachable
from polyglot_client.calls import Call, Policy, Retries, Sleep, conversation, query_string, retry_after
from polyglot_client.cli import main
from service import request_types as r
from service import response_types as s

JSON = {"content-type": "application/json"}


def job(status: str, result: dict[str, Any] | None = None, **extra: Any) -> bytes:
    state = s.JobOut(
        id="j1", kind="separability", status=status, progress=0.5, url="/v1/jobs/j1", result=result
    )
    return msgspec.json.encode(msgspec.structs.replace(state, **extra))


def problem(status: int, detail: str, field: str | None = None) -> bytes:
    return msgspec.json.encode(
        {
            "type": "about:blank",
            "title": "t",
            "status": status,
            "detail": detail,
            "instance": "/",
            "field": field,
        }
    )


def test_retries_wait_as_asked_within_the_budget() -> None:
    retries = Retries(attempts=4, budget_seconds=10, backoff_seconds=0.5)
    assert [retries.wait(i, 0, None) for i in range(4)] == [0.5, 1.0, 2.0, None]  # 4 tries in all
    assert retries.wait(0, 0, 7.0) == 7.0 and retries.wait(1, 7.0, 7.0) is None  # 14 s > the budget
    assert retry_after("15") == 15.0 and retry_after("soon") is None and retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now


def test_a_request_struct_is_the_query_string_the_service_decodes() -> None:
    request = r.NeighborsRequest(token="▁water", k=5, languages=["fr", "es"], exact=True)
    assert query_string(request) == {"token": "▁water", "k": "5", "languages": "fr,es", "exact": "true"}


def test_503_then_200_sends_twice_and_sleeps_for_its_retry_after() -> None:
    call = Call("GET", "/v1/models/m", s.JobOut)
    plan = conversation(call, Policy(Retries(budget_seconds=5)))
    assert next(plan) is call
    assert plan.send((503, {"retry-after": "2", **JSON}, problem(503, "building"))) == Sleep(2.0)
    assert plan.send(None) is call
    with pytest.raises(StopIteration) as done:
        plan.send((200, JSON, job("running")))
    assert done.value.value.status == "running"


def test_a_503_past_the_budget_and_a_400_are_raised_typed() -> None:
    call = Call("GET", "/x", s.JobOut)
    plan = conversation(call, Policy(Retries(budget_seconds=5)))
    next(plan)
    with pytest.raises(Unavailable) as spent:
        plan.send((503, {"retry-after": "15", **JSON}, problem(503, "building")))
    assert spent.value.retry_after == 15.0
    plan = conversation(call, Policy())
    next(plan)
    with pytest.raises(BadRequest) as bad:
        plan.send((400, JSON, problem(400, "k is too large", "k")))
    assert (bad.value.status, bad.value.field, bad.value.detail) == (400, "k", "k is too large")


def test_a_202_is_polled_to_the_endpoints_own_answer() -> None:
    call = Call("GET", "/v1/models/m/diversity", s.NeighborTableOut)  # any Struct: the result decodes into it
    seen: list[str] = []
    plan = conversation(call, Policy(on_progress=lambda j: seen.append(j.status)))
    next(plan)
    assert isinstance(plan.send((202, JSON, job("running"))), Sleep)
    poll = plan.send(None)
    assert isinstance(poll, Call) and (poll.method, poll.path) == ("GET", "/v1/jobs/j1")
    result = {"method": "exact", "k": 100, "backend": "numpy", "recall": 1.0, "candidates": 0, "sample": 0}
    with pytest.raises(StopIteration) as done:
        plan.send((200, JSON, job("done", result)))
    assert done.value.value == msgspec.convert(result, s.NeighborTableOut) and seen == ["running", "done"]


def test_an_interrupt_while_a_job_runs_cancels_it_then_propagates() -> None:
    plan = conversation(Call("GET", "/v1/models/m/separability", s.DiversityOut), Policy())
    next(plan)
    assert isinstance(plan.send((202, JSON, job("running"))), Sleep)
    cancel = plan.throw(KeyboardInterrupt())
    assert isinstance(cancel, Call) and (cancel.method, cancel.path) == ("DELETE", "/v1/jobs/j1")
    with pytest.raises(KeyboardInterrupt):
        plan.send((202, JSON, job("cancelled")))


def test_a_failed_job_raises_with_its_status() -> None:
    plan = conversation(Call("GET", "/v1/models/m/separability", s.DiversityOut), Policy())
    next(plan)
    plan.send((202, JSON, job("running")))
    plan.send(None)
    with pytest.raises(JobFailed) as failed:
        plan.send((200, JSON, job("failed", error={"status": 400, "detail": "no classifier can be fitted"})))
    assert failed.value.status == 400 and "no classifier" in str(failed.value)


def test_a_service_out_of_reach_past_the_budget_raises_the_packages_error_with_its_cause() -> None:
    call = Call("GET", "/v1/models", s.JobOut)
    policy = Policy(Retries(budget_seconds=10, backoff_seconds=1.0), base_url="http://127.0.0.1:9")
    plan = conversation(call, policy)
    assert next(plan) is call
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    waits = []
    with pytest.raises(Unreachable) as gone:
        while True:
            action = plan.send(refused)
            waits.append(action.seconds)
            assert plan.send(None) is call
    assert waits == [1.0, 2.0, 4.0]  # 7 s of waiting; the next 8 s would pass the budget
    assert gone.value.__cause__ is refused and isinstance(gone.value, PolyglotError)
    reason = "[Errno 111] Connection refused; 4 tries over 7 s of waiting"
    assert str(gone.value) == f"could not reach http://127.0.0.1:9/v1/models ({reason})"


def test_the_command_line_says_in_one_line_that_the_service_is_out_of_reach(capsys: Any) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    assert main(["--url", url, "--retry-seconds", "0.5", "models"]) == 1
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.count("\n") == 1
    assert printed.err.startswith(f"polyglot: could not reach {url}/v1/models (")
    assert printed.err.endswith("is the service running there? (`make run`, or --url / $POLYGLOT_URL)\n")
