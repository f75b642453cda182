"""Which tokens the model's own tokenizer can produce: a token whose own text never segments back to
it is "unreachable", never seen in training, so its embedding row is untrained (after "Fishing for
Magikarp", Land & Bartolo 2024, whose Llama 2 reference set is exactly such tokens: the ASCII byte
pieces that byte fallback never emits because the characters are ordinary pieces).

Checked, per the vocabulary's rules: word-initial pieces (their word, alone, must segment to exactly
the piece) and ASCII byte pieces of byte-fallback vocabularies (the character must segment to the
byte piece). Continuation pieces, other bytes and specials are not checked: their context decides.
Stored per token as int8: 1 reachable, 0 unreachable, -1 not checked (`reachable.npy`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from loaders.artifact import (
    BYTE_PIECE,
    TOKEN_KINDS,
    TOKEN_NOT_CHECKED,
    TOKEN_REACHABLE,
    TOKEN_UNREACHABLE,
    WORD_MARK,
    Segmenter,
)

REACHABLE, UNREACHABLE, NOT_CHECKED = TOKEN_REACHABLE, TOKEN_UNREACHABLE, TOKEN_NOT_CHECKED


def probe_text(raw: str, display: str, kind: str, vocabulary: str) -> str | None:
    """The text whose segmentation must be exactly this token, or None when it is not checked."""
    if kind == "word-initial" and display.startswith(WORD_MARK) and len(display) > 1:
        word = display[1:]
        return " " + word if vocabulary == "byte-level-bpe" else word
    if kind == "byte" and vocabulary == "byte-fallback-bpe" and BYTE_PIECE.match(raw):
        value = int(raw[3:5], 16)
        return chr(value) if 0x21 <= value < 0x7F else None  # printable ASCII, not the space
    return None


def reachability(
    segmenter: Segmenter,
    raw: Sequence[str],
    display: Sequence[str],
    kinds: np.ndarray,
    vocabulary: str,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> np.ndarray:
    """int8 per token: REACHABLE, UNREACHABLE or NOT_CHECKED."""
    out = np.full(len(raw), NOT_CHECKED, dtype=np.int8)
    for ident, (piece, shown, code) in enumerate(zip(raw, display, kinds.tolist(), strict=True)):
        text = probe_text(piece, shown, TOKEN_KINDS[code], vocabulary)
        if text is not None:
            out[ident] = REACHABLE if segmenter.ids(text) == [ident] else UNREACHABLE
        if ident % 16_384 == 0:
            progress(ident, len(raw))
    progress(len(raw), len(raw))
    return out
