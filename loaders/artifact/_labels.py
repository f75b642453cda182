"""Per-token labels: the seed paper's writing-system categories, Unicode scripts, and token kinds.

paper   (exactly the seed paper's scheme, with Python's own `unicodedata`, Unicode 14 on 3.11)
        A letter (general category L*) is labelled with the first word of its Unicode name (LATIN,
        CYRILLIC, CJK, HANGUL, KATAKANA-HIRAGANA, ...); any other character with the first letter of
        its general category (N, P, S, M, C, Z). The token gets its most common character label,
        ties going to the label seen first. Known side effects, kept on purpose: '▁' is So, so '▁a'
        is S; Thai tokens with many combining marks come out as M; '<0x00>' is N.
unicode (the Unicode Script property from fontTools' UCD copy, version recorded in the manifest)
        '▁' is stripped; Common (Zyyy) and Inherited (Zinh) characters do not vote. Characters whose
        Script_Extensions name several scripts vote for all of them, and the token takes the script
        every voting character shares. Han mixed with kana is "Japanese" and Han mixed with Hangul
        "Korean" (ISO 15924 Jpan/Kore); other mixes are "Mixed", tokens with no voting character
        "Common", and special, byte and unused tokens "Special".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache

import numpy as np

from loaders.artifact._names import NOT_TEXT_KINDS, TOKEN_KINDS
from loaders.artifact._vocab import BYTE_PIECE, WORD_MARK, decode_byte_level

PAPER_UNICODE_VERSION = unicodedata.unidata_version
COMMON, MIXED, SPECIAL, EMPTY = "Common", "Mixed", "Special", "EMPTY"
_NON_VOTING = {"Zyyy", "Zinh", "Zzzz"}
_JAPANESE = {"Hani", "Hira", "Kana"}
_KOREAN = {"Hang", "Hani"}


@cache
def paper_char_label(ch: str) -> str:
    category = unicodedata.category(ch)
    if category.startswith("L"):
        name = unicodedata.name(ch, "")
        return name.split(" ")[0] if name else category[0]
    return category[0]


def paper_label(text: str) -> str:
    counts: dict[str, int] = {}
    for ch in text:
        label = paper_char_label(ch)
        counts[label] = counts.get(label, 0) + 1
    if not counts:
        return EMPTY
    return max(counts, key=lambda k: counts[k])  # max keeps the first of equal counts: seen first


@lru_cache(maxsize=1)
def fonttools_unicode_version() -> str:
    """The UCD version fontTools' script tables were generated from (named in the module header)."""
    from fontTools.unicodedata import Scripts

    with open(Scripts.__file__, encoding="utf-8") as fh:
        match = re.search(r"Scripts-(\d+\.\d+\.\d+)\.txt", fh.read(2000))
    return match.group(1) if match else "unknown"


@cache
def _char_scripts(ch: str) -> tuple[str | None, frozenset[str]]:
    """(explicit script or None, the set of scripts this character votes for)."""
    from fontTools import unicodedata as ucd

    script = ucd.script(ch)
    extensions = frozenset(ucd.script_extension(ch)) - _NON_VOTING
    explicit = None if script in _NON_VOTING else script
    if explicit:
        extensions = extensions | {explicit}
    return explicit, extensions


@cache
def script_name(code: str) -> str:
    from fontTools import unicodedata as ucd

    return {"Jpan": "Japanese", "Kore": "Korean"}.get(code) or ucd.script_name(code, default=code)


# ISO 15924 codes of writing systems that combine scripts, as the unicode scheme names them.
_SCRIPT_FAMILIES = {
    "Hans": ("Hani",),
    "Hant": ("Hani",),
    "Jpan": ("Jpan", "Hani", "Hira", "Kana"),
    "Kore": ("Kore", "Hang", "Hani"),
}


def language_scripts(lang: str) -> set[str]:
    """Unicode-scheme script names a language is written in (its CLDR likely script)."""
    import langcodes

    code = langcodes.Language.get(lang).maximize().script or "Zyyy"
    return {script_name(c) for c in _SCRIPT_FAMILIES.get(code, (code,))}


def _joint_script(scripts: set[str]) -> str | None:
    """Name for a set of several scripts that one writing system uses together, or None."""
    if scripts <= _JAPANESE and scripts & {"Hira", "Kana"}:
        return script_name("Jpan")
    if scripts <= _KOREAN and "Hang" in scripts:
        return script_name("Kore")
    return None


def unicode_label(text: str) -> str:
    explicit: set[str] = set()
    explicit_shared: set[str] | None = None  # scripts every explicit-script character accepts
    common_shared: set[str] | None = None  # the same over Common characters with extensions
    for ch in text.replace(WORD_MARK, ""):
        own, votes = _char_scripts(ch)
        if own:
            explicit.add(own)
            explicit_shared = set(votes) if explicit_shared is None else explicit_shared & votes
        elif votes:
            common_shared = set(votes) if common_shared is None else common_shared & votes
    if not explicit:  # only Common/Inherited characters: their extensions may still agree
        if common_shared and len(common_shared) == 1:
            return script_name(next(iter(common_shared)))
        return (_joint_script(common_shared) if common_shared else None) or COMMON
    if len(explicit) == 1:
        return script_name(next(iter(explicit)))
    if explicit_shared and len(explicit_shared) == 1:
        return script_name(next(iter(explicit_shared)))
    return _joint_script(explicit) or MIXED


def piece_kind(piece: str, shown: str, vocabulary: str) -> str:
    """The kind a piece's spelling says it is, by the rules of its vocabulary."""
    if vocabulary == "whole-words":
        return "word-initial"
    if vocabulary == "byte-level-bpe":
        if not decode_byte_level(piece)[1]:
            return "byte"  # an incomplete UTF-8 sequence
    elif BYTE_PIECE.match(piece):
        return "byte"  # <0x00>..<0xFF>: SentencePiece byte fallback
    if vocabulary == "wordpiece":
        return "continuation" if piece.startswith("##") else "word-initial"
    return "word-initial" if shown.startswith(WORD_MARK) else "continuation"


def token_kinds(
    raw: Sequence[str],
    display: Sequence[str],
    special_ids: Iterable[int],
    vocabulary: str,
    declared: Mapping[int, str] | None = None,
) -> np.ndarray:
    """uint8 code per token into TOKEN_KINDS: specials, then the source's declared kinds (GGUF token
    types), then what the spelling says."""
    code = {name: i for i, name in enumerate(TOKEN_KINDS)}
    kinds = np.fromiter(
        (code[piece_kind(p, d, vocabulary)] for p, d in zip(raw, display, strict=True)),
        dtype=np.uint8,
        count=len(raw),
    )
    for ident, kind in (declared or {}).items():
        if 0 <= ident < len(raw):
            kinds[ident] = code[kind]
    for ident in special_ids:
        if 0 <= ident < len(raw):
            kinds[ident] = code["special"]
    return kinds


def encode_labels(labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Labels -> (uint16 codes, names ordered by how many tokens carry them, most first)."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    names = sorted(counts, key=lambda k: (-counts[k], k))
    index = {name: i for i, name in enumerate(names)}
    return np.fromiter((index[label] for label in labels), dtype=np.uint16, count=len(labels)), names


def label_tokens(display: Sequence[str], kinds: np.ndarray) -> dict[str, list[str]]:
    paper = [paper_label(t) for t in display]
    not_text = tuple(TOKEN_KINDS.index(k) for k in NOT_TEXT_KINDS)
    scripts = [SPECIAL if kinds[i] in not_text else unicode_label(t) for i, t in enumerate(display)]
    return {"paper": paper, "unicode": scripts}
