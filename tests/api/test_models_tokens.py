"""Models and vocabulary endpoints on the real packaged artifacts."""

from litestar.testing import TestClient

from tests.conftest import E5, USE


def test_models_list_both_packaged_models(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.get("/v1/models").json()
    by_name = {m["name"]: m for m in body["models"]}
    assert by_name[E5]["vocab_size"] == 250_002 and by_name[E5]["dim"] == 384
    assert by_name[E5]["source_rows"] == 250_037
    assert by_name[USE]["vocab_size"] == 128_000 and by_name[USE]["dim"] == 512


def test_model_detail_has_script_counts_for_both_schemes(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.get(f"/v1/models/{E5}").json()
    schemes = body["label_schemes"]
    assert schemes["paper"]["unicode_version"] == "14.0.0"
    assert schemes["unicode"]["unicode_version"] == "18.0.0"
    assert schemes["paper"]["counts"]["LATIN"] > 50_000
    assert schemes["unicode"]["counts"]["Cyrillic"] > 10_000
    assert sum(schemes["unicode"]["counts"].values()) == 250_002
    assert body["index"]["metric"] == "cos" and body["exact_neighbors"] == 100
    table = body["neighbor_table"]  # the packaged models' tables are exact (issue 17: auto)
    assert (table["k"], table["method"], table["recall"], table["candidates"]) == (100, "exact", 1.0, 0)


def test_well_known_token_ids_match_the_real_tokenizer(client: TestClient) -> None:  # type: ignore[type-arg]
    the = client.get(f"/v1/models/{E5}/tokens", params={"q": "▁the", "match": "exact"}).json()
    assert [t["id"] for t in the["items"]] == [70]
    comma = client.get(f"/v1/models/{E5}/tokens", params={"q": ",", "match": "exact"}).json()
    assert [t["id"] for t in comma["items"]] == [4]
    token = client.get(f"/v1/models/{E5}/tokens/70").json()
    assert token == {
        "id": 70,
        "token": "▁the",
        "display": "▁the",
        "kind": "word-initial",
        "labels": {"paper": "LATIN", "unicode": "Latin", "language": "en"},
        "language": {
            "label": "en",
            "guess": "en",
            "share": 0.99,
            "runner_up": "pt",
            "runner_up_share": 0.003,
            "entropy_bits": 0.119,
        },
    }


def test_word_lookup_tries_the_word_initial_form(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.get(f"/v1/models/{E5}/tokens", params={"q": "Deutschland", "match": "exact"}).json()
    assert body["match"] == "word-initial" and body["items"][0]["token"] == "▁Deutschland"


def test_prefix_search_pages_and_filters(client: TestClient) -> None:  # type: ignore[type-arg]
    first = client.get(f"/v1/models/{E5}/tokens", params={"q": "wat", "limit": 5}).json()
    assert len(first["items"]) == 5 and first["next_cursor"] == "5"
    second = client.get(f"/v1/models/{E5}/tokens", params={"q": "wat", "limit": 5, "cursor": "5"}).json()
    assert {t["id"] for t in first["items"]}.isdisjoint({t["id"] for t in second["items"]})
    assert all(t["display"].lstrip("▁").startswith("wat") for t in first["items"] + second["items"])
    cyr = client.get(f"/v1/models/{E5}/tokens", params={"q": "▁вод", "script": "Cyrillic"}).json()
    assert cyr["items"] and all(t["labels"]["unicode"] == "Cyrillic" for t in cyr["items"])


def test_token_id_out_of_range_is_400(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get(f"/v1/models/{USE}/tokens/999999")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "token_id"
