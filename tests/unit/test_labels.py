import numpy as np
import pytest

from loaders.artifact import TOKEN_KINDS, encode_labels, paper_label, token_kinds, unicode_label


@pytest.mark.parametrize(
    ("token", "paper", "script"),
    [
        ("▁a", "S", "Latin"),  # '▁' is So and wins the 1-1 tie by being seen first
        ("▁the", "LATIN", "Latin"),
        ("<0x00>", "N", "Latin"),  # '<', '0', 'x', '0', '0', '>' -> N three times
        ("ที่ได้", "THAI", "Thai"),
        ("ั่", "M", "Thai"),  # combining marks only: the paper's M, Thai by Script_Extensions-free sc
        ("▁食べ", "S", "Japanese"),  # Han + Hiragana is one writing system (ISO 15924 Jpan)
        ("食べる", "HIRAGANA", "Japanese"),
        ("ー", "KATAKANA-HIRAGANA", "Japanese"),  # Common, Script_Extensions {Hira, Kana}
        ("、", "P", "Common"),  # Common, extensions over many scripts: no single one
        ("漢字", "CJK", "Han"),
        ("한국어", "HANGUL", "Hangul"),
        ("▁Москва", "CYRILLIC", "Cyrillic"),
        ("▁Moskвa", "LATIN", "Mixed"),
        ("123", "N", "Common"),
        ("▁", "S", "Common"),
    ],
)
def test_hand_checked_labels(token: str, paper: str, script: str) -> None:
    assert paper_label(token) == paper
    assert unicode_label(token) == script


def test_tie_goes_to_the_label_seen_first() -> None:
    assert paper_label("aб") == "LATIN"
    assert paper_label("бa") == "CYRILLIC"


def test_token_kinds() -> None:
    raw = ["<s>", "<0x41>", "▁the", "ing", "Ċ"]
    kinds = token_kinds(raw, raw, [0], "sentencepiece-unigram")
    assert [TOKEN_KINDS[k] for k in kinds] == [
        "special",
        "byte",
        "word-initial",
        "continuation",
        "continuation",
    ]


def test_byte_level_incomplete_utf8_is_a_byte_token() -> None:
    raw = ["Ð", "Ġthe"]  # 'Ð' alone is the first byte of a two-byte Cyrillic letter
    kinds = token_kinds(raw, ["<0xD0>", "▁the"], [], "byte-level-bpe")
    assert [TOKEN_KINDS[k] for k in kinds] == ["byte", "word-initial"]


def test_declared_kinds_override_the_spelling_and_specials_override_both() -> None:
    raw = ["<unk>", "<unused0>", "<0x0A>", "▁the", "ing", "<|user|>"]
    declared = {1: "unused", 2: "byte", 0: "byte"}
    kinds = token_kinds(raw, raw, [0], "byte-fallback-bpe", declared)
    assert [TOKEN_KINDS[k] for k in kinds] == [
        "special",
        "unused",
        "byte",
        "word-initial",
        "continuation",
        "continuation",
    ]


def test_wordpiece_and_whole_word_vocabularies() -> None:
    raw = ["the", "##ing", "[CLS]"]
    assert [TOKEN_KINDS[k] for k in token_kinds(raw, raw, [2], "wordpiece")] == [
        "word-initial",
        "continuation",
        "special",
    ]
    words = ["water", "Wasser"]
    assert [TOKEN_KINDS[k] for k in token_kinds(words, words, [], "whole-words")] == ["word-initial"] * 2


def test_encode_labels_orders_by_count() -> None:
    codes, names = encode_labels(["B", "A", "B", "C", "B", "A"])
    assert names == ["B", "A", "C"]
    assert codes.tolist() == [0, 1, 0, 2, 0, 1]
    assert codes.dtype == np.uint16
