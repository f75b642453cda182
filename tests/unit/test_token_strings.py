"""Compact token strings and lookups by string: the answers a list and a dict would give."""

from __future__ import annotations

import numpy as np
import pytest

from loaders.artifact import PieceLookup, StringIndex, TokenStrings, pack, sort_order, strings_at, tables

RAW = ["▁the", "ing", "", "▁вода", "水", "▁the", "Ġx", "\ud800"]  # a duplicate, an empty, a lone surrogate


def test_token_strings_read_back_every_string() -> None:
    table = TokenStrings.of(RAW)
    assert len(table) == len(RAW) and list(table) == RAW and table[-1] == RAW[-1] and table[1:4] == RAW[1:4]
    assert [table[i] for i in range(len(RAW))] == RAW
    with pytest.raises(IndexError):
        table[len(RAW)]
    assert table.char_lengths().tolist() == [len(t) for t in RAW]


def dict_answer(raw: list[str], display: list[str]) -> dict[str, int]:
    """What the registry held before: display forms first, then raw forms overriding."""
    found: dict[str, int] = {}
    for i, text in enumerate(display):
        found.setdefault(text, i)
    for i, text in enumerate(raw):
        found[text] = i
    return found


def test_string_index_answers_as_the_dict_did() -> None:
    display = ["▁the", "ing", "", "▁вода", "水", "▁the", "▁x", "▁x"]  # byte-level style: Ġx shown as ▁x
    raw, shown, index = tables(*pack(RAW, display))
    assert list(raw) == RAW and list(shown) == display and isinstance(index, StringIndex)
    want = dict_answer(RAW, display)
    for text in [*want, "▁th", "nothing", "▁x"]:
        assert index.get(text) == want.get(text), text
    assert index.get("▁the") == 5  # equal raw forms: the last id
    assert index.get("▁x") == 6  # a display form (first of two equal ones)
    assert index.prefix("▁").tolist() == [5, 6, 3]  # ▁the, ▁x, ▁вода in string order
    assert index.prefix("").tolist() == [want[t] for t in sorted(want)]
    assert index.prefix("zzz").tolist() == []


def test_strings_that_share_their_first_bytes_are_found_by_the_rest() -> None:
    """The index searches the strings' first 8 bytes before the strings: strings equal there, shorter
    than that, or differing only by NUL bytes are still told apart."""
    raw = ["▁internal", "▁international", "▁internationally", "▁inter", "▁int", "ab", "ab\x00", "ab\x00c"]
    raw += ["a", "", "▁interna", "▁internb", "\U0010ffff", "\U0010ffff\U0010ffff", "▁internal"]
    display = [text.replace("▁", " ") for text in raw]
    _, _, index = tables(*pack(raw, display))
    want = dict_answer(raw, display)
    for text in [*want, "▁internat", "▁internationallyy", "ab\x00\x00", "▁", "b", "\U0010ffff" * 3]:
        assert index.get(text) == want.get(text), text
    assert index.get("▁internal") == 14 and index.get(" internal") == 0
    for prefix in ["▁inter", "▁international", "ab", "ab\x00", "\U0010ffff", " int", ""]:
        starting = [want[t] for t in sorted(want) if t.startswith(prefix)]
        assert index.prefix(prefix).tolist() == starting, prefix


def test_piece_lookup_answers_as_the_dict_did() -> None:
    pieces = ["<unk>", "▁a", "b", "", "▁a", "ab", "<unk>", "水の"]
    want = {p: i for i, p in enumerate(pieces) if p and i != 0}
    for table in (pieces, TokenStrings.of(pieces)):  # a list (the build) or a mapped table (the service)
        lookup = PieceLookup(table, skip=0)
        for text in ["<unk>", "▁a", "b", "ab", "", "c", "▁", "水の"]:
            assert lookup.get(text) == want.get(text), text
        assert lookup.longest == 5 and isinstance(lookup.hashes, np.ndarray)


def test_sentencepiece_display_takes_no_bytes() -> None:
    buffer, offsets, order = pack(RAW, RAW)
    assert len(buffer) == len("".join(RAW[:-1]).encode()) + 3 and (offsets[0] == offsets[1]).all()
    raw, display, index = tables(buffer, offsets, order)
    assert display is raw and np.array_equal(order, sort_order(RAW, RAW))


def test_take_gathers_the_strings_of_ids_as_indexing_does() -> None:
    words = ["▁water", "", "é", "\udcff", "▁дом", "x" * 300]
    strings = TokenStrings.of(words)
    ids = [5, 0, 3, 3, 1, 4, 2]
    assert strings.take(ids) == [words[i] for i in ids] == strings_at(strings, ids)
    assert strings_at(words, ids) == [words[i] for i in ids] and strings.take([]) == []
