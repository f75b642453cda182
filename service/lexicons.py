"""Word sets as the service holds them: the lexicon (frequent words of the model's languages composed
from its pieces, loaders/build/lexicon.py, rows grouped by language; the encoder space's words have the
same shape), and the candidates a request gives (`Given`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from geometry.neighbors import Space
from loaders import artifact
from loaders.artifact import match_key

# One word list that serves several languages: wordfreq's Serbo-Croatian list ("sh", Latin script;
# langcodes reads "sh" as "sr") answers for Croatian, Bosnian, Serbian and Montenegrin too.
SHARED_LISTS = {"hr": "sh", "bs": "sh", "sr": "sh", "cnr": "sh", "hbs": "sh"}
# ... and Serbian written in Cyrillic is found in it by its Latin spelling (one letter for one: вода
# is voda, љубав is ljubav)
SERBIAN_LATIN = str.maketrans(
    dict(zip("абвгдђежзијклмнопрстћуфхцчшАБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШ",
             "abvgdđežzijklmnoprstćufhcčšABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠ", strict=True))
    | {"љ": "lj", "њ": "nj", "џ": "dž", "Љ": "Lj", "Њ": "Nj", "Џ": "Dž"}
)  # fmt: skip


def language_starts(language: np.ndarray, count: int) -> np.ndarray:
    """Each of `count` language codes' first row (rows grouped by language; 0 for a code without rows)."""
    codes, first_rows = np.unique(language, return_index=True)
    first = np.zeros(max(count, int(codes.max()) + 1 if len(codes) else 0), dtype=np.int64)
    first[codes] = first_rows
    return first


def language_positions(language: np.ndarray) -> np.ndarray:
    """Each row's place in its language's rows (rows grouped by language, most frequent first)."""
    positions: np.ndarray = np.arange(len(language)) - language_starts(language, 0)[language]
    return positions


def row_norms(matrix: np.ndarray) -> np.ndarray:
    """float32 L2 norm of each stored row, in blocks (at 4,096 dimensions a lexicon is 800 MB in float32)."""
    norms = np.empty(len(matrix), dtype=np.float32)
    for lo in range(0, len(matrix), 8192):
        block = np.asarray(matrix[lo : lo + 8192], dtype=np.float32)
        norms[lo : lo + 8192] = np.sqrt(np.einsum("ij,ij->i", block, block))  # no squared copy
    return norms


