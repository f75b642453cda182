"""Text queries: segmented by the model's own tokenizer, one piece = that token's query, several pooled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from litestar.testing import TestClient

from geometry.neighbors import exact_search, normalize
from loaders.build import BuildOptions, build
from service.app import create_app
from service.registry import Registry
from service.settings import Settings
from tests import checkpoints
from tests.conftest import E5, LLAMA, USE


def get(client: TestClient, path: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_one_piece_text_is_exactly_that_tokens_query(client: TestClient) -> None:  # type: ignore[type-arg]
    for model, word, piece in (
        (E5, "water", "▁water"),
        (USE, "Wasser", "▁Wasser"),
        (LLAMA, "hospital", "▁hospital"),
    ):
        for endpoint, extra in (("neighbors", {}), ("translations", {"target_languages": "de,fr"})):
            path = f"/v1/models/{model}/{endpoint}"
            by_text = get(client, path, text=word, k=10, **extra)
            by_token = get(client, path, token=piece, k=10, **extra)
            rows = "neighbors" if endpoint == "neighbors" else "candidates"
            assert by_text[rows] == by_token[rows], (model, endpoint)
            query = by_text["query"]
            assert query["kind"] == "text" and query["token"] == piece and query["matched"] == word
            assert [p["token"] for p in query["pieces"]] == [piece]


def test_several_pieces_are_pooled_by_their_mean(client: TestClient, registry: Registry) -> None:  # type: ignore[type-arg]
    body = get(client, f"/v1/models/{E5}/neighbors", text="больница", k=5)
    query = body["query"]
    assert [(p["token"], p["pooled"]) for p in query["pieces"]] == [("▁боль", True), ("ница", True)]
    assert query["pooling"] == "mean" and query["id"] is None and query["labels"]["unicode"] == "Cyrillic"
    model = registry.get(E5)
    ids = np.array([p["id"] for p in query["pieces"]])
    vector = normalize(np.asarray(model.space.matrix[ids], dtype=np.float32).mean(axis=0))
    expected = exact_search(model.space, vector, 5, None)
    assert [n["id"] for n in body["neighbors"]] == expected.ids.tolist()
    assert body["method"] == "exact"


def test_first_and_last_pooling_search_from_one_piece(client: TestClient) -> None:  # type: ignore[type-arg]
    for pooling, piece in (("first", "▁боль"), ("last", "ница")):
        body = get(client, f"/v1/models/{E5}/neighbors", text="больница", k=3, pooling=pooling)
        top = body["neighbors"][0]
        assert top["token"] == piece and abs(top["similarity"] - 1.0) < 1e-4  # rows are stored float16
        assert body["query"]["pooling"] == pooling


def test_a_pooled_text_translates_out_of_its_own_script(client: TestClient) -> None:  # type: ignore[type-arg]
    body = get(client, f"/v1/models/{E5}/translations", text="больница", k=5)
    assert "Cyrillic" not in body["target_scripts"] and "Latin" in body["target_scripts"]
    assert all(c["labels"]["unicode"] != "Cyrillic" for c in body["candidates"])


def test_byte_pieces_pool_and_batches_mix_query_kinds(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post(
        f"/v1/models/{LLAMA}/neighbors",
        json={"queries": [{"text": "🙂"}, {"token": "▁water"}, {"text": "water"}], "k": 4},
    )
    assert response.status_code == 200, response.text
    first, token, text = response.json()["results"]
    assert [p["token"] for p in first["query"]["pieces"]] == ["▁", "<0xF0>", "<0x9F>", "<0x99>", "<0x82>"]
    assert [p["pooled"] for p in first["query"]["pieces"]] == [False, True, True, True, True]
    assert token["neighbors"] == text["neighbors"]


def test_text_errors_are_400_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    for params, field in (
        ({"text": ""}, "text"),
        ({"text": " "}, "text"),  # only a bare word mark: nothing to pool
        ({"text": "water", "token": "▁water"}, "token"),
        ({"text": "water", "pooling": "max"}, "pooling"),
    ):
        response = client.get(f"/v1/models/{E5}/neighbors", params=params)
        assert response.status_code == 400, (params, response.text)
        assert field in response.text, (params, response.text)
    response = client.post(f"/v1/models/{E5}/neighbors", json={"queries": [{"text": "\U0001d11e"}]})
    assert response.status_code == 400 and "queries[0].text" in response.text


def test_a_model_without_a_tokenizer_refuses_text_clearly(tmp_path: Path) -> None:
    checkpoints.gguf_file(tmp_path / "m.gguf", "F32")
    build(f"gguf:{tmp_path / 'm.gguf'}", tmp_path / "art", BuildOptions(knn=5))
    with TestClient(create_app(Settings(artifacts=(tmp_path / "art",)))) as client:
        response = client.get("/v1/models/tiny-llama/neighbors", params={"text": "water"})
        assert response.status_code == 400
        assert "carries no tokenizer" in response.json()["detail"] and response.json()["field"] == "text"
        response = client.get(
            "/v1/models/tiny-llama/translations",
            params={"token": "▁water", "pool": "words", "target_languages": "en"},
        )
        assert response.status_code == 400 and "no lexicon" in response.json()["detail"]
        assert get(client, "/v1/models/tiny-llama/neighbors", token="▁water", k=3)["neighbors"]


def test_dictionary_sources_the_tokenizer_splits_are_composed(client: TestClient, registry: Registry) -> None:  # type: ignore[type-arg]
    """'больница' is two e5 pieces: a composed query, ranked like text= would be; counts reported."""
    text = "больница hospital en\nвода water en\nхлеб bread en\nбольница clinic en\n"
    body = client.post(
        f"/v1/models/{E5}/translations/evaluate", json={"dictionary": text, "target_scripts": ["Latin"]}
    ).json()
    assert (body["single_token_queries"], body["composed_queries"], body["queries"]) == (2, 1, 3)
    assert body["covered_pairs"] == 4 and body["skipped"] == [] and body["reachable"] == 1.0
    alone = client.post(
        f"/v1/models/{E5}/translations/evaluate",
        json={"dictionary": "больница hospital\n", "target_scripts": ["Latin"], "include_misses": True},
    ).json()
    by_text = get(
        client,
        f"/v1/models/{E5}/translations",
        text="больница",
        target_scripts="Latin",
        k=10,
        method="cosine",
    )
    # the composed query ranks exactly as text= does (it misses: "боль" is pain, "больница" hospital)
    assert alone["precision"]["cosine"]["p@10"] == 0.0
    assert alone["misses"][0]["cosine_top"] == [c["token"] for c in by_text["candidates"]]


def test_translations_into_the_lexicon_find_words_the_vocabulary_splits(client: TestClient) -> None:  # type: ignore[type-arg]
    body = get(
        client, f"/v1/models/{USE}/translations", token="▁hospital", target_languages="ru", k=3, pool="words"
    )
    assert [(c["token"], c["kind"], c.get("forms")) for c in body["candidates"]] == [
        ("больнице", "word", None),
        ("врач", "word", ["врача", "врачей"]),  # doctor's inflected forms under its dictionary form
        ("больницы", "word of 2 pieces", None),
    ]
    assert body["target_languages"] == ["ru"] and all(
        c["labels"] == {"language": "ru"} for c in body["candidates"]
    )
    grouped = get(
        client,
        f"/v1/models/{USE}/translations",
        text="hospital",
        target_languages="de,ru",
        k=2,
        group_size=2,
        group_by="language",
        pool="words",
    )
    assert [(g["group"], [c["token"] for c in g["results"]]) for g in grouped["groups"]] == [
        ("de", ["Krankenhaus", "kranke"]),  # the German noun as it is written
        ("ru", ["больнице", "врач"]),
    ]


def test_dictionary_targets_in_the_lexicon_are_reachable(client: TestClient) -> None:  # type: ignore[type-arg]
    text = "water вода ru\nwindow окно ru\nhospital больница ru\n"
    tokens = client.post(f"/v1/models/{USE}/translations/evaluate", json={"dictionary": text}).json()
    words = client.post(
        f"/v1/models/{USE}/translations/evaluate", json={"dictionary": text, "pool": "words"}
    ).json()
    assert (tokens["covered_pairs"], words["covered_pairs"]) == (1, 2)  # окно is two pieces
    assert [p["reason"] for p in words["skipped"]] == ["target is not in the lexicon"]  # not in the top 5,000
    assert words["target_scripts"] == ["ru"] and words["precision"]["csls"]["p@5"] == 1.0


def test_lexicon_errors(client: TestClient) -> None:  # type: ignore[type-arg]
    path = f"/v1/models/{USE}/translations"
    for params, field in (
        ({"token": "▁water", "pool": "words", "target_scripts": "Cyrillic"}, "target_scripts"),
        ({"token": "▁water", "pool": "words", "target_languages": "sw"}, "target_languages"),
        ({"token": "▁water", "pool": "words", "mmr": 0.5}, "mmr"),
        ({"token": "▁water", "pool": "sentences"}, "pool"),
    ):
        response = client.get(path, params=params)
        assert response.status_code == 400 and response.json()["field"] == field, (params, response.text)
