"""The Python client and the `polyglot` command against the API tests' app (lifespan running, the
packaged models): every endpoint, jobs, retries, typed problems, batches in order, CLI output."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient, TestClient

from polyglot_client import AsyncClient, BadRequest, Client, NotFound, Retries, Unavailable
from polyglot_client.cli import main
from service import response_types as s
from service.app import create_app
from service.settings import Settings
from tests.conftest import E5, LLAMA, USE


def relay(client: TestClient[Any], request: httpx.Request) -> httpx.Response:
    """`request` answered by the app (a transport for httpx.MockTransport handlers)."""
    real = client.request(
        request.method,
        request.url.path,
        params=request.url.params,
        content=request.content,
        headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")},
    )
    # the body arrives decoded: drop the encoding headers that described it on the wire
    headers = {
        k: v for k, v in real.headers.items() if k.lower() not in ("content-encoding", "content-length")
    }
    return httpx.Response(real.status_code, headers=headers, content=real.content)


@pytest.fixture()
def polyglot(client: TestClient[Any]) -> Client:
    return Client(http=client)


def test_every_endpoint_answers_in_its_own_type(polyglot: Client, client: TestClient[Any]) -> None:
    assert polyglot.health() == client.get("/health").content
    assert sorted(m.name for m in polyglot.models().models) == [LLAMA, E5, USE]
    assert polyglot.model(E5).vocab_size == 250_002
    assert polyglot.lexicon(LLAMA).words == 502_953
    found = client.get(f"/v1/models/{E5}/tokens", params={"q": "▁wat", "limit": 3}).json()["items"]
    assert [t.token for t in polyglot.tokens(E5, q="▁wat", limit=3).items] == [t["token"] for t in found]
    assert polyglot.token(E5, 3034).id == 3034
    assert len(polyglot.anomalies(LLAMA, limit=5).items) == 5
    assert isinstance(polyglot.geometry(LLAMA), s.GeometryOut)
    assert isinstance(polyglot.footprint(LLAMA, keep_languages=["en"]), s.FootprintOut)
    assert polyglot.footprint_ids(LLAMA, keep_languages=["en"]).split()[:1] == [b"0"]
    column = polyglot.vocabulary_map(LLAMA).columns[0]
    assert len(polyglot.map_column(LLAMA, column.name)) == column.bytes
    assert polyglot.export(LLAMA, format="projector", limit=10)[:2] == b"PK"  # a zip of two TSV files
    # one query, by token, mirrors GET /neighbors exactly
    mine = polyglot.neighbors(E5, token="▁water", k=10, languages=["fr"])
    theirs = client.get(f"/v1/models/{E5}/neighbors", params={"token": "▁water", "k": 10, "languages": "fr"})
    assert msgspec.to_builtins(mine) == theirs.json()
    words = polyglot.translations(USE, text="hospital", target_languages=["ru"], pool="words", k=3)
    assert [c.token for c in words.candidates] == ["больнице", "врач", "больницы"]  # врача: under врач
    assert polyglot.evaluate(USE, pairs=[["water", "agua", "es"]]).pairs == 1
    assert isinstance(polyglot.compare([E5, USE], sample=0.01), s.CompareOut)
    assert isinstance(polyglot.relations(LLAMA, sample=100), s.RelationsOut)


def test_batches_keep_their_order(polyglot: Client) -> None:
    queries: list[Any] = ["fire", 3034, {"token": "▁water"}, "water"]
    batch = polyglot.neighbors_batch(E5, queries, k=3)
    singles = [polyglot.neighbors(E5, text="fire", k=3), polyglot.neighbors(E5, id=3034, k=3)]
    singles += [polyglot.neighbors(E5, token="▁water", k=3), polyglot.neighbors(E5, text="water", k=3)]
    assert [a.neighbors for a in batch.results] == [a.neighbors for a in singles]
    translated = polyglot.translations_batch(USE, ["water", "fire"], candidates=["огонь", "Wasser"], k=1)
    assert [a.candidates[0].token for a in translated.results] == ["Wasser", "огонь"]


def test_a_problem_is_a_typed_exception_with_its_field(polyglot: Client) -> None:
    with pytest.raises(BadRequest) as bad:
        polyglot.neighbors(E5, token="▁water", k=100_000)
    assert (bad.value.status, bad.value.field, bad.value.title) == (400, "k", "Bad request")
    with pytest.raises(NotFound) as missing:
        polyglot.model("no-such-model")
    assert missing.value.status == 404 and "no-such-model" in missing.value.detail
    with pytest.raises(TypeError):  # a parameter the endpoint does not have never leaves the client
        polyglot.neighbors(E5, token="▁water", kk=3)


def test_a_job_is_polled_to_its_result_with_progress(polyglot: Client, client: TestClient[Any]) -> None:
    jobs = client.app.state.jobs
    jobs.sync_wait = 0.0  # every analysis answers 202 first
    seen: list[str] = []
    polyglot.on_progress = lambda job: seen.append(job.status)
    try:
        result = polyglot.separability(E5, categories=["GREEK", "HEBREW"], seed=13)
    finally:
        jobs.sync_wait = 3.0
    assert [c.category for c in result.scores] == ["GREEK", "HEBREW"]
    assert seen[0] == "running" and seen[-1] == "done"
    direct = client.get(f"/v1/models/{E5}/separability", params={"categories": "GREEK,HEBREW", "seed": 13})
    assert msgspec.to_builtins(result)["mean"] == direct.json()["mean"]


def test_503_is_retried_after_its_retry_after(client: TestClient[Any]) -> None:
    """The first two answers are the service's 503 for a model still building; then the real one."""
    sent: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) <= 2:
            return httpx.Response(
                503,
                headers={"Retry-After": "0", "Content-Type": "application/problem+json"},
                json={
                    "type": "about:blank",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": "still building",
                    "instance": request.url.path,
                },
            )
        return relay(client, request)

    http = httpx.Client(transport=httpx.MockTransport(flaky), base_url="http://polyglot")
    answer = Client(http=http).model(LLAMA)
    assert answer.name == LLAMA and len(sent) == 3
    with pytest.raises(Unavailable) as spent:  # a budget smaller than the wait asked for: the 503 itself
        sent.clear()
        Client(http=http, retries=Retries(attempts=2)).model(LLAMA)
    assert spent.value.status == 503 and spent.value.retry_after == 0.0 and len(sent) == 2


