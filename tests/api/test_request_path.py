"""The request path: one request Struct per endpoint, canonical cache keys, HTTP validators, HEAD, gzip."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.conftest import E5, USE

Client = TestClient  # type: ignore[type-arg]
NEIGHBORS = f"/v1/models/{USE}/neighbors"
TRANSLATIONS = f"/v1/models/{USE}/translations"


def test_get_and_post_of_the_same_query_give_identical_bodies(client: Client) -> None:
    params = {"token": "▁house", "k": 7, "scripts": "Cyrillic,Greek", "include_self": "true"}
    got = client.get(NEIGHBORS, params=params)
    body = {"token": "▁house", "k": 7, "scripts": ["Greek", "Cyrillic"], "include_self": True}
    posted = client.post(NEIGHBORS, json=body)
    assert got.status_code == posted.status_code == 200, posted.text
    assert got.content == posted.content
    assert got.headers["etag"] == posted.headers["etag"]
    translated = client.get(TRANSLATIONS, params={"token": "▁house", "k": 3, "method": "cosine"})
    posted = client.post(TRANSLATIONS, json={"token": "▁house", "k": 3, "method": "cosine"})
    assert translated.content == posted.content


def test_reordered_repeated_and_defaulted_parameters_share_one_cache_entry(client: Client) -> None:
    url = f"{NEIGHBORS}?token=%E2%96%81house&k=9&scripts=Latin,Cyrillic"
    first = client.get(url)
    assert first.headers["x-cache"] == "miss"
    for variant in (
        f"{NEIGHBORS}?scripts=Cyrillic&k=9&scripts=Latin&token=%E2%96%81house",
        f"{NEIGHBORS}?scripts=Cyrillic,Latin,Cyrillic&token=%E2%96%81house&k=9&scheme=unicode&exact=false",
    ):
        again = client.get(variant)
        assert again.headers["x-cache"] == "hit", variant
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]


def test_etag_and_if_none_match_give_304_without_a_body(client: Client) -> None:
    params = {"id": 1304, "k": 5}
    first = client.get(NEIGHBORS, params=params)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"].startswith("public, max-age=")
    again = client.get(NEIGHBORS, params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get(NEIGHBORS, params={"id": 1304, "k": 6}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


def test_gzip_is_negotiated_and_round_trips(client: Client) -> None:
    params = {"token": "▁water", "k": 50}
    plain = client.get(f"/v1/models/{E5}/neighbors", params=params, headers={"Accept-Encoding": "identity"})
    zipped = client.get(f"/v1/models/{E5}/neighbors", params=params, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decompressed it
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/models/{USE}/neighbors?token=%E2%96%81house&k=5",
        f"/v1/models/{USE}/tokens?q=hous",
        f"/v1/models/{USE}",
        "/v1/models",
        "/health",
    ],
)
def test_head_has_the_get_headers_and_no_body(client: Client, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    for name in ("content-type", "etag", "cache-control"):
        assert head.headers.get(name) == got.headers.get(name)


def test_fields_selects_a_lean_answer(client: Client) -> None:
    full = client.get(NEIGHBORS, params={"token": "▁house", "k": 5}).json()["neighbors"]
    lean = client.get(NEIGHBORS, params={"token": "▁house", "k": 5, "fields": "token,similarity"}).json()
    assert lean["neighbors"] == [
        {"rank": n["rank"], "id": n["id"], "token": n["token"], "similarity": n["similarity"]} for n in full
    ]
    bad = client.get(NEIGHBORS, params={"token": "▁house", "fields": "token,score"})
    assert bad.status_code == 400 and bad.json()["field"].startswith("fields")


def test_a_batch_answers_each_query_as_its_single_request(client: Client) -> None:
    queries = [{"token": "▁water"}, {"id": 1304}, {"token": "▁вода"}]
    batch = client.post(NEIGHBORS, json={"queries": queries, "k": 6}).json()["results"]
    singles = [client.post(NEIGHBORS, json={**q, "k": 6}).json() for q in queries]
    assert batch == singles


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"token": "▁house", "min_similarty": "0.5"}, "min_similarty"),
        ({"token": "▁house", "k": "1e3"}, "k"),
        ({"token": "▁house", "k": "10.0"}, "k"),
        ({"token": "▁house", "k": "5", "id": "3"}, "token"),
        ({"token": "▁house", "vector": "1,2"}, "vector"),
        ({"token": "▁house", "queries": "x"}, "queries"),
        ({"id": "3", "id ": "4"}, "id "),
    ],
)
def test_query_strings_are_strict(client: Client, params: dict[str, str], field: str) -> None:
    response = client.get(NEIGHBORS, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def test_a_scalar_given_twice_and_invalid_utf8_are_400(client: Client) -> None:
    twice = client.get(f"{NEIGHBORS}?k=5&k=6&id=3")
    assert twice.status_code == 400 and twice.json()["field"] == "k"
    broken = client.get(f"{NEIGHBORS}?token=%FF%FE")
    assert broken.status_code == 400 and broken.json()["field"] == "query"


def test_json_bodies_are_strict(client: Client) -> None:
    response = client.post(NEIGHBORS, json={"token": "▁house", "k": "10"})
    assert response.status_code == 400 and response.json()["field"] == "k"


def test_ready_waits_for_the_tables_to_be_paged_in(client: Client) -> None:
    import threading
    import time

    deadline = time.monotonic() + 60
    while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get("/ready").json()["status"] == "ready"
    warm = client.app.state.warm
    client.app.state.warm = threading.Event()  # as right after start-up
    try:
        cold = client.get("/ready")
        assert cold.status_code == 503 and cold.json()["status"] == "warming"
    finally:
        client.app.state.warm = warm


def test_a_translation_batch_answers_each_query_as_its_single_request(client: Client) -> None:
    queries = [{"token": "▁water"}, {"token": "▁вода"}, {"id": 1304}, {"token": "▁house"}]
    for options in ({"method": "csls"}, {"method": "cosine", "target_scripts": ["Cyrillic", "Greek"]}):
        batch = client.post(TRANSLATIONS, json={"queries": queries, "k": 5, **options}).json()["results"]
        singles = [client.post(TRANSLATIONS, json={**q, "k": 5, **options}).json() for q in queries]
        assert batch == singles


def test_a_batch_answers_the_items_it_can_and_says_why_not_for_the_others(client: Client) -> None:
    """An item the model cannot answer (a space only, an unknown token, a vector of the wrong size)
    is null in `results` with its reason in `errors`; the others are their single answers."""
    good = [{"token": "▁water"}, {"id": 1304}]
    bad = [{"text": " "}, {"token": "no-such-token-anywhere"}, {"vector": [1.0, 2.0]}]
    queries = [bad[0], good[0], bad[1], good[1], bad[2]]
    for path, options in ((NEIGHBORS, {}), (TRANSLATIONS, {"method": "csls"})):
        answer = client.post(path, json={"queries": queries, "k": 4, **options})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        singles = [client.post(path, json={**q, "k": 4, **options}).json() for q in good]
        assert body["results"] == [None, singles[0], None, singles[1], None]
        assert [(e["index"], e["field"], e["kind"]) for e in body["errors"]] == [
            (0, "queries[0].text", "NoNeighbors"),
            (2, "queries[2].token", "UnknownToken"),
            (4, "queries[4].vector", "InvalidInput"),
        ]
        assert body["errors"][2]["detail"] == "vector has 2 values, use-multilingual-v3 has dimension 512"
    every_item_bad = client.post(NEIGHBORS, json={"queries": bad, "k": 4})
    assert every_item_bad.status_code == 400 and every_item_bad.json()["field"] == "queries[0].text"
    clean = client.post(NEIGHBORS, json={"queries": good, "k": 4}).json()
    assert clean["errors"] == []


def test_a_batch_with_more_failing_items_than_answers_is_answered_in_one_pass(client: Client) -> None:
    queries = [{"text": " "} if i % 4 else {"token": "▁water"} for i in range(40)]
    body = client.post(NEIGHBORS, json={"queries": queries, "k": 3}).json()
    single = client.post(NEIGHBORS, json={"token": "▁water", "k": 3}).json()
    assert body["results"] == [None if i % 4 else single for i in range(40)]
    assert [e["index"] for e in body["errors"]] == [i for i in range(40) if i % 4]
