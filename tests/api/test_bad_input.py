"""Bad input at the edges: every case is a 4xx problem, never a 5xx, and the service stays up."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.conftest import E5

Client = TestClient  # type: ignore[type-arg]
NEIGHBORS = f"/v1/models/{E5}/neighbors"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b'{"queries": [{"id": 5}]}', "headers": {"content-type": "text/plain"}}, 415),
        ({"content": b"\xff\xfe\xfa", "headers": {"content-type": "application/json"}}, 400),
        (
            {
                "content": '{"queries": [{"token": "\udcff"}]}'.encode("utf-8", "surrogatepass"),
                "headers": {"content-type": "application/json"},
            },
            400,
        ),
        (
            {
                "content": b'{"queries": [{"token": "\\udcff"}]}',
                "headers": {"content-type": "application/json"},
            },
            400,
        ),
        ({"json": {"queries": [{"vector": ["a"] * 384}]}}, 400),
        (
            {
                "content": b'{"queries": [{"vector": [1e400, 1]}]}',
                "headers": {"content-type": "application/json"},
            },
            400,
        ),
        ({"json": {"queries": [{"vector": [0.0] * 384}]}}, 400),
        ({"json": {"queries": [{"vector": [0.1] * 20_000}]}}, 400),
        ({"json": {"queries": [{"token": "a" * 10_000}]}}, 400),
        ({"json": {"queries": [{"id": -1}]}}, 400),
        ({"json": {"queries": [{"id": 10**12}]}}, 400),
        ({"json": {"queries": [{"id": 5}], "k": 10**9}}, 400),
        ({"json": [1, 2, 3]}, 400),
    ],
)
def test_bad_bodies_are_4xx_problems(client: Client, kwargs: dict, status: int) -> None:  # type: ignore[type-arg]
    response = client.post(NEIGHBORS, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("scale", [3e38, 1e39, 1e-30, 1e-300])
def test_extreme_magnitudes_are_normalized_not_zeroed(client: Client, scale: float) -> None:
    """Scaled before the norm: huge or tiny components give the direction's own neighbors."""
    direction = [1.0 if i % 3 else -0.5 for i in range(384)]
    answers = [
        client.post(NEIGHBORS, json={"vector": [v * factor for v in direction], "k": 5}).json()["neighbors"]
        for factor in (1.0, scale)
    ]
    assert answers[0] == answers[1] and answers[1][0]["similarity"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"token": "a" * 10_000},
        {"token": "▁water", "k": "ten"},
        {"token": "▁water", "k": "99999999999999999999"},
        {"id": "-5"},
        {"token": "▁water", "exact": "maybe"},
        {"token": "▁water", "scripts": "," * 3000},
    ],
)
def test_bad_query_parameters_are_400(client: Client, params: dict) -> None:  # type: ignore[type-arg]
    response = client.get(NEIGHBORS, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_unknown_route_and_method(client: Client) -> None:
    assert client.get("/v1/nothing").status_code == 404
    response = client.delete(NEIGHBORS)
    assert response.status_code == 405 and "allow" in {k.lower() for k in response.headers}


def test_pages_carry_security_headers(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    answer = client.get(f"/v1/models/{E5}")
    assert (
        answer.headers["x-content-type-options"] == "nosniff"
        and "content-security-policy" not in answer.headers
    )


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/reports/%00", {}),
        ("get", "/static/%00", {}),
        (
            "post",
            NEIGHBORS,
            {
                "content": b'{"queries": ' + b"[" * 1000 + b"]" * 1000 + b"}",
                "headers": {"content-type": "application/json"},
            },
        ),
        ("post", NEIGHBORS, {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}),
    ],
)
def test_odd_paths_and_deep_json_are_4xx(client: Client, method: str, path: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    response = getattr(client, method)(path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