def test_a_model_still_building_asks_for_15_s_and_a_short_budget_gives_up(tmp_path: Path) -> None:
    settings = Settings(artifacts=(tmp_path / "none",), building="later:" + "0" * 16)
    with TestClient(create_app(settings)) as http:
        with pytest.raises(Unavailable) as building:
            Client(http=http, retries=Retries(budget_seconds=1)).neighbors("later", id=1)
    assert building.value.retry_after == 15.0 and building.value.status == 503


def test_repeated_calls_are_revalidated_with_the_etag(client: TestClient[Any]) -> None:
    statuses: list[int] = []

    def observed(request: httpx.Request) -> httpx.Response:
        answer = relay(client, request)
        statuses.append(answer.status_code)
        return answer

    polyglot = Client(http=httpx.Client(transport=httpx.MockTransport(observed), base_url="http://polyglot"))
    first = polyglot.neighbors(USE, token="▁water", k=7)
    again = polyglot.neighbors(USE, token="▁water", k=7)
    assert statuses == [200, 304] and again == first


def test_the_async_client_answers_as_the_sync_one(real_settings: Settings, polyglot: Client) -> None:
    async def run() -> tuple[s.NeighborsOut, s.TranslationsBatchOut]:
        async with AsyncTestClient(create_app(real_settings)) as http:
            aclient = AsyncClient(http=http)
            one = await aclient.neighbors(E5, token="▁water", k=5)
            many = await aclient.translations_batch(USE, ["water", "fire"], target_languages=["de"], k=2)
            return one, many

    one, many = asyncio.run(run())
    assert one == polyglot.neighbors(E5, token="▁water", k=5)
    assert many == polyglot.translations_batch(USE, ["water", "fire"], target_languages=["de"], k=2)


def test_the_command_line_prints_tables_and_json(polyglot: Client, tmp_path: Path, capsys: Any) -> None:
    def run(*argv: str) -> str:
        assert main(list(argv), client=polyglot) == 0
        return str(capsys.readouterr().out)

    lines = run("neighbors", "▁water", "--model", E5, "--k", "3").splitlines()
    assert lines[0].split() == ["rank", "token", "similarity", "kind", "labels"]
    assert [line.split()[1] for line in lines[2:]] == ["▁Water", "water", "▁água"]
    translated = run("translate", "hospital", "--to", "ru", "--pool", "words", "--model", USE, "--k", "2")
    assert [line.split()[1] for line in translated.splitlines()[2:]] == ["больнице", "врач"]
    dictionary = tmp_path / "dict.txt"
    dictionary.write_text("water agua es noun\ndog perro es noun\n", encoding="utf-8")
    evaluated = run("evaluate", str(dictionary), "--model", USE).splitlines()
    assert [line.split()[:3] for line in evaluated[2:]] == [
        ["all", "2", "2"],
        ["es", "2", "2"],
        ["pos:noun", "2", "2"],
    ]
    as_json = json.loads(run("--json", "neighbors", "water", "--model", E5, "--k", "2"))
    assert [n["token"] for n in as_json["neighbors"]] == ["▁Water", "water"]
    assert sorted(line.split()[0] for line in run("models").splitlines()[2:]) == [LLAMA, E5, USE]
    assert main(["neighbors", "▁water", "--k", "100000"], client=polyglot) == 2
    assert "(field k)" in capsys.readouterr().err
