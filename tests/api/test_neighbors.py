"""Neighbors and translations on the real packaged artifacts, errors included."""

import numpy as np
import pytest
from litestar.testing import TestClient

from geometry.neighbors import exact_search, normalize, search
from service.registry import Registry
from tests.conftest import E5, USE


def neighbors(client: TestClient, model: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/models/{model}/neighbors", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_english_token_has_neighbors_in_another_script(client: TestClient) -> None:  # type: ignore[type-arg]
    body = neighbors(client, E5, token="▁water", k=50)
    scripts = {n["labels"]["unicode"] for n in body["neighbors"]}
    assert len(body["neighbors"]) == 50 and body["method"] == "table"
    assert scripts - {"Latin", "Common", "Mixed"}, scripts
    ranks = [n["rank"] for n in body["neighbors"]]
    sims = [n["similarity"] for n in body["neighbors"]]
    assert ranks == list(range(1, 51)) and sims == sorted(sims, reverse=True)
    assert body["query"]["id"] not in [n["id"] for n in body["neighbors"]]


def test_include_self_puts_the_query_first(client: TestClient) -> None:  # type: ignore[type-arg]
    body = neighbors(client, USE, token="▁water", k=3, include_self="true")
    assert body["neighbors"][0]["id"] == body["query"]["id"] and body["neighbors"][0]["similarity"] == 1.0


def test_script_filter_returns_k_of_that_script(client: TestClient) -> None:  # type: ignore[type-arg]
    for scripts in ("Cyrillic", "Georgian", "Greek,Hebrew"):
        body = neighbors(client, E5, token="▁water", k=20, scripts=scripts)
        wanted = set(scripts.split(","))
        assert len(body["neighbors"]) == 20
        assert {n["labels"]["unicode"] for n in body["neighbors"]} <= wanted
    body = neighbors(client, E5, token="▁water", k=20, exclude_scripts="Latin", scheme="unicode")
    assert "Latin" not in {n["labels"]["unicode"] for n in body["neighbors"]}
    body = neighbors(client, E5, token="▁water", k=5, scripts="CYRILLIC", scheme="paper")
    assert {n["labels"]["paper"] for n in body["neighbors"]} == {"CYRILLIC"}


def test_table_and_exact_agree(client: TestClient) -> None:  # type: ignore[type-arg]
    fast = neighbors(client, USE, token="▁house", k=30)
    exact = neighbors(client, USE, token="▁house", k=30, exact="true")
    assert exact["method"] == "exact"
    assert [n["id"] for n in fast["neighbors"]] == [n["id"] for n in exact["neighbors"]]


@pytest.mark.parametrize("model", [E5, USE])
def test_ann_vector_queries_match_exact_search(registry: Registry, model: str) -> None:
    """Raw-vector queries (HNSW + best-first search over the exact table): recall@50 >= 0.99.

    The queries are real token vectors with 20% Gaussian noise (cosine ~0.98 to the token); far-off
    queries (50% noise) reach 0.97-0.98, recorded in docs/benchmarks.md.
    """
    space = registry.get(model).space
    rng = np.random.default_rng(7)
    recalls = []
    for ident in rng.choice(space.indexed, 100, replace=False):
        row = space.unit(np.array([ident]))[0]
        query = normalize(row + 0.2 * np.linalg.norm(row) * rng.standard_normal(len(row)) / np.sqrt(len(row)))
        ann = search(space, query, 50, approximate=True)
        truth = exact_search(space, query, 50, None)
        recalls.append(len(set(ann.ids.tolist()) & set(truth.ids.tolist())) / 50)
    assert np.mean(recalls) >= 0.99, np.mean(recalls)


def test_batch_keeps_request_order(client: TestClient) -> None:  # type: ignore[type-arg]
    vector = [0.0] * 512
    vector[3] = 1.0
    body = {"queries": [{"id": 1304}, {"token": "▁вода"}, {"vector": vector}, {"token": "▁water"}], "k": 4}
    response = client.post(f"/v1/models/{USE}/neighbors", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["query"]["kind"] for r in results] == ["id", "token", "vector", "token"]
    assert results[0]["query"]["id"] == 1304 and results[1]["query"]["token"] == "▁вода"
    assert all(len(r["neighbors"]) == 4 for r in results)


def test_translations_are_in_other_scripts(client: TestClient) -> None:  # type: ignore[type-arg]
    for method in ("cosine", "csls"):
        response = client.get(
            f"/v1/models/{USE}/translations", params={"token": "▁water", "k": 10, "method": method}
        )
        body = response.json()
        assert response.status_code == 200 and body["method"] == method
        assert all(c["labels"]["unicode"] not in {"Latin", "Common"} for c in body["candidates"])
    body = client.get(
        f"/v1/models/{USE}/translations", params={"token": "▁water", "k": 5, "target_scripts": "Cyrillic"}
    ).json()
    assert "▁вода" in [c["token"] for c in body["candidates"]]
    assert all(c["csls"] is not None for c in body["candidates"])


def test_dictionary_evaluation(client: TestClient) -> None:  # type: ignore[type-arg]
    text = "water вода\nhouse дом\nbread хлеб\nzzqqxx ффф\n"
    response = client.post(
        f"/v1/models/{USE}/translations/evaluate", json={"dictionary": text, "include_misses": True}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["pairs"] == 4 and body["covered_pairs"] == 3 and body["target_scripts"] == ["Cyrillic"]
    assert body["skipped"] == [  # the source is composed from its pieces; the target cannot be
        {
            "source": "zzqqxx",
            "target": "ффф",
            "reason": "target is not a single token (a composed target needs pool=words)",
        }
    ]
    assert (body["single_token_queries"], body["composed_queries"]) == (3, 0)
    assert set(body["precision"]) == {"cosine", "csls"} and set(body["precision"]["csls"]) == {
        "p@1",
        "p@5",
        "p@10",
    }
    assert body["precision"]["csls"]["p@10"] >= 2 / 3
    pairs = client.post(f"/v1/models/{USE}/translations/evaluate", json={"pairs": [["water", "вода"]]}).json()
    assert pairs["covered_pairs"] == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "field"),
    [
        ("get", "/v1/models/nope/neighbors", {"params": {"token": "a"}}, 404, None),
        ("get", f"/v1/models/{E5}/neighbors", {"params": {"token": "▁qqqxzzzw"}}, 404, "token"),
        ("get", f"/v1/models/{E5}/neighbors", {"params": {"token": "▁water", "k": 1001}}, 400, "k"),
        ("get", f"/v1/models/{E5}/neighbors", {"params": {"token": "▁water", "k": 0}}, 400, "k"),
        (
            "get",
            f"/v1/models/{E5}/neighbors",
            {"params": {"token": "▁water", "scripts": "Klingon"}},
            400,
            "scripts",
        ),
        ("get", f"/v1/models/{E5}/neighbors", {"params": {}}, 400, "token"),
        ("get", f"/v1/models/{E5}/neighbors", {"params": {"token": "▁water", "scheme": "x"}}, 400, "scheme"),
        ("post", f"/v1/models/{E5}/neighbors", {"json": {"queries": []}}, 400, "queries"),
        (
            "post",
            f"/v1/models/{E5}/neighbors",
            {"json": {"queries": [{"vector": [1.0, 2.0]}]}},
            400,
            "queries[0].vector",
        ),
        (
            "post",
            f"/v1/models/{E5}/neighbors",
            {"json": {"queries": [{"token": "a", "id": 3}]}},
            400,
            "queries[0]",
        ),
        ("post", f"/v1/models/{E5}/neighbors", {"json": {"queries": [{"id": 5}], "bogus": 1}}, 400, None),
        ("post", f"/v1/models/{E5}/neighbors", {"json": {"queries": [{"id": 5}] * 1025}}, 400, "queries"),
        (
            "post",
            f"/v1/models/{E5}/neighbors",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            None,
        ),
        ("post", f"/v1/models/{E5}/translations/evaluate", {"json": {}}, 400, "dictionary"),
    ],
)
def test_errors_are_problem_details(
    client: TestClient,
    method: str,
    path: str,
    kwargs: dict,
    status: int,
    field: str | None,  # type: ignore[type-arg]
) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field


def test_unknown_token_suggests_close_matches(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.get(f"/v1/models/{E5}/neighbors", params={"token": "▁watr"}).json()
    assert "▁water" in body["suggestions"]


def test_body_too_large_is_413(client: TestClient) -> None:  # type: ignore[type-arg]
    huge = b'{"dictionary": "' + b"a b\\n" * 5_000_000 + b'"}'
    response = client.post(
        f"/v1/models/{E5}/translations/evaluate", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
