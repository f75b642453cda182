"""API keys: closed when keys are configured (401 without one, 403 with another), the probes and the
metrics open, keys compared in constant time and never echoed; the client a request counts against."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from polyglot_client import Client
from service.api import access
from service.app import create_app
from service.registry import Registry
from service.settings import Settings
from tests.tiny_model import tiny_model

KEYS = ("k-alpha-0123456789", "k-beta-9876543210")
NEIGHBORS = "/v1/models/tiny/neighbors?token=%E2%96%81water&k=2"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # type: ignore[type-arg]
    file = tmp_path_factory.mktemp("keys") / "keys"
    file.write_text(f"# one key per line\n{KEYS[1]}\n\n")
    settings = Settings(artifacts=(), api_keys=KEYS[0], api_keys_file=str(file))
    with TestClient(create_app(settings, Registry([tiny_model()]))) as client:
        yield client


def test_no_key_is_401_another_key_403_a_key_200(keyed: TestClient, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[type-arg]
    caplog.set_level(logging.DEBUG)
    missing = keyed.get(NEIGHBORS)
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Authentication required"
    wrong = keyed.get(NEIGHBORS, headers={"Authorization": "Bearer not-a-key"})
    assert wrong.status_code == 403 and "not-a-key" not in wrong.text
    assert keyed.get(NEIGHBORS, headers={"Authorization": f"Bearer {KEYS[0]}"}).status_code == 200
    assert keyed.get(NEIGHBORS, headers={"X-API-Key": KEYS[1]}).status_code == 200  # from the key file
    for path in ("/health", "/ready", "/metrics"):  # probes and metrics: no key
        assert keyed.get(path).status_code == 200, path
    assert all(key not in caplog.text for key in (*KEYS, "not-a-key"))


def test_the_python_client_sends_its_key(keyed: TestClient) -> None:  # type: ignore[type-arg]
    assert Client(http=keyed, api_key=KEYS[1]).neighbors("tiny", token="▁water", k=2).k == 2


def test_every_key_is_compared_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Constant time: each configured key is compared (hmac.compare_digest), the match or not."""
    compared: list[bytes] = []
    real = access.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", counting)
    keys = [key.encode() for key in KEYS]
    assert access._known(keys[0], keys) and not access._known(b"other", keys)
    assert compared == keys + keys


def named(trusted: access.Networks, peer: str, forwarded: str | None, state: dict[str, str]) -> str:
    """The client `identify_clients` names for one request."""
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "client": (peer, 5000), "headers": headers, "state": dict(state)}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    asyncio.run(access.identify_clients(trusted)(app)(scope, None, None))  # type: ignore[arg-type]
    return access.client_of(scope)


def test_the_client_a_request_counts_against() -> None:
    """Its key's id when it has one; else its address; X-Forwarded-For only from a trusted proxy."""
    trusted = access.trusted_networks("10.0.0.0/8, 192.168.1.7")
    keyed = {access.CLIENT: access.key_id(b"k")}
    assert named(trusted, "10.1.2.3", "1.1.1.1", keyed) == access.key_id(b"k")
    assert named(trusted, "127.0.0.1", "6.6.6.6", {}) == "127.0.0.1"  # not a proxy: ignored
    assert named(trusted, "10.1.2.3", "6.6.6.6, 5.5.5.5", {}) == "5.5.5.5"  # the proxy's hop
    assert named(trusted, "192.168.1.7", None, {}) == "192.168.1.7"
    assert named((), "10.1.2.3", "6.6.6.6", {}) == "10.1.2.3"  # no proxy configured
