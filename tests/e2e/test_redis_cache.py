"""Caching through a real redis-server (started here on a free port), outages, and metrics."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from litestar.testing import TestClient

from service.app import create_app
from service.cache import cache_key
from service.request_types import NeighborsRequest
from service.settings import Settings
from tests.conftest import E5, USE
from tests.e2e.conftest import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server"),
]


class RedisServer:
    def __init__(
        self, directory: Path, options: list[str] | None = None, password: str | None = None
    ) -> None:
        self.port = free_port()
        self.directory = directory
        self.options = options or []  # more redis-server arguments (--maxmemory, --maxmemory-policy)
        self.password = password  # the server's --requirepass (None: none)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        secret = f":{self.password}@" if self.password else ""
        return f"redis://{secret}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                *self.options,
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    instance = RedisServer(tmp_path_factory.mktemp("redis"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def client(server: RedisServer, packaged: dict[str, Path]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    settings = Settings(artifacts=tuple(packaged.values()), redis_url=server.url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def metric(client: TestClient, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_second_identical_and_reordered_requests_hit(client: TestClient, server: RedisServer) -> None:  # type: ignore[type-arg]
    url = f"/v1/models/{E5}/neighbors"
    first = client.get(url, params={"token": "▁house", "k": 7, "scripts": "Greek,Cyrillic"})
    again = client.get(url, params={"token": "▁house", "k": 7, "scripts": "Greek,Cyrillic"})
    reordered = client.get(url, params={"scripts": "Cyrillic, Greek", "k": "7", "token": "▁house"})
    assert first.headers["x-cache"] == "miss" and again.headers["x-cache"] == "hit"
    assert reordered.headers["x-cache"] == "hit" and reordered.json() == first.json()
    keys = redis.Redis(port=server.port).keys("pg:*:neighbors:*")
    assert keys, "the response was stored in Redis"


def test_different_artifact_checksum_gives_a_different_key() -> None:
    query = NeighborsRequest(id=5, k=5, scripts=["Latin", "Greek"]).canonical()
    assert cache_key(["aaa"], "neighbors", query) != cache_key(["bbb"], "neighbors", query)
    same = NeighborsRequest(scripts=["Greek", "Latin", "Greek"], k=5, id=5, exact=False).canonical()
    assert cache_key(["aaa"], "neighbors", query) == cache_key(["aaa"], "neighbors", same)


def test_corrupted_cache_value_is_a_miss_and_is_overwritten(client: TestClient, server: RedisServer) -> None:  # type: ignore[type-arg]
    url = f"/v1/models/{USE}/neighbors"
    params = {"token": "▁house", "k": 4}
    assert client.get(url, params=params).headers["x-cache"] == "miss"
    store = redis.Redis(port=server.port)
    (key,) = [k for k in store.keys("pg:*:neighbors:*") if b'"k":4,' in (store.get(k) or b"")]  # type: ignore[operator]
    store.set(key, b"\x00not json")
    response = client.get(url, params=params)
    assert response.status_code == 200 and response.headers["x-cache"] == "miss"
    assert b'"k":4,' in (store.get(key) or b"")
    assert client.get(url, params=params).headers["x-cache"] == "hit"


def test_redis_outage_never_fails_a_request(client: TestClient, server: RedisServer) -> None:  # type: ignore[type-arg]
    errors_before = metric(client, "polyglot_cache_total", endpoint="redis", outcome="error")
    server.stop()
    try:
        statuses = [
            client.get(f"/v1/models/{E5}/neighbors", params={"id": 1000 + i, "k": 5}).status_code
            for i in range(30)
        ]
        analysis = client.get(f"/v1/models/{USE}/diversity", params={"seed": 99})
        assert statuses == [200] * 30 and analysis.status_code == 200
        assert client.get("/ready").json()["redis"] == "down"
        assert metric(client, "polyglot_cache_total", endpoint="redis", outcome="error") > errors_before
    finally:
        server.start()
    time.sleep(3.2)  # the cool-down after a failure
    assert client.get("/ready").json()["redis"] == "up"
    params = {"id": 4242, "k": 3}
    assert client.get(f"/v1/models/{E5}/neighbors", params=params).headers["x-cache"] == "miss"
    assert redis.Redis(port=server.port).keys("pg:*:neighbors:*"), "caching resumed in Redis"


def test_metrics_are_exposed_after_traffic(client: TestClient) -> None:  # type: ignore[type-arg]
    client.get(f"/v1/models/{E5}/neighbors", params={"token": "▁water", "k": 5})
    client.get(f"/v1/models/{USE}/diversity", params={"seed": 3})
    text = client.get("/metrics").text
    for name in (
        "polyglot_requests_total",
        "polyglot_request_duration_seconds",
        "polyglot_cache_total",
        "polyglot_analysis_seconds",
        "polyglot_search_seconds",
        "polyglot_models_loaded",
        "polyglot_model_bytes",
        "polyglot_artifact_load_seconds",
    ):
        assert name in text, name
    assert metric(client, "polyglot_models_loaded") == 3  # the packaged models


def test_a_redis_with_a_password_and_a_wrong_one(tmp_path: Path) -> None:
    """The service connects with the password in its URL (answers land in Redis); a wrong password is
    an error at start-up that names the Redis, not an outage served through in silence."""
    from service.registry import Registry
    from tests.tiny_model import tiny_model

    guarded = RedisServer(tmp_path, password="s3cret-pass")
    guarded.start()
    registry = Registry([tiny_model()])
    try:
        with TestClient(create_app(Settings(artifacts=(), redis_url=guarded.url), registry)) as client:
            assert client.get("/v1/models/tiny/neighbors?token=%E2%96%81water&k=2").status_code == 200
        assert guarded.client().keys("pg:*")  # the answer was kept there
        wrong = refused(
            Settings(artifacts=(), redis_url=f"redis://:nope@127.0.0.1:{guarded.port}/0"), registry
        )
        assert f"the Redis at 127.0.0.1:{guarded.port} refused the service's password" in wrong
        bare = refused(Settings(artifacts=(), redis_url=f"redis://127.0.0.1:{guarded.port}/0"), registry)
        assert "refused the service's password" in bare and "nope" not in wrong
    finally:
        guarded.stop()


def refused(settings: Settings, registry: object) -> str:
    """The RedisRefused that stops the app's start-up (the test client wraps it in exception groups)."""
    from service.stores import RedisRefused

    try:
        with TestClient(create_app(settings, registry)):  # type: ignore[arg-type]
            pass
    except BaseException as exc:  # noqa: BLE001
        found: list[BaseException] = [exc]
        while found:
            error = found.pop()
            if isinstance(error, RedisRefused):
                return str(error)
            found.extend(getattr(error, "exceptions", ()))
    raise AssertionError("the app started")
