"""HTTP at the edges: OPTIONS, framing, symbolic links in the reports folder, what the spec states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from service.app import create_app
from service.registry import Registry
from service.settings import Settings
from tests.conftest import E5

Client = TestClient  # type: ignore[type-arg]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (f"/v1/models/{E5}/neighbors", "GET, HEAD, OPTIONS, POST"),
        (f"/v1/models/{E5}/translations", "GET, HEAD, OPTIONS, POST"),
        ("/v1/jobs/0123456789abcdef0123", "DELETE, GET, HEAD, OPTIONS"),
        (f"/v1/models/{E5}/translations/evaluate", "OPTIONS, POST"),
    ],
)
def test_options_lists_every_method_of_the_path(client: Client, path: str, allowed: str) -> None:
    response = client.options(path)
    assert response.status_code == 204 and response.headers["allow"] == allowed


def test_no_page_can_be_framed_by_another_site(client: Client) -> None:
    for path in ("/schema/swagger", "/"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["x-frame-options"] == "DENY"


@pytest.fixture()
def reports(registry: Registry, real_settings: Settings, tmp_path: Path) -> Iterator[Client]:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "page.html").write_text("<p>report</p>")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    (folder / "link.txt").symlink_to(secret)
    (folder / "linked").symlink_to(tmp_path)
    settings = Settings(artifacts=real_settings.artifacts, reports=folder)
    with TestClient(create_app(settings, registry)) as test_client:
        yield test_client


def test_a_symbolic_link_in_the_reports_folder_is_not_followed(reports: Client) -> None:
    assert reports.get("/reports/page.html").text == "<p>report</p>"
    assert reports.get("/reports/link.txt").status_code == 404
    assert reports.get("/reports/linked/secret.txt").status_code == 404


def test_the_spec_states_body_rules_and_every_media_type(client: Client) -> None:
    spec = client.get("/schema/openapi.json").json()
    body = spec["paths"]["/v1/models/{model}/neighbors"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    assert [rule["required"] for rule in schema["oneOf"]] == [
        ["token"],
        ["id"],
        ["text"],
        ["vector"],
        ["queries"],
        ["positive"],
    ]
    export = spec["paths"]["/v1/models/{model}/export"]["get"]["responses"]["200"]["content"]
    assert sorted(export) == ["application/vnd.apache.parquet", "application/zip"]


def _series(client: Client, name: str, **labels: str) -> float:
    """The value of one Prometheus series on /metrics (0 when it is not there yet)."""
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + "{") and set(line[len(name) + 1 : line.rindex("}")].split(",")) == wanted:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_request_is_counted_and_timed_by_its_route_and_status(client: Client) -> None:
    route = "/v1/models/{model}/neighbors"
    labels = {"app_name": "polyglot-geometry", "method": "GET", "path": route}
    ok = {**labels, "status_code": "200"}
    missing = {**labels, "status_code": "404"}
    before = [
        _series(client, "polyglot_requests_total", **ok),
        _series(client, "polyglot_requests_total", **missing),
    ]
    timed = _series(client, "polyglot_request_duration_seconds_count", **ok)
    assert client.get(f"/v1/models/{E5}/neighbors", params={"id": 4242, "k": 3}).status_code == 200
    assert client.get(f"/v1/models/{E5}/neighbors", params={"token": "no-such-token-here"}).status_code == 404
    after = [
        _series(client, "polyglot_requests_total", **ok),
        _series(client, "polyglot_requests_total", **missing),
    ]
    assert [b - a for a, b in zip(before, after, strict=True)] == [1.0, 1.0]
    assert _series(client, "polyglot_request_duration_seconds_count", **ok) == timed + 1
    assert _series(client, "polyglot_requests_in_progress", **ok) == 0.0  # none left open
    assert _series(client, "polyglot_requests_error_total", **missing) == 0.0  # errors: 5xx only
