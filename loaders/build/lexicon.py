"""Lexicons: the words of every language a model serves, each composed from the model's own pieces,
so that lookups and translations find words the vocabulary splits.

Which languages, and whose words:
- each language with a word list (wordfreq's `best` lists, 42 languages) written in a script the
  model's vocabulary holds: its `size` most frequent words;
- each script the vocabulary holds that no list covers but whose main language is known
  (`SCRIPT_LANGUAGES`: Thai, Georgian, Armenian, ...): that language, its words the vocabulary's own
  word-initial pieces of the script (so every script the model serves has targets);
- a user's word list for a language (`--lexicon-words LANG=FILE`, one word per line), first.

A list's words are kept in the form people write them and only where they are the language's own:
- wordfreq lists are lower-cased; each word takes the casing its model's tokenizer finds more probable
  (`written_forms`: German nouns become Haus, Hund; English and Russian words stay as they are);
- a word written in none of its language's scripts (Latin "to", "at" in the Russian list), or at least
  LEAK_RATIO times more frequent in English than in its own list ("house" in the German one), is left
  out (`own_words`);
- each word's dictionary form (simplemma, where it knows the language) is recorded as that form's row
  when the lexicon holds it (`lemma_rows`), so that lookups group inflected forms under it.

A word is any entry with a letter (hyphenated and multi-word entries, apostrophes and digits kept).
It is segmented by the artifact's tokenizer (`loaders/artifact/_segmenter.py`); one usable piece is that
token's unit row, several the mean of their raw rows, normalized, as `text=` queries pool them.
Entries with no usable piece (only unknown or special pieces) are counted, not stored. Rows are
grouped by language (contiguous), so a language filter is a slice searched exactly.

CSLS needs each row's neighborhood mean r (mean cosine to its 10 nearest vocabulary tokens): a
one-piece word has its token's; a composed word's is taken over its pieces and their exact-table
neighbors, the tokens its nearest ones are among (`geometry.translation.table_means`;
bench/lexicon.py measures it against exact means).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from loaders.artifact import (
    WORD_MARK,
    LexiconLanguage,
    LexiconWords,
    Segmenter,
    language_scripts,
    match_key,
    poolable,
    unicode_label,
)

# The default size: as many words per list language as a budget of stored rows allows (float16: at
# 384 dimensions ~8,300 words for each of 42 languages), at most MAX_SIZE; --lexicon-size sets it.
BUDGET_BYTES = 256 * 2**20
MAX_SIZE = 20_000
WORDLIST = "best"
# Scripts whose main language wordfreq has no list for (CLDR: the script's most written language)
SCRIPT_LANGUAGES = {
    "Thai": "th",
    "Georgian": "ka",
    "Armenian": "hy",
    "Khmer": "km",
    "Lao": "lo",
    "Myanmar": "my",
    "Sinhala": "si",
    "Ethiopic": "am",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Telugu": "te",
    "Oriya": "or",
    "Tibetan": "bo",
}
MIN_SCRIPT_TOKENS = 200  # a script with fewer word-initial tokens gets no lexicon of its own
CASE_MARGIN = 1.0  # log probability a capitalized form must win by (e5: Haus +1.7, Home +0.8, Sie +0.6)
LEAK_RATIO = 8.0  # a list word this much more frequent in English is an English word (house: 27x)
NEUTRAL_SCRIPTS = {"Common", "Mixed"}  # digits, punctuation: no script of their own
BLOCK = 8192  # words composed at a time


@dataclass(frozen=True)
class Source:
    """One language's entries, most frequent first, and where they come from."""

    language: str
    words: list[str]
    origin: str  # "wordfreq best" | "vocabulary" | "user list"
    frequencies: list[float] = field(default_factory=list)  # per word, for a weighted fertility
    segmented: list[list[int]] | None = None  # each word's pieces, when already known


