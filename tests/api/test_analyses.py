"""The paper's analyses over HTTP on the real packaged models, and the job flow."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from service.api.analyses import recorded_query
from service.cache import cache_key
from service.jobs import job_id
from tests.conftest import E5, USE

Client = TestClient  # type: ignore[type-arg]


def result_of(client: Client, response: Any, timeout: float = 600) -> dict[str, Any]:
    """The analysis result, polling its job when the service answered 202."""
    deadline = time.monotonic() + timeout
    while response.status_code == 202:
        assert response.headers["location"] == response.json()["url"]
        time.sleep(0.5)
        job = client.get(response.json()["url"])
        assert job.status_code == 200, job.text
        body = job.json()
        if body["status"] == "done":
            return body["result"]  # type: ignore[no-any-return]
        assert body["status"] == "running" and time.monotonic() < deadline, body
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_diversity_paper_protocol_and_cache(client: Client) -> None:
    first = result_of(client, client.get(f"/v1/models/{USE}/diversity", params={"seed": 5}))
    assert first["queries"] == round(0.01 * 127_997) and first["k"] == 50 and first["include_self"]
    # seeded: the same 1,280 queries and the exact table give the same mean (7,962 / 1,280)
    assert first["mean"] == 6.220313 and sum(first["histogram"].values()) == first["queries"]
    again = client.get(f"/v1/models/{USE}/diversity", params={"seed": "5", "k": "50"}).json()
    assert again["cached"] and again["mean"] == first["mean"]
    other = result_of(client, client.get(f"/v1/models/{USE}/diversity", params={"seed": 6}))
    assert other["mean"] != first["mean"]
    scripts = result_of(
        client, client.get(f"/v1/models/{USE}/diversity", params={"count": "scripts-only", "seed": 5})
    )
    assert scripts["mean"] == 5.859375  # 7,500 / 1,280: Common/Inherited neighbors not counted
    assert set(first["mix"]["CYRILLIC"]) >= {"CYRILLIC"}


def test_e5_separates_scripts_better_than_use(client: Client) -> None:
    params = {"categories": "CYRILLIC,HANGUL,THAI"}
    e5 = result_of(client, client.get(f"/v1/models/{E5}/separability", params=params))
    use = result_of(client, client.get(f"/v1/models/{USE}/separability", params=params))
    assert [s["category"] for s in e5["scores"]] == ["CYRILLIC", "HANGUL", "THAI"]
    assert all(len(s["folds"]) == 10 for s in e5["scores"])
    assert e5["mean"] > 0.9, e5["mean"]
    assert use["mean"] < e5["mean"] - 0.03, (use["mean"], e5["mean"])


def test_compare_the_two_packaged_models(client: Client) -> None:
    body = result_of(client, client.get("/v1/compare", params={"models": f"{E5},{USE}", "sample": 0.01}))
    assert (body["shared_tokens"], body["queries"]) == (66_422, 664)  # token strings both vocabularies hold
    assert body["overlap_mean"] == 23.4337  # of k=100 neighbors, seed 0: deterministic
    assert body["canonical_correlations"][:2] == [0.91807, 0.902858]


def test_slow_requests_answer_202_and_identical_requests_join(client: Client) -> None:
    jobs = client.app.state.jobs
    jobs.sync_wait = 0.0
    try:
        params = {"categories": "GREEK,HEBREW", "seed": 11}
        before = computations(client, "separability")
        first = client.get(f"/v1/models/{E5}/separability", params=params)
        second = client.get(
            f"/v1/models/{E5}/separability", params={"seed": 11, "categories": "HEBREW,GREEK"}
        )
        assert first.status_code == 202  # sync_wait 0: never answered in the request
        result = result_of(client, first)
        assert [s["category"] for s in result["scores"]] == ["GREEK", "HEBREW"]
        joined = result_of(client, second)  # polled the same job, or (done by then) the cached result
        assert joined["mean"] == result["mean"] and computations(client, "separability") - before == 1
    finally:
        jobs.sync_wait = 3.0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"/v1/models/{E5}/separability", {"categories": "KLINGON"}, "categories"),
        (f"/v1/models/{E5}/separability", {"folds": 1}, "folds"),
        (f"/v1/models/{E5}/diversity", {"sample": 0}, "sample"),
        (f"/v1/models/{E5}/diversity", {"scheme": "nope"}, "scheme"),
        ("/v1/compare", {"models": E5}, "models"),
    ],
)
def test_bad_analysis_parameters_are_400(
    client: Client, path: str, params: dict[str, Any], field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_unknown_job_is_404(client: Client) -> None:
    response = client.get("/v1/jobs/0123456789abcdef0123")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def computations(client: Client, kind: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("polyglot_analysis_seconds_count{") and f'kind="{kind}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_storm_of_identical_analyses_is_computed_once(client: Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    before = computations(client, "separability")
    variants = [{"categories": "HANGUL,THAI", "seed": 77}, {"seed": "77", "categories": "THAI,HANGUL"}]
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(
            pool.map(
                lambda i: client.get(f"/v1/models/{USE}/separability", params=variants[i % 2]), range(32)
            )
        )
    assert all(r.status_code in (200, 202) for r in responses)
    results = [result_of(client, r) for r in responses]
    assert all(r["mean"] == results[0]["mean"] for r in results)
    assert computations(client, "separability") - before == 1


def test_a_running_job_can_be_cancelled(client: Client) -> None:
    jobs = client.app.state.jobs
    jobs.sync_wait = 0.0
    try:
        started = client.get(f"/v1/models/{E5}/separability", params={"seed": 12345, "folds": 20})
        assert started.status_code == 202
        url = started.json()["url"]
        cancelled = client.delete(url)
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "running"
        deadline = time.monotonic() + 60
        while client.get(url).json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get(url).json()["status"] == "cancelled"
        again = client.delete(url)
        assert again.status_code == 400 and again.json()["field"] == "job_id"
        assert client.delete("/v1/jobs/0123456789abcdef0123").status_code == 404
    finally:
        jobs.sync_wait = 3.0


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (E5, {"scheme": "language", "seed": 31}),
        (E5, {"scheme": "language", "within": "Latin", "seed": 31}),
        (USE, {"scheme": "unicode", "seed": 31}),
        (USE, {"scheme": "language", "categories": "ru,de", "seed": 31}),
        (E5, {"scheme": "paper", "categories": "HANGUL,CJK", "seed": 31}),
    ],
)
def test_a_job_restarted_from_its_record_is_the_job_being_polled(
    client: Client, model: str, params: dict[str, Any]
) -> None:
    """A replica that restarts a job decodes the request from the job's record and keys the job by
    it: the same id as the job being polled (before, the record held the resolved request, whose
    categories came back re-sorted: another key, another id, and the polled job ran forever)."""
    jobs = client.app.state.jobs
    jobs.sync_wait = 0.0
    try:
        started = client.get(f"/v1/models/{model}/separability", params=params)
        assert started.status_code == 202, started.text
        ident = started.json()["id"]
        record = asyncio.run(jobs.state(ident))
        client.delete(f"/v1/jobs/{ident}")  # the computation itself is not the point
        while client.get(f"/v1/jobs/{ident}").json()["status"] == "running":
            time.sleep(0.05)
    finally:
        jobs.sync_wait = 3.0
    assert record.request is not None
    checksum = client.app.state.registry.get(model).checksum
    restarted = job_id(cache_key([checksum], "separability", recorded_query(record.request)))
    assert restarted == ident
