"""Vocabulary health on the real packaged tables: under-trained candidates and the filter."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient

from geometry import table_statistics as geometry_health
from service.analyses.vocabulary_health import anomalies
from service.registry import Registry, load_model
from tests.conftest import E5, LLAMA


def get(client: TestClient, path: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_llama_candidates_start_from_the_unreachable_ascii_bytes(client: TestClient) -> None:  # type: ignore[type-arg]
    body = get(client, f"/v1/models/{LLAMA}/tokens/anomalies", limit=5)
    assert body["reference"] == {"described": "tokens the model's tokenizer never produces", "tokens": 94}
    assert body["candidates"] == 640 and "not verified" in body["caveat"]
    assert [(i["token"]["display"], i["reachable"]) for i in body["items"]] == [
        ("<0x50>", False),
        ("<0x66>", False),
        ("<0x79>", False),
        ("<0x67>", False),
        ("<0xFC>", None),  # a non-ASCII byte: not checked, but like the unused rows
    ]
    words = get(client, f"/v1/models/{LLAMA}/tokens/anomalies", limit=3, kind="word-initial")
    # known under-trained Llama 2 tokens (Wikipedia boilerplate), as Land & Bartolo report
    assert [i["token"]["display"] for i in words["items"]] == ["▁Расподела", "▁regnig", "▁Portály"]
    cyrillic = get(client, f"/v1/models/{LLAMA}/tokens/anomalies", limit=1000, script="Cyrillic")
    assert cyrillic["matching"] == body["by_script"]["Cyrillic"] == len(cyrillic["items"])


def test_exclude_anomalous_removes_exactly_the_flagged_tokens(
    client: TestClient,  # type: ignore[type-arg]
    registry: Registry,
) -> None:
    from service.analyses.vocabulary_health import anomalies

    model = registry.get(E5)
    flagged = anomalies(model).flagged
    plain = get(client, f"/v1/models/{E5}/neighbors", token="▁water", k=100)
    cleaned = get(client, f"/v1/models/{E5}/neighbors", token="▁water", k=20, exclude_anomalous="true")
    expected = [n["id"] for n in plain["neighbors"] if not flagged[n["id"]]][:20]
    assert [n["id"] for n in cleaned["neighbors"]] == expected
    assert not np.any(flagged[[n["id"] for n in cleaned["neighbors"]]])
    translated = get(client, f"/v1/models/{E5}/translations", token="▁water", k=20, exclude_anomalous="true")
    assert not np.any(flagged[[c["id"] for c in translated["candidates"]]])


def test_anomaly_filters_are_checked(client: TestClient) -> None:  # type: ignore[type-arg]
    for params, field in (
        ({"kind": "special"}, "kind"),
        ({"script": "Klingon"}, "script"),
        ({"limit": 0}, "limit"),
    ):
        response = client.get(f"/v1/models/{E5}/tokens/anomalies", params=params)
        assert response.status_code == 400 and response.json()["field"] == field, response.text


def test_geometry_statistics_are_seeded_and_centring_removes_the_common_direction(client: TestClient) -> None:  # type: ignore[type-arg]
    raw = get(client, f"/v1/models/{E5}/geometry")
    centred = get(client, f"/v1/models/{E5}/geometry", postprocess="centred-top", components=1)
    # every indexed token is text in e5 (no bytes): the statistics cover the index
    indexed = get(client, f"/v1/models/{E5}")["index"]["count"]
    assert raw["overall"]["tokens"] == indexed and raw["overall"]["mean_pair_cosine"] == 0.076361
    assert raw["overall"]["isoscore"] == 0.658258 and centred["overall"]["isoscore"] == 0.672498
    assert abs(centred["overall"]["mean_pair_cosine"]) < 0.001 and centred["components_removed"] == 1
    assert raw["norm_frequency"] == {"proxy": "SentencePiece unigram score", "spearman": 0.608304}
    assert list(raw["groups"])[:3] == ["Latin", "Cyrillic", "Han"]
    assert raw["overall"]["norm_frequency_spearman"] == raw["norm_frequency"]["spearman"]
    assert raw["groups"]["Han"]["norm_frequency_spearman"] == 0.754938
    by_language = get(client, f"/v1/models/{LLAMA}/geometry", by="language")
    assert list(by_language["groups"])[:3] == ["en", "ru", "de"]


def test_footprint_shares_add_up_and_the_id_list_is_the_trimmed_vocabulary(client: TestClient) -> None:  # type: ignore[type-arg]
    body = get(client, f"/v1/models/{LLAMA}/footprint", keep_languages="en,de")
    for table in ("by_script", "by_language"):
        assert abs(sum(row["share"] for row in body[table].values()) - 1.0) < 1e-5
        vocabulary = get(client, f"/v1/models/{LLAMA}")["vocab_size"]
        assert sum(row["tokens"] for row in body[table].values()) == body["tokens"] == vocabulary
    trimmed = body["trimmed"]
    assert (trimmed["kept_tokens"], trimmed["dropped_tokens"], trimmed["scripts"]) == (
        24_710,
        7_290,
        ["Common", "Latin"],
    )
    response = client.get(f"/v1/models/{LLAMA}/footprint/ids", params={"keep_languages": "de,en"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    ids = [int(line) for line in response.text.split()]
    assert len(ids) == 24_710 and ids[:3] == [0, 1, 2]  # the specials are kept
    missing = client.get(f"/v1/models/{LLAMA}/footprint/ids")
    assert missing.status_code == 400 and missing.json()["field"] == "keep_languages"


def test_the_first_computation_runs_once_when_requests_arrive_together(
    packaged: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests for a model's candidates at once: one computation, both answered (before, both
    computed it: seconds of work twice)."""
    model = load_model(packaged[LLAMA], verify_checksums=False)
    calls: list[int] = []
    norms = geometry_health.row_norms

    def counted(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        calls.append(1)
        time.sleep(0.2)  # both requests are inside before the first finishes
        return norms(matrix, rows)

    monkeypatch.setattr(geometry_health, "row_norms", counted)
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda _: anomalies(model), range(2)))
    assert len(calls) == 1 and found[0] is found[1]
