"""The lexicon as a lookup backend (issue 29): words in every lexicon language on the three packaged
models, matched however they are written, given candidates, and what a lookup costs per language."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.conftest import E5, LLAMA, USE

Client = TestClient[Any]


def words(client: Client, model: str, text: str, language: str, k: int = 5) -> list[str]:
    response = client.get(
        f"/v1/models/{model}/translations",
        params={"text": text, "target_languages": language, "pool": "words", "k": k},
    )
    assert response.status_code == 200, response.text
    return [c["token"] for c in response.json()["candidates"]]


def evaluated(client: Client, dictionary: str, **options: Any) -> dict[str, Any]:
    """A dictionary's evaluation among the lexicon words of e5's input space."""
    request = {"dictionary": dictionary, "pool": "words", "space": "input", **options}
    response = client.post(f"/v1/models/{E5}/translations/evaluate", json=request)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_water_is_found_in_scripts_the_word_pool_never_had(client: Client) -> None:
    # every one of these languages had no word pool before: the lexicon covers them on all three models
    # (each language's own words only, inflected forms under their dictionary form: su, not suyu)
    assert words(client, E5, "water", "el") == ["νερό", "θάλασσα", "θάλασσασ", "ακρόπολη", "λάδι"]
    assert words(client, E5, "water", "hi") == ["पानी", "जल", "पानीपत", "जलती", "जला"]
    assert words(client, USE, "water", "ar") == ["ماء", "المائية", "انتهى", "السودان", "دم"]
    assert words(client, USE, "water", "ko") == ["물", "물고기", "물질", "물체", "물건"]
    assert words(client, USE, "water", "tr") == ["su", "damla", "sıvı", "et", "baraj"]
    assert words(client, LLAMA, "water", "ja") == ["水", "水曜", "水着", "海水", "洪水"]
    # Thai has no word list: e5's Thai words are its own word-initial Thai pieces; น้ำ is held in the
    # NFKC form (SARA AM decomposed) and found as people type it
    assert words(client, E5, "water", "th")[0] == "น้ํา"


def test_targets_match_whatever_their_case_and_form(client: Client) -> None:
    dictionary = "water Wasser de\nwater WASSER de\nistanbul İstanbul tr\nwater νερό el\nwater น้ำ th\n"
    body = client.post(
        f"/v1/models/{E5}/translations/evaluate", json={"dictionary": dictionary, "pool": "words"}
    ).json()
    assert body["skipped"] == [] and body["covered_pairs"] == 5 and body["reachable"] == 1.0
    assert sorted(body["by_language"]) == ["de", "el", "th", "tr"]
    assert body["by_language"]["de"]["precision"]["csls"]["p@1"] == 1.0


def test_precision_is_reported_per_part_of_speech(client: Client) -> None:
    nouns = "water Wasser de noun\nfire Feuer de noun\ndog Hund de noun\n"
    verbs = "eat essen de verb\nrun laufen de verb\nsleep Qxzvwort de verb\n"  # a target no lexicon holds

    body = evaluated(client, nouns + verbs)
    parts = body["by_part_of_speech"]
    assert sorted(parts) == ["noun", "verb"]
    assert [parts["noun"][f] for f in ("pairs", "covered", "sources", "queries")] == [3, 3, 3, 3]
    assert [parts["verb"][f] for f in ("pairs", "covered", "sources", "queries")] == [3, 2, 3, 2]
    # each part's P@k is that of its pairs evaluated alone, and over all its sources the unranked miss
    assert parts["noun"]["precision"] == evaluated(client, nouns)["precision"]
    assert parts["verb"]["precision"] == evaluated(client, verbs)["precision"]
    assert parts["verb"]["precision_all"] == evaluated(client, verbs)["precision_all"]
    assert parts["noun"]["precision"]["csls"] == {"p@1": 1.0, "p@5": 1.0, "p@10": 1.0}
    assert parts["verb"]["precision"]["csls"] == {"p@1": 0.5, "p@5": 1.0, "p@10": 1.0}
    assert parts["verb"]["precision_all"]["csls"] == {"p@1": 0.3333, "p@5": 0.6667, "p@10": 0.6667}
    # JSON pairs name it too; a part of speech is one word
    pairs = [
        ["water", "Wasser", "de", "noun"],
        {"source": "eat", "target": "essen", "part_of_speech": "verb"},
    ]
    answer = client.post(f"/v1/models/{E5}/translations/evaluate", json={"pairs": pairs, "pool": "words"})
    assert sorted(answer.json()["by_part_of_speech"]) == ["noun", "verb"]
    refused = client.post(
        f"/v1/models/{E5}/translations/evaluate",
        json={"dictionary": "water Wasser de no-un\n", "pool": "words"},
    )
    assert refused.status_code == 400 and "not a part of speech" in refused.json()["detail"]


def test_pieces_and_misses_count_an_inflected_target_as_its_dictionary_form(client: Client) -> None:
    # собаки and дома rank as собака and дом (their groups): every breakdown counts them so
    body = evaluated(client, "dog собаки ru\nhouse дома ru\n", include_misses=True)
    assert body["precision"]["csls"]["p@1"] == 1.0 and body["misses"] == []
    assert {name: part["csls"]["p@1"] for name, part in body["by_pieces"].items()} == {"1": 1.0, "2": 1.0}


def test_croatian_and_serbian_lookups_use_the_serbo_croatian_list(client: Client) -> None:
    # refused before ("the lexicon holds ..., not hr"): wordfreq has one list for the three languages
    response = client.get(
        f"/v1/models/{E5}/translations",
        params={"text": "water", "target_languages": "hr", "pool": "words", "space": "input", "k": 5},
    )
    assert response.status_code == 200, response.text
    assert [c["token"] for c in response.json()["candidates"]] == ["vode", "vodu", "vodom", "voda", "vodeći"]
    body = evaluated(client, "water voda hr\nwater вода sr\nhouse kuća bs\n")
    assert body["skipped"] == [] and sorted(body["by_language"]) == ["bs", "hr", "sr"]


def test_a_phrase_is_ranked_by_its_content_words_in_the_input_space(client: Client) -> None:
    def input_words(text: str, **more: str) -> list[str]:
        params = {"text": text, "target_languages": "ru", "pool": "words", "space": "input", "k": 3, **more}
        response = client.get(f"/v1/models/{E5}/translations", params=params)
        assert response.status_code == 200, response.text
        return [c["token"] for c in response.json()["candidates"]]

    # its pieces' mean ranked infinitives first (танцевать, произойти, посмотреть): the pull of "to"
    assert input_words("to eat") == ["обед", "есть", "овощи"]
    assert input_words("to eat", source_language="en") == ["обед", "есть", "овощи"]
    # a word the lexicon lacks: the text's pieces, as before
    assert len(input_words("to qxzvw")) == 3


def test_a_language_without_a_lexicon_is_skipped_with_its_reason(client: Client) -> None:
    # Llama 2's vocabulary has too few Thai pieces for a Thai lexicon and wordfreq has no Thai list
    body = client.post(
        f"/v1/models/{LLAMA}/translations/evaluate",
        json={"dictionary": "water น้ำ th\nwater Wasser de\n", "pool": "words"},
    )
    assert body.status_code == 200, body.text
    answer = body.json()
    assert list(answer["by_language"]) == ["de"] and list(answer["skipped_languages"]) == ["th"]


def test_given_candidates_are_ranked_on_translations_batches_and_evaluate(client: Client) -> None:
    given = ["Wasser", "feu", "вода", "огонь"]
    one = client.get(
        f"/v1/models/{USE}/translations", params={"text": "water", "candidates": ",".join(given)}
    )
    assert [(c["token"], c["id"]) for c in one.json()["candidates"]][:2] == [("Wasser", 0), ("вода", 2)]
    batch = client.post(
        f"/v1/models/{USE}/translations",
        json={"queries": [{"text": "water"}, {"text": "fire"}], "candidates": given, "k": 2},
    ).json()
    ranked = [[c["token"] for c in answer["candidates"]] for answer in batch["results"]]
    assert ranked == [["Wasser", "вода"], ["огонь", "feu"]]
    evaluated = client.post(
        f"/v1/models/{USE}/translations/evaluate",
        json={"dictionary": "water Wasser de\nfire feu fr\n", "candidates": given},
    ).json()
    assert evaluated["candidates"] == 4 and evaluated["covered_pairs"] == 2


def test_lexicon_costs_per_language(client: Client) -> None:
    body = client.get(f"/v1/models/{LLAMA}/lexicon").json()
    assert (body["words"], body["per_language"], body["reference"]) == (502953, 12400, "en")
    assert "th" not in body["languages"] and len(body["languages"]) == 42
    english, hindi = body["languages"]["en"], body["languages"]["hi"]
    assert english["parity"] == 1.0 and hindi["parity"] > 2 * english["parity"]
    use = client.get(f"/v1/models/{USE}/lexicon").json()["languages"]
    assert use["th"]["origin"] == "vocabulary" and use["en"]["origin"].startswith("wordfreq")
