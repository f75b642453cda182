"""The work budget: answers of more rows or work predicted longer than allowed are refused up front."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from service import request_types as r
from service.analyses import compare
from service.app import create_app
from service.budget import RANKED, VALUE_READ, Work
from service.registry import Registry
from service.settings import Limits, Settings
from tests.conftest import E5, USE

Client = TestClient  # type: ignore[type-arg]
NEIGHBORS = f"/v1/models/{USE}/neighbors"
# USE: the budget allows one exact search over its 127,997 rows of 512 values (service/budget.py),
# not two
ONE_SCAN = Work().scans(1, 127_997, 512).seconds
LIMITS = Limits(
    max_answer_rows=20,
    max_work_seconds=1.5 * ONE_SCAN,
    max_evaluation_seconds=0.02,
    max_job_seconds=5,
    job_sync_wait_seconds=0,
)


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


def test_brute_force_is_bounded_by_its_predicted_time(tight: Client) -> None:
    assert tight.get(NEIGHBORS, params={"id": 1304, "k": 5, "exact": "true"}).status_code == 200
    two = {"queries": [{"id": 1304}, {"id": 1305}], "k": 5, "exact": True}
    over_budget(tight.post(NEIGHBORS, json=two), "queries", "max_work_seconds")
    assert tight.post(NEIGHBORS, json={**two, "exact": False}).status_code == 200  # table lookups
    vectors = {"queries": [{"vector": [1.0] * 512}, {"vector": [0.5, -1.0] * 256}], "k": 5}
    over_budget(tight.post(NEIGHBORS, json=vectors), "queries", "max_work_seconds")
    approximate = tight.post(NEIGHBORS, json={**vectors, "approximate": True})
    assert approximate.status_code == 200 and {r["method"] for r in approximate.json()["results"]} == {"ann"}


def test_translations_and_evaluation_are_bounded(tight: Client) -> None:
    translations = f"/v1/models/{USE}/translations"
    assert tight.get(translations, params={"token": "▁water", "k": 5}).status_code == 200
    assert tight.get(translations, params={"token": "▁вода", "k": 5}).status_code == 200
    # Cyrillic and Hangul queries each scan the other scripts' ~110,000 rows alone: 0.86 x ONE_SCAN each
    two = {"queries": [{"token": "▁вода"}, {"token": "▁물"}], "k": 5}
    over_budget(tight.post(translations, json=two), "queries", "max_work_seconds")
    dictionary = "\n".join(
        f"{w} {t}" for w, t in [("water", "вода"), ("house", "дом"), ("bread", "хлеб")] * 2
    )
    answer = tight.post(f"/v1/models/{USE}/translations/evaluate", json={"dictionary": dictionary})
    assert answer.status_code == 200, answer.text  # 3 sources x the Cyrillic pool: within the budget
    words = "water house bread dog cat tree sun moon fire city book road river king child mother father"
    many = "\n".join(f"{word} дом" for word in (words + " night day year time world life hand eye").split())
    wide = {"dictionary": many, "target_scripts": ["Latin", "Cyrillic"]}  # 25 sources x a large pool
    over_budget(
        tight.post(f"/v1/models/{USE}/translations/evaluate", json=wide),
        "dictionary",
        "max_evaluation_seconds",
    )


def test_texts_are_refused_before_they_are_segmented(tight: Client) -> None:
    """Four texts of 1,000 characters are predicted at 0.16 s of segmentation alone: refused up front
    (the answer names the texts' share), before any piece is looked up."""
    texts = {"queries": [{"text": "water " * 166} for _ in range(4)], "k": 1}
    response = tight.post(NEIGHBORS, json=texts)
    over_budget(response, "queries", "max_work_seconds")
    assert "texts 0.16 s" in response.json()["detail"]


def test_a_dictionary_too_large_for_a_request_runs_as_a_job(tight: Client) -> None:
    """67 pairs cost 0.0201 s to resolve against the vocabulary (3e-4 s each): over one request's
    0.02 s, so a job (202, polled); 16,700 pairs (5.01 s) pass the job budget too: refused before any
    pair is resolved."""
    evaluate = f"/v1/models/{USE}/translations/evaluate"
    started = tight.post(evaluate, json={"pairs": [["water", "вода"]] * 67})
    assert started.status_code == 202 and started.headers["location"] == started.json()["url"]
    for _ in range(100):
        job = tight.get(started.headers["location"]).json()
        if job["status"] != "running":
            break
        time.sleep(0.1)
    assert job["status"] == "done" and job["result"]["pairs"] == 67 and job["result"]["queries"] == 1
    again = tight.post(evaluate, json={"pairs": [["water", "вода"]] * 67})  # the job's answer, cached
    assert again.status_code == 200 and again.json()["cached"] is True
    response = tight.post(evaluate, json={"pairs": [["water", "вода"]] * 16_700})
    over_budget(response, "dictionary", "max_job_seconds")
    assert "dictionary pairs 5 s" in response.json()["detail"]


def test_words_longer_than_a_token_are_refused_in_either_dictionary_form(tight: Client) -> None:
    long = "w" * 257
    body = tight.post(f"/v1/models/{USE}/translations/evaluate", json={"pairs": [[long, "вода"]]})
    assert body.status_code == 400 and body.json()["field"] == "pairs[0][0]"
    text = tight.post(f"/v1/models/{USE}/translations/evaluate", json={"dictionary": f"{long} вода"})
    assert text.status_code == 400 and "longer than 256 characters" in text.json()["detail"]


def test_an_analysis_predicted_past_the_job_budget_is_refused(tight: Client) -> None:
    """compare with sample=1 reads and ranks every shared token in both models: over a minute."""
    response = tight.get("/v1/compare", params={"models": f"{USE},multilingual-e5-small", "sample": 1})
    over_budget(response, "sample", "max_job_seconds")


def test_compare_is_charged_for_the_tokens_both_models_hold(registry: Registry) -> None:
    a, b = registry.get(E5), registry.get(USE)
    work = compare.compare_work(a, b, r.CompareRequest(models=[E5, USE], sample=0.01)).by_part()
    # 66,425 token strings both hold (66,422 with a usable row in both); 664 sampled, ranked in each
    assert work["rankings"] == pytest.approx(2 * 664 * 66_425 * RANKED)
    assert work["reading rows"] == pytest.approx(66_425 * (384 + 512) * VALUE_READ)
