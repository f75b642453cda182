"""Language labels from word-frequency lists, and the checking of ISO 639 codes (pure, no artifacts)."""

from __future__ import annotations

import numpy as np
import pytest

from loaders.artifact import AMBIGUOUS, TOKEN_KINDS, UNLABELLED
from loaders.build.language_guesses import label_languages, language_scripts, word_form
from service.errors import UnknownLanguage, at
from service.language_labels import LanguageTable, base_language

WORD, PIECE = TOKEN_KINDS.index("word-initial"), TOKEN_KINDS.index("continuation")


def test_hand_checked_words() -> None:
    tokens = ["▁Wasser", "▁agua", "▁вода", "▁mais", "wasser", "▁2019", "▁ก", "▁мова"]
    kinds = np.array([WORD, WORD, WORD, WORD, PIECE, WORD, WORD, WORD], dtype=np.uint8)
    scripts = ["Latin", "Latin", "Cyrillic", "Latin", "Latin", "Common", "Thai", "Cyrillic"]
    result = label_languages(tokens, kinds, scripts)
    assert result.labels == ["de", "es", "ru", AMBIGUOUS, UNLABELLED, UNLABELLED, UNLABELLED, "uk"]
    codes = result.info.languages
    # the ambiguous word keeps its evidence: Portuguese and French almost level
    top, second = result.guess[3]
    assert {codes[top], codes[second]} == {"pt", "fr"} and 0.4 < float(result.scores[3, 0]) < 0.6
    assert float(result.scores[0, 0]) > 0.95 and float(result.scores[0, 2]) < 0.5  # Wasser: sure, low entropy
    assert (result.guess[4] == -1).all() and np.isnan(result.scores[4]).all()  # pieces carry nothing
    # a Thai letter is in the Chinese list, but Chinese is not written in Thai script
    assert result.info.min_share == 0.6 and result.info.wordfreq_version


def test_word_form_and_scripts() -> None:
    assert word_form("▁Straße") == "strasse" and word_form("▁co-op") is None and word_form("▁12") is None
    assert language_scripts("ja") >= {"Han", "Hiragana", "Japanese"} and language_scripts("ru") == {
        "Cyrillic"
    }


def table(supported: list[str]) -> LanguageTable:
    from loaders.artifact import LanguageLabelling

    info = LanguageLabelling(supported, {c: c for c in supported}, "3", "best", "p", 0.6)
    names = [*supported, "ambiguous", "unlabelled"]
    return LanguageTable.from_arrays(info, np.zeros((1, 2), np.int16), np.zeros((1, 3), np.float16), names)


def test_codes_are_normalized_or_refused_with_the_supported_list() -> None:
    languages = table(["en", "fr", "sh"])
    assert languages.check_codes(["FR", "fra", "fr-CA", "sr-Latn", "sh"]) == [
        "fr",
        "fr",
        "fr",
        "sh",
        "sh",
    ]
    with pytest.raises(UnknownLanguage) as unknown:
        languages.check_codes(["xx"])
    assert "not an ISO 639" in unknown.value.detail and unknown.value.extra["known"] == ["en", "fr", "sh"]
    with pytest.raises(UnknownLanguage) as unsupported, at("target_languages"):
        languages.check_codes(["sw"])
    assert "no labelled tokens" in unsupported.value.detail
    assert unsupported.value.field == "target_languages"  # named by the caller, not the model
    assert base_language("") is None and base_language("und") is None and base_language("pt-BR") == "pt"
