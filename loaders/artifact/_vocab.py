"""Display forms of raw vocabulary entries.

SentencePiece pieces are shown as they are (the word-initial mark U+2581 '▁' kept). GPT-2 style
byte-level BPE pieces are stored as one printable character per byte (`Ġ` is the space byte, `Ċ`
the newline): we decode them back to UTF-8 text and write the leading space as '▁', as the seed
paper does, so that script labels see real characters rather than mojibake.
"""

from __future__ import annotations

import re
from functools import lru_cache

WORD_MARK = "\u2581"
BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes_to_unicode: printable stand-in character -> byte value."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    shift = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + shift)
            shift += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


def decode_byte_level(piece: str) -> tuple[str, bool]:
    """Byte-level piece -> (display text, complete). Incomplete UTF-8 shows as <0xNN> escapes."""
    table = byte_decoder()
    if any(ch not in table for ch in piece):  # added tokens are plain text
        return piece, True
    data = bytes(table[ch] for ch in piece)
    try:
        text = data.decode("utf-8")
        complete = True
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="backslashreplace")
        text = re.sub(r"\\x([0-9a-f]{2})", lambda m: f"<0x{m.group(1).upper()}>", text)
        complete = False
    if text.startswith(" "):
        text = WORD_MARK + text[1:]
    return text, complete


def display_forms(tokens: list[str], byte_level: bool) -> list[str]:
    if not byte_level:
        return list(tokens)
    return [decode_byte_level(t)[0] for t in tokens]


def looks_byte_level(tokens: list[str]) -> bool:
    """Heuristic for sources that do not say: many `Ġ`-prefixed pieces and no '▁' pieces."""
    if not tokens:
        return False
    spaced = sum(t.startswith("Ġ") for t in tokens)
    marked = sum(t.startswith(WORD_MARK) for t in tokens)
    return spaced > 0.05 * len(tokens) and marked == 0