@dataclass(frozen=True)
class Lexicon:
    """The words of the model's languages composed from its pieces (loaders/build/lexicon.py), rows grouped
    by language."""

    space: Space  # the lexicon's unit rows (float16), all of them candidates
    r: np.ndarray  # CSLS neighborhood mean of each row over the vocabulary
    words: list[str]  # as the source spells them (answers show this form)
    language: np.ndarray  # int per row into `languages`
    languages: list[str]
    pieces: np.ndarray
    rows_of: dict[str, list[int]]  # match key (loaders/artifact/_word_forms.py) -> its rows, one per language
    lemma: np.ndarray  # int32 per row: the row of its dictionary form (-1: it is one, or none is known)

    @classmethod
    def open(cls, directory: Path, info: artifact.LexiconInfo) -> Lexicon:
        import msgspec

        stored = msgspec.json.decode(
            (directory / artifact.LEXICON_WORDS).read_bytes(), type=artifact.LexiconWords
        )
        return cls.of_rows(
            artifact.open_array(directory, artifact.LEXICON, info.rows),
            np.asarray(artifact.open_array(directory, artifact.LEXICON_R, info.rows)),
            stored.words,
            np.asarray(stored.language, dtype=np.int16),
            stored.languages,
            np.asarray(stored.pieces, dtype=np.int16),
            np.asarray(stored.lemma, dtype=np.int32) if stored.lemma else None,
        )

    @classmethod
    def of_rows(
        cls,
        matrix: np.ndarray,
        r: np.ndarray,
        words: list[str],
        language: np.ndarray,
        languages: list[str],
        pieces: np.ndarray,
        lemma: np.ndarray | None = None,
    ) -> Lexicon:
        """Words with their stored rows (norms measured), each word's rows by its match key, and each
        row's dictionary form's row (None: none known, an artifact of loader 0.10 or earlier)."""
        rows_of: dict[str, list[int]] = {}
        for row, word in enumerate(words):
            rows_of.setdefault(match_key(word), []).append(row)
        lemmas = np.full(len(words), -1, dtype=np.int32) if lemma is None else lemma
        space = Space.of_rows(matrix, row_norms(matrix))
        return cls(space, r, words, language, languages, pieces, rows_of, lemmas)

    def heads(self, ids: np.ndarray) -> np.ndarray:
        """Each row's dictionary form's row, itself where it is one (or none is known)."""
        lemma = self.lemma[ids]
        return np.where(lemma >= 0, lemma, ids)

    def find(self, word: str, language: str | None = None) -> list[int]:
        """The rows of `word` written any way people write it (case, Unicode form, Turkish i,
        apostrophes, dashes), in `language` when given."""
        if language is None:
            return self.rows_of.get(match_key(word), [])
        own = self.own_code(language)
        rows = self.rows_of.get(match_key(word.translate(SERBIAN_LATIN) if own == "sh" else word), [])
        return [row for row in rows if self.languages[int(self.language[row])] == own]

    def own_code(self, code: str) -> str | None:
        """The lexicon language whose words answer for `code`: itself, or the list it shares
        (SHARED_LISTS: hr -> sh); None when the lexicon has neither."""
        if code in self.languages:
            return code
        shared = SHARED_LISTS.get(code)
        return shared if shared in self.languages else None

    def lacks(self, codes: list[str]) -> list[str]:
        """The codes no lexicon language answers for."""
        return sorted(code for code in set(codes) if self.own_code(code) is None)

    def written(self, word: str, language: str | None) -> int | None:
        """The row of `word` (written any way) in `language`, or (None) in the language where it is
        most frequent, i.e. earliest in its language's rows; None when the lexicon lacks it."""
        rows = self.find(word, language)
        if not rows:
            return None
        places = self.places(np.asarray(rows, dtype=np.int64))[0].tolist()
        return min(zip(places, rows, strict=True))[1]

    def places(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(each row's place in its language's words, most frequent first; that language's size)."""
        first, size, _ = self._language_spans
        codes = self.language[rows]
        return rows - first[codes], size[codes]

    @cached_property
    def _language_spans(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """(each language's first row, its number of rows, whether each language's rows are one run)."""
        size = np.bincount(self.language, minlength=len(self.languages))
        runs = np.count_nonzero(np.diff(self.language)) == max(np.count_nonzero(size) - 1, 0)
        return language_starts(self.language, len(self.languages)), size, runs

    def language_rows(self, codes: list[str]) -> np.ndarray:
        """The rows of these languages' words, ascending: each language's run of rows, as the build
        writes them (no scan of every row per query)."""
        owned = {self.own_code(code) for code in codes}
        wanted = [i for i, code in enumerate(self.languages) if code in owned]
        first, size, runs = self._language_spans
        if not runs:
            return np.flatnonzero(np.isin(self.language, wanted))
        spans = sorted((int(first[i]), int(size[i])) for i in wanted)
        return np.concatenate(
            [np.arange(a, a + n, dtype=np.int64) for a, n in spans] or [np.empty(0, np.int64)]
        )


@dataclass(frozen=True)
class Given:
    """The candidates as a space of their own: row i is names[i]."""

    space: Space
    r: np.ndarray
    names: list[str]
    pieces: list[int]  # pieces each candidate was composed from (1: a token or a one-piece word)
    kinds: list[str]  # "token", "lexicon word", "composed"

    def rows_of(self, word: str) -> set[int]:
        key = match_key(word)
        return {i for i, name in enumerate(self.names) if match_key(name) == key}
