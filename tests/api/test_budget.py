"""The work budget: answers of more rows or brute force of more cells than allowed are refused up front."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from service.app import create_app
from service.registry import Registry
from service.settings import Limits, Settings
from tests.conftest import USE

Client = TestClient  # type: ignore[type-arg]
NEIGHBORS = f"/v1/models/{USE}/neighbors"
# USE: 127,997 indexed rows of 512 values = 65.5M cells per full scan; the budget allows one
LIMITS = Limits(max_answer_rows=20, max_scan_cells=70_000_000)


@pytest.fixture(scope="module")
def tight(real_settings: Settings, registry: Registry) -> Iterator[Client]:
    settings = Settings(artifacts=real_settings.artifacts, limits=LIMITS)
    with TestClient(create_app(settings, registry)) as client:
        yield client


def over_budget(response: object, field: str, budget: str) -> None:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == 400, body  # type: ignore[attr-defined]
    assert body["title"] == "Over the work budget" and body["field"] == field and budget in body["budget"]


def test_result_rows_are_bounded(tight: Client) -> None:
    assert tight.get(NEIGHBORS, params={"id": 1304, "k": 20}).status_code == 200
    over_budget(tight.get(NEIGHBORS, params={"id": 1304, "k": 21}), "k", "max_answer_rows")
    batch = {"queries": [{"id": 1304}, {"id": 1305}, {"id": 1306}], "k": 7}
    over_budget(tight.post(NEIGHBORS, json=batch), "queries", "max_answer_rows")
    assert tight.post(NEIGHBORS, json={**batch, "k": 6}).status_code == 200


def test_brute_force_is_bounded_by_cells_scanned(tight: Client) -> None:
    assert tight.get(NEIGHBORS, params={"id": 1304, "k": 5, "exact": "true"}).status_code == 200
    two = {"queries": [{"id": 1304}, {"id": 1305}], "k": 5, "exact": True}
    over_budget(tight.post(NEIGHBORS, json=two), "queries", "max_scan_cells")
    assert tight.post(NEIGHBORS, json={**two, "exact": False}).status_code == 200  # table lookups
    vectors = {"queries": [{"vector": [1.0] * 512}, {"vector": [0.5, -1.0] * 256}], "k": 5}
    over_budget(tight.post(NEIGHBORS, json=vectors), "queries", "max_scan_cells")
    approximate = tight.post(NEIGHBORS, json={**vectors, "approximate": True})
    assert approximate.status_code == 200 and {r["method"] for r in approximate.json()["results"]} == {"ann"}


def test_translations_and_evaluation_are_bounded(tight: Client) -> None:
    translations = f"/v1/models/{USE}/translations"
    assert tight.get(translations, params={"token": "▁water", "k": 5}).status_code == 200
    two = {"queries": [{"token": "▁water"}, {"token": "▁house"}], "k": 5}
    over_budget(tight.post(translations, json=two), "queries", "max_scan_cells")
    dictionary = "\n".join(
        f"{w} {t}" for w, t in [("water", "вода"), ("house", "дом"), ("bread", "хлеб")] * 2
    )
    answer = tight.post(f"/v1/models/{USE}/translations/evaluate", json={"dictionary": dictionary})
    assert answer.status_code == 200, answer.text  # 3 sources x the Cyrillic pool: within 4x the budget
    words = "water house bread dog cat tree sun moon fire city book road river king child mother father"
    many = "\n".join(f"{word} дом" for word in (words + " night day year time world life hand eye").split())
    wide = {"dictionary": many, "target_scripts": ["Latin", "Cyrillic"]}  # 25 sources x a large pool
    over_budget(
        tight.post(f"/v1/models/{USE}/translations/evaluate", json=wide), "dictionary", "max_scan_cells"
    )
