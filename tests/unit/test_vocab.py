from loaders.artifact import decode_byte_level, display_forms, looks_byte_level


def test_byte_level_pieces_decode_to_text_with_word_mark() -> None:
    assert decode_byte_level("Ġthe") == ("▁the", True)
    assert decode_byte_level("ĠÐ²Ð¾Ð´Ð°") == ("▁вода", True)
    assert decode_byte_level("Ċ") == ("\n", True)
    assert decode_byte_level("Ð") == ("<0xD0>", False)


def test_sentencepiece_pieces_are_shown_as_they_are() -> None:
    assert display_forms(["▁the", "ing"], byte_level=False) == ["▁the", "ing"]


def test_byte_level_heuristic() -> None:
    assert looks_byte_level(["Ġa", "Ġb", "c"])
    assert not looks_byte_level(["▁a", "Ġb", "c"])
