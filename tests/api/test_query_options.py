"""The query options apps expect (min_similarity, paging, group_by, examples, mutual, mmr) on the
real packaged tables, against the plain ranking and the exact table."""

from __future__ import annotations

from litestar.testing import TestClient

from service.registry import Registry
from tests.conftest import E5, USE

WATER = f"/v1/models/{E5}/neighbors"


def get(client: TestClient, path: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ids(body: dict, key: str = "neighbors") -> list[int]:  # type: ignore[type-arg]
    return [n["id"] for n in body[key]]


def test_pages_concatenate_to_the_unpaged_answer(client: TestClient) -> None:  # type: ignore[type-arg]
    whole = get(client, WATER, token="▁water", k=10)
    pages, cursor, ranks = [], None, []
    while True:
        params = {"token": "▁water", "k": 10, "limit": 4} | ({"cursor": cursor} if cursor else {})
        body = get(client, WATER, **params)
        pages += ids(body)
        ranks += [n["rank"] for n in body["neighbors"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == ids(whole) and ranks == list(range(1, 11))  # no gaps, no repeats


def test_min_similarity_keeps_the_prefix_above_the_floor(client: TestClient) -> None:  # type: ignore[type-arg]
    whole = get(client, WATER, token="▁water", k=50)
    floored = get(client, WATER, token="▁water", k=50, min_similarity=0.6)
    expected = [n["id"] for n in whole["neighbors"] if n["similarity"] >= 0.6]
    assert ids(floored) == expected and len(expected) == 6


def test_group_by_language_gives_the_best_of_each(client: TestClient) -> None:  # type: ignore[type-arg]
    body = get(
        client, f"/v1/models/{E5}/translations", token="▁water", k=4, group_by="language", group_size=2
    )
    groups = [(g["group"], [n["token"] for n in g["results"]]) for g in body["groups"]]
    assert groups == [
        ("ru", ["▁воды", "▁водо"]),
        ("bn", ["▁জল", "▁জ"]),
        ("ar", ["▁الماء", "▁المياه"]),
        ("fa", ["▁آب", "▁آبی"]),
    ]
    assert body["candidates"] == [] and all(
        n["language"]["label"] == g["group"] for g in body["groups"] for n in g["results"]
    )


def test_mutual_keeps_candidates_whose_own_neighbors_hold_the_query(
    client: TestClient,  # type: ignore[type-arg]
    registry: Registry,
) -> None:
    body = get(client, WATER, token="▁water", k=20, mutual="true")
    model = registry.get(E5)
    query = body["query"]["id"]
    plain = ids(get(client, WATER, token="▁water", k=20))
    table = model.space.knn_ids
    assert table is not None
    expected = [c for c in plain if query in table[c, :20]]
    assert ids(body) == expected and 0 < len(expected) < 20


def test_mmr_one_is_the_plain_ranking_and_lower_diversifies(client: TestClient) -> None:  # type: ignore[type-arg]
    plain = get(client, WATER, token="▁water", k=8)
    assert ids(get(client, WATER, token="▁water", k=8, mmr=1)) == ids(plain)
    diverse = get(client, WATER, token="▁water", k=8, mmr=0.5)
    assert diverse["neighbors"][0]["id"] == plain["neighbors"][0]["id"]
    scripts = {n["labels"]["unicode"] for n in diverse["neighbors"]}
    assert len(scripts) > len({n["labels"]["unicode"] for n in plain["neighbors"]})


def test_examples_king_minus_man_plus_woman(client: TestClient) -> None:  # type: ignore[type-arg]
    body = get(client, f"/v1/models/{USE}/neighbors", positive="▁king,▁woman", negative="▁man", k=5)
    tokens = [n["token"] for n in body["neighbors"]]
    assert tokens[:2] == ["▁King", "▁Queen"] and not {"▁king", "▁woman", "▁man"} & set(tokens)
    assert body["query"]["kind"] == "examples"
    assert [(e["example"], e["sign"]) for e in body["query"]["examples"]] == [
        ("▁king", "positive"),
        ("▁woman", "positive"),
        ("▁man", "negative"),
    ]
    best = get(
        client,
        f"/v1/models/{USE}/neighbors",
        positive="▁king,▁woman",
        negative="▁man",
        k=3,
        strategy="best_score",
    )
    assert [n["token"] for n in best["neighbors"]] == ["▁King", "▁women", "▁vrouw"]
    # a word the vocabulary splits is an example too (pooled like text=)
    assert get(client, f"/v1/models/{E5}/neighbors", positive="больница", k=3)["neighbors"]


def test_options_are_in_the_cache_key_and_batches(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post(
        f"/v1/models/{E5}/neighbors",
        json={"queries": [{"token": "▁water"}, {"text": "больница"}], "k": 5, "mmr": 0.5},
    )
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert ids(first) == ids(get(client, WATER, token="▁water", k=5, mmr=0.5))
    assert ids(first) != ids(get(client, WATER, token="▁water", k=5))


def test_conflicting_options_are_400_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    for params, field in (
        ({"token": "▁water", "cursor": "4"}, "cursor"),
        ({"token": "▁water", "group_by": "language", "limit": 3}, "group_by"),
        ({"token": "▁water", "group_by": "language", "mmr": 0.5}, "group_by"),
        ({"negative": "▁man"}, "negative"),
        ({"token": "▁water", "strategy": "best_score"}, "strategy"),
        ({"token": "▁water", "positive": "▁king"}, "positive"),
        ({"token": "▁water", "mmr": 1.5}, "mmr"),
        ({"token": "▁water", "min_similarity": 2}, "min_similarity"),
        ({"token": "▁water", "group_by": "age"}, "group_by"),
    ):
        response = client.get(WATER, params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json().get("field") == field, (params, response.text)


def test_group_budget_counts_every_row(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get(
        WATER, params={"token": "▁water", "k": 1000, "group_by": "script", "group_size": 100}
    )
    assert response.status_code == 400 and "result rows" in response.json()["detail"]
