"""Language labels, language filters, language separability and relations on the real packaged models."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from tests.api.test_analyses import result_of
from tests.conftest import E5, USE

Client = TestClient  # type: ignore[type-arg]
HAND_CHECKED = {"▁Wasser": "de", "▁agua": "es", "▁вода": "ru", "▁мова": "uk", "▁mais": "ambiguous"}


def token(client: Client, model: str, text: str) -> dict[str, Any]:
    body = client.get(f"/v1/models/{model}/tokens", params={"q": text, "match": "exact"}).json()
    assert body["items"], text
    return body["items"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("model", [E5, USE])
def test_hand_checked_labels_with_confidence(client: Client, model: str) -> None:
    for text, expected in HAND_CHECKED.items():
        if text == "▁мова" and model == USE:
            continue  # not a single token of the USE vocabulary
        item = token(client, model, text)
        assert item["labels"]["language"] == expected and item["language"]["label"] == expected, text
    wasser = token(client, model, "▁Wasser")["language"]
    assert wasser["guess"] == "de" and wasser["share"] > 0.95
    mais = token(client, model, "▁mais")["language"]
    assert {mais["guess"], mais["runner_up"]} == {"pt", "fr"} and mais["share"] < 0.6
    piece = client.get(f"/v1/models/{model}/tokens", params={"q": "ung", "match": "exact"}).json()["items"]
    assert piece[0]["labels"]["language"] == "unlabelled" and piece[0]["language"]["guess"] is None


def test_model_describes_its_language_labelling(client: Client) -> None:
    body = client.get(f"/v1/models/{E5}").json()
    languages = body["languages"]
    assert {"fr", "de", "ru", "uk", "es"} <= set(languages["supported"])
    assert languages["names"]["de"] == "German" and languages["min_share"] == 0.6
    assert languages["wordfreq_version"] and "population" in languages["prior"]
    counts = body["label_schemes"]["language"]["counts"]
    assert sum(counts.values()) == body["vocab_size"] and counts["ru"] > 1000


@pytest.mark.parametrize("model", [E5, USE])
def test_neighbors_in_one_language(client: Client, model: str) -> None:
    params = {"token": "▁water", "k": 20, "languages": "fr"}
    body = client.get(f"/v1/models/{model}/neighbors", params=params).json()
    assert body["languages"] == ["fr"] and len(body["neighbors"]) == 20
    assert all(n["labels"]["language"] == "fr" and n["language"]["label"] == "fr" for n in body["neighbors"])
    both = client.post(
        f"/v1/models/{model}/neighbors", json={"queries": [{"token": "▁Wasser"}], "languages": ["es", "pt"]}
    ).json()["results"][0]
    assert {n["labels"]["language"] for n in both["neighbors"]} <= {"es", "pt"}


def test_translation_candidates_in_a_language(client: Client) -> None:
    body = client.get(
        f"/v1/models/{USE}/translations", params={"token": "▁water", "target_languages": "es", "k": 5}
    ).json()
    assert body["target_languages"] == ["es"]
    assert all(c["labels"]["language"] == "es" for c in body["candidates"])
    assert "▁agua" in [c["token"] for c in body["candidates"]]
    batch = client.post(
        f"/v1/models/{E5}/translations",
        json={"queries": [{"token": "▁water"}], "target_languages": ["ru"], "method": "cosine"},
    ).json()["results"][0]
    assert all(c["labels"]["language"] == "ru" for c in batch["candidates"])


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"languages": "xx"}, "languages", "not an ISO 639"),
        ({"languages": "fr,sw"}, "languages", "no labelled tokens"),
        ({"languages": ","}, None, None),
    ],
)
def test_bad_language_codes_are_400_listing_the_supported_ones(
    client: Client, params: dict[str, str], field: str | None, words: str | None
) -> None:
    response = client.get(f"/v1/models/{E5}/neighbors", params={"token": "▁water", **params})
    if field is None:  # an empty list is no filter
        assert response.status_code == 200
        return
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/problem")
    problem = response.json()
    assert problem["field"] == field and words in problem["detail"] and "fr" in problem["known"]
    translations = client.get(
        f"/v1/models/{E5}/translations", params={"token": "▁water", "target_languages": "xx"}
    )
    assert translations.status_code == 400 and translations.json()["field"] == "target_languages"


def test_language_separability_within_latin(client: Client) -> None:
    params = {"scheme": "language", "within": "Latin", "categories": "fr,es,it,pt,de,nl", "folds": 5}
    body = result_of(client, client.get(f"/v1/models/{E5}/separability", params=params))
    assert body["within"] == "Latin" and [s["category"] for s in body["scores"]]
    assert {s["category"] for s in body["scores"]} == {"fr", "es", "it", "pt", "de", "nl"}
    assert 0.5 < body["mean"] <= 1.0
    pairwise = result_of(
        client, client.get(f"/v1/models/{USE}/separability", params={**params, "mode": "pairwise"})
    )
    assert len(pairwise["scores"]) == 15 and "es|pt" in {s["category"] for s in pairwise["scores"]}
    wrong = client.get(f"/v1/models/{E5}/separability", params={"within": "Latin"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "within"


@pytest.mark.parametrize("model", [E5, USE])
def test_language_relations_matrix_and_clustering(client: Client, model: str) -> None:
    params = {"k": 10, "sample": 300, "seed": 1}
    body = result_of(client, client.get(f"/v1/models/{model}/languages/relations", params=params))
    n = len(body["languages"])
    assert n >= 10 and len(body["share"]) == n and all(len(row) == n for row in body["lift"])
    assert all(body["affinity"][i][j] == body["affinity"][j][i] for i in range(n) for j in range(n))
    assert sorted(body["order"]) == sorted(body["languages"]) and len(body["merges"]) == n - 1
    assert all(q <= 300 for q in body["queries"])
    # every language's tokens neighbor their own language more than chance
    assert all(body["lift"][i][i] > 1 for i in range(n))
    again = result_of(client, client.get(f"/v1/models/{model}/languages/relations", params=params))
    assert again["cached"] and again["lift"] == body["lift"]
    bad = client.get(f"/v1/models/{model}/languages/relations", params={"languages": "fr,xx"})
    assert bad.status_code == 400 and bad.json()["field"] == "languages"


@pytest.mark.parametrize(
    ("model", "close", "far"),
    [
        (E5, [("da", "nb"), ("cs", "sk"), ("es", "pt"), ("ru", "uk")], ["es", "ru"]),
        (USE, [("es", "pt")], ["es", "ru"]),  # USE has too few uk, cs, sk, da, nb tokens to cluster
    ],
)
def test_related_languages_merge_before_distant_ones(
    client: Client, model: str, close: list[tuple[str, str]], far: list[str]
) -> None:
    """Reported, not forced: related pairs join earlier (at a smaller distance) than Spanish and Russian."""
    body = result_of(client, client.get(f"/v1/models/{model}/languages/relations", params={"sample": 1000}))

    def joined(a: str, b: str) -> float:
        return next(m["distance"] for m in body["merges"] if {a, b} <= set(m["left"] + m["right"]))

    for a, b in close:
        assert joined(a, b) < joined(*far), (a, b)


def test_dictionary_precision_per_target_language(client: Client) -> None:
    dictionary = "water agua es\nwater eau fr\nhouse casa es\nwater вода ru\ndog собака ru\n"
    body = client.post(f"/v1/models/{USE}/translations/evaluate", json={"dictionary": dictionary}).json()
    by_language = body["by_language"]
    assert set(by_language) <= {"es", "fr", "ru"} and "ru" in by_language
    assert all(set(v["precision"]) == {"cosine", "csls"} for v in by_language.values())
    pairs = client.post(
        f"/v1/models/{USE}/translations/evaluate",
        json={"pairs": [["water", "agua", "spa"], ["water", "вода"], {"source": "house", "target": "casa"}]},
    ).json()
    assert list(pairs["by_language"]) == ["es"] and pairs["by_language"]["es"]["queries"] == 1
    objects = client.post(
        f"/v1/models/{USE}/translations/evaluate",
        json={"pairs": [{"source": "water", "target": "eau", "language": "fr"}, ["water", "agua", "es"]]},
    ).json()
    assert sorted(objects["by_language"]) == ["es", "fr"] and objects["queries"] == 1
    pooled = client.post(
        f"/v1/models/{USE}/translations/evaluate",
        json={"dictionary": dictionary, "language_pool": "language", "include_misses": True},
    ).json()["by_language"]
    assert pooled["es"]["pool"] == "language" and pooled["es"]["candidates"] < by_language["es"]["candidates"]
    # '▁casa' is ambiguous (pt/es/it), so not a Spanish candidate: half the queries can be answered
    assert pooled["es"]["reachable"] == 0.5 and pooled["es"]["precision"]["csls"]["p@1"] == 0.5
    unsupported = client.post(
        f"/v1/models/{USE}/translations/evaluate",
        json={"dictionary": "water agua sw", "language_pool": "language"},
    )
    # a language the model has no lexicon or labels for is skipped with its reason, not a 400 for the file
    assert unsupported.status_code == 200
    assert "no labelled tokens" in unsupported.json()["skipped_languages"]["sw"]
    bad = client.post(f"/v1/models/{USE}/translations/evaluate", json={"dictionary": "water agua xx-zz-1"})
    assert bad.status_code == 400 and "ISO 639" in bad.json()["detail"]


def test_relations_are_deterministic_per_seed(registry: Any) -> None:
    from service.analyses import relations
    from service.request_types import RelationsRequest

    model = registry.get(USE)

    def run(seed: int) -> bytes:
        return relations.relations_job(model, RelationsRequest(k=10, sample=100, seed=seed))[0](
            lambda _: None
        )

    first, again, other = run(3), run(3), run(4)
    strip = msgspec.json.Decoder(dict[str, Any])

    def body(raw: bytes) -> dict[str, Any]:
        decoded = strip.decode(raw)
        decoded.pop("took_seconds")
        return decoded

    assert body(first) == body(again) and body(first)["lift"] != body(other)["lift"]


def test_token_search_by_language(client: Client) -> None:
    body = client.get(f"/v1/models/{E5}/tokens", params={"q": "▁wa", "language": "de", "limit": 20}).json()
    assert body["items"] and all(t["labels"]["language"] == "de" for t in body["items"])
    both = client.get(f"/v1/models/{E5}/tokens", params={"q": "▁во", "language": "uk", "script": "Cyrillic"})
    assert all(t["labels"]["language"] == "uk" for t in both.json()["items"])
    bad = client.get(f"/v1/models/{E5}/tokens", params={"q": "▁wa", "language": "zz"})
    assert bad.status_code == 400 and bad.json()["field"] == "language"


@pytest.mark.parametrize(
    "params",
    [
        {"min_tokens": "1000000"},  # nothing eligible: a 400 at once, not a job that cannot finish
        {"scheme": "language", "min_tokens": "1000000"},
        {"scheme": "language", "categories": "ko", "within": "Hangul"},  # no other language to compare
        {"scheme": "language", "categories": "ru", "within": "Cyrillic", "mode": "pairwise"},
    ],
)
def test_separability_that_cannot_be_fitted_is_a_400(client: Client, params: dict[str, str]) -> None:
    response = client.get(f"/v1/models/{USE}/separability", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "min_tokens" and "largest" in response.json()["detail"]


def test_neighbor_language_diversity(client: Client) -> None:
    params = {"scheme": "language", "count": "scripts-only", "seed": 2}
    body = result_of(client, client.get(f"/v1/models/{USE}/diversity", params=params))
    labelled = client.get(f"/v1/models/{USE}").json()["label_schemes"]["language"]["counts"]
    languages = sum(n for name, n in labelled.items() if name not in ("ambiguous", "unlabelled"))
    assert body["queries"] == round(0.01 * languages)  # queries: language-labelled tokens only
    assert body["mean"] == 10.3875  # seed 2: the same 560 queries, distinct languages among 50 neighbors
    assert set(body["mix"]) <= set(labelled) - {"ambiguous", "unlabelled"}
    everything = result_of(
        client, client.get(f"/v1/models/{USE}/diversity", params={**params, "count": "all"})
    )
    assert everything["mean"] == 12.160714  # 'ambiguous' and 'unlabelled' neighbors count too