def default_size(dim: int, languages: int) -> int:
    """Words per list language that keep the lexicon's rows within BUDGET_BYTES."""
    return max(1000, min(MAX_SIZE, BUDGET_BYTES // (2 * dim * max(languages, 1)) // 100 * 100))


def is_word(entry: str) -> bool:
    return any(ch.isalpha() for ch in entry)


def list_sources(languages: Iterable[str], size: int) -> list[Source]:
    """The `size` most frequent words of each language's wordfreq list that are its own
    (`own_words`), with their frequencies."""
    import wordfreq

    english = wordfreq.get_frequency_dict("en", WORDLIST)
    out = []
    for lang in languages:
        # the list's own frequencies (word_frequency would tokenize: MeCab for Japanese, jieba for Chinese)
        table = wordfreq.get_frequency_dict(lang, WORDLIST)
        words = own_words(lang, wordfreq.top_n_list(lang, size, wordlist=WORDLIST), table, english)
        out.append(Source(lang, words, f"wordfreq {WORDLIST}", [table.get(w, 0.0) for w in words]))
    return out


def own_words(
    language: str, words: Sequence[str], frequency: dict[str, float], english: dict[str, float]
) -> list[str]:
    """The words of a list that are its language's own: with a letter, written in one of the
    language's scripts, and not an English word (LEAK_RATIO times more frequent in English)."""
    scripts = language_scripts(language) | NEUTRAL_SCRIPTS
    out = []
    for word in words:
        if not is_word(word) or unicode_label(word) not in scripts:
            continue
        if language != "en" and english.get(word, 0.0) > LEAK_RATIO * frequency.get(word, 0.0):
            continue
        out.append(word)
    return out


def further_words(
    language: str, segmenter: Segmenter, known: set[str], count: int
) -> tuple[list[str], list[list[int]]]:
    """Up to `count` more of the language's own list words beyond those whose match keys are `known`,
    most frequent first, in their written form: what a larger word set (the encoder space's) adds to
    a lexicon language whose words come from a wordfreq list; with each one's pieces."""
    import wordfreq

    if count <= 0:
        return [], []
    english = wordfreq.get_frequency_dict("en", WORDLIST)
    table = wordfreq.get_frequency_dict(language, WORDLIST)
    listed = wordfreq.top_n_list(language, len(known) + 2 * count, wordlist=WORDLIST)
    seen = set(known)
    new: list[str] = []
    for word in own_words(language, listed, table, english):
        if len(new) == count:
            break
        if (key := match_key(word)) not in seen:
            seen.add(key)
            new.append(word)
    return written_forms(segmenter, new)


def written_forms(segmenter: Segmenter, words: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """Each lower-cased word in the casing the tokenizer finds more probable, with its pieces: as it
    is, or with its first letter upper-cased (the tokenizer's pieces are trained on running text:
    ▁Haus is a German noun's piece, ▁house an English word's). The capitalized form must win by
    CASE_MARGIN: words that open sentences (Sie, However) are capitalized often, but not that much
    more often."""
    capitalized = [word[:1].upper() + word[1:] for word in words]
    changed = [i for i, (word, other) in enumerate(zip(words, capitalized, strict=True)) if word != other]
    pieces = segmenter.ids_batch(words)
    upper = segmenter.ids_batch([capitalized[i] for i in changed])
    out = list(words)
    for i, high in zip(changed, upper, strict=True):
        if segmenter.likelihood(high) > segmenter.likelihood(pieces[i]) + CASE_MARGIN:
            out[i], pieces[i] = capitalized[i], high
    return out, pieces


def lemma_rows(language: str, words: Sequence[str]) -> list[int]:
    """Each word's dictionary form's position in `words` (-1: the word is one, the form is not among
    them, or simplemma does not know the language)."""
    import simplemma

    try:
        simplemma.lemmatize("a", lang=language)
    except (ValueError, KeyError):
        return [-1] * len(words)
    position: dict[str, int] = {}
    for i, word in enumerate(words):
        position.setdefault(match_key(word), i)
    out = []
    for i, word in enumerate(words):
        found = position.get(match_key(simplemma.lemmatize(word, lang=language)), -1)
        out.append(found if found != i else -1)
    return out


def script_sources(
    display: Sequence[str], scripts: Sequence[str], word_initial: np.ndarray, covered: set[str], size: int
) -> list[Source]:
    """For each script in SCRIPT_LANGUAGES that no list language covers: its word-initial tokens as
    words (in id order, the vocabulary's own order of frequency for SentencePiece)."""
    by_script: dict[str, list[str]] = {}
    for ident in np.flatnonzero(word_initial).tolist():
        script = scripts[ident]
        if script in SCRIPT_LANGUAGES and script not in covered:
            word = display[ident].removeprefix(WORD_MARK)
            if is_word(word):
                by_script.setdefault(script, []).append(word)
    return [
        Source(SCRIPT_LANGUAGES[script], list(dict.fromkeys(words))[:size], "vocabulary")
        for script, words in sorted(by_script.items())
        if len(words) >= MIN_SCRIPT_TOKENS
    ]


def user_source(language: str, lines: Iterable[str]) -> Source:
    words = [line.strip() for line in lines if is_word(line.strip())]
    return Source(language, list(dict.fromkeys(words)), "user list")


@dataclass
class Composed:
    """A language's composed entries: unit rows (float32), words, pieces, what could not be composed."""

    rows: np.ndarray
    words: list[str]
    pieces: list[list[int]]
    frequencies: list[float]
    not_composed: list[str]


def compose(
    rows: np.ndarray, norms: np.ndarray, display: Sequence[str], segmenter: Segmenter, source: Source
) -> Composed:
    """Each entry of `source` pooled from its usable pieces (none: reported in `not_composed`): one
    batch segmentation, one gather of every piece's row, sums by word (np.add.reduceat)."""
    ids_of = source.segmented if source.segmented is not None else segmenter.ids_batch(source.words)
    segmented = [poolable(ids, display, norms) for ids in ids_of]
    kept = [i for i, ids in enumerate(segmented) if ids]
    pieces = [segmented[i] for i in kept]
    matrix = np.empty((len(kept), rows.shape[1]), dtype=np.float32)
    flat = np.fromiter((p for ids in pieces for p in ids), dtype=np.int64)
    starts = np.cumsum([0] + [len(ids) for ids in pieces[:-1]]) if pieces else np.empty(0, dtype=np.int64)
    for lo in range(0, len(kept), BLOCK):  # blocks of words: float32 rows of ~BLOCK x pieces at a time
        hi = min(lo + BLOCK, len(kept))
        first, last = int(starts[lo]), int(starts[hi]) if hi < len(kept) else len(flat)
        gathered = np.asarray(rows[flat[first:last]], dtype=np.float32)
        matrix[lo:hi] = np.add.reduceat(gathered, starts[lo:hi] - first, axis=0)
    lengths = np.linalg.norm(matrix, axis=1)
    usable = lengths > 0
    matrix = matrix[usable] / lengths[usable, None]
    kept_usable = [i for i, ok in zip(kept, usable.tolist(), strict=True) if ok]
    not_composed = [source.words[i] for i in sorted(set(range(len(segmented))) - set(kept_usable))]
    return Composed(
        matrix,
        [source.words[i] for i in kept_usable],
        [segmented[i] for i in kept_usable],
        [source.frequencies[i] if source.frequencies else 0.0 for i in kept_usable],
        not_composed,
    )


def language_stats(source: Source, made: Composed) -> LexiconLanguage:
    """The manifest's account of one language: sizes, and what a lookup costs (pieces per word)."""
    counts = np.array([len(p) for p in made.pieces], dtype=np.float64)
    weights = np.asarray(made.frequencies, dtype=np.float64)
    weighted = float((counts * weights).sum() / weights.sum()) if weights.sum() > 0 else float("nan")
    return LexiconLanguage(
        origin=source.origin,
        entries=len(source.words),
        words=len(made.words),
        one_piece=int((counts == 1).sum()),
        not_composed=len(made.not_composed),
        not_composed_examples=made.not_composed[:5],
        pieces_mean=round(float(counts.mean()), 4) if len(counts) else 0.0,
        pieces_weighted=round(weighted, 4) if weighted == weighted else None,
    )


def words_of(composed: Sequence[tuple[str, Composed]]) -> LexiconWords:
    """lexicon.json for languages' composed entries, in order (rows grouped by language), with each
    row's dictionary form's row."""
    languages = [lang for lang, _ in composed]
    words: list[str] = []
    language: list[int] = []
    pieces: list[int] = []
    lemma: list[int] = []
    for j, (lang, made) in enumerate(composed):
        first = len(words)
        lemma.extend(row if row < 0 else first + row for row in lemma_rows(lang, made.words))
        words.extend(made.words)
        language.extend([j] * len(made.words))
        pieces.extend(len(p) for p in made.pieces)
    return LexiconWords(languages, words, language, pieces, lemma)
