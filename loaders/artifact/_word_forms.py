"""How words are matched against a lexicon: the key of a word is its form with the differences people
do not mean removed, so that *Wasser*, *WASSER* and *wasser* find the same entry, and so do
*İstanbul* and *istanbul*, *l’eau* and *l'eau*, *week‑end* and *week-end*.

The key: Unicode NFKC (compatibility forms, composed accents), then case folding, then the Turkish
dotted and dotless i folded to i (casefold maps İ to i + U+0307 and leaves ı), apostrophe variants
to ', dash variants to -, and runs of white space to one space. The lexicon keeps each word as its
source spells it; answers show that form.
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u02b9\u0060\u00b4\u2032\uff07", "'"))
DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))
SPACES = re.compile(r"\s+")


def match_key(word: str) -> str:
    """The form `word` is matched by (see the module's docstring)."""
    folded = unicodedata.normalize("NFKC", word).casefold()
    folded = folded.replace("i\u0307", "i").replace("\u0131", "i")  # İ -> i̇ -> i; ı -> i
    return SPACES.sub(" ", folded.translate(APOSTROPHES).translate(DASHES)).strip()
