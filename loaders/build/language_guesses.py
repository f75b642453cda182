"""Language labels for word-initial tokens, from wordfreq's word-frequency lists.

For a token whose surface form (without '▁', case-folded) consists of letters only, its
distribution over languages is

    p(lang | word)  ∝  frequency of word in lang's list  x  writing population of lang

The population prior (CLDR estimates shipped with `language_data`) turns "how common is this word in
each language" into "who is likely writing it": without it `▁вода` splits four ways between
Macedonian, Bulgarian, Ukrainian and Russian by per-language frequency alone, although most text
containing it is Russian. Only languages written in the token's Unicode script compete (the lists
hold foreign words: Thai letters in the Chinese list, Armenian in the Russian one).

A token is labelled with its top language when that language holds at least MIN_SHARE of the
distribution; words in no list are "unlabelled", words below the threshold "ambiguous" (the guess,
its share, the runner-up and the entropy are still stored). Continuation pieces, byte and special
tokens are "unlabelled". Known effect of the prior: '▁die' is German (0.90, Dutch 0.06) and '▁on'
English (0.86, French 0.10); words shared by big languages ('▁mais', '▁bien', '▁de') stay ambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np

from loaders.artifact import (
    AMBIGUOUS,
    TOKEN_KINDS,
    UNLABELLED,
    WORD_MARK,
    LanguageLabelling,
    language_scripts,
)

WORDLIST = "best"
MIN_SHARE = 0.6
PRIOR = "CLDR writing population (language_data)"


@dataclass(frozen=True)
class LanguageLabels:
    labels: list[str]  # language code, AMBIGUOUS or UNLABELLED per token
    guess: np.ndarray  # int16 (vocab, 2): top and runner-up language index into `languages`, -1 none
    scores: np.ndarray  # float16 (vocab, 3): top share, runner-up share, entropy in bits; NaN none
    info: LanguageLabelling


def word_form(display: str) -> str | None:
    """The case-folded word a word-initial token spells, or None when it is not all letters."""
    word = display.removeprefix(WORD_MARK).casefold()
    return word if word.isalpha() else None


def word_frequencies(words: list[str], languages: list[str]) -> np.ndarray:
    """(words x languages) wordfreq frequencies, 0 where a list lacks the word."""
    import wordfreq

    position = {word: i for i, word in enumerate(words)}
    freq = np.zeros((len(words), len(languages)), dtype=np.float64)
    for j, lang in enumerate(languages):
        table = wordfreq.get_frequency_dict(lang, WORDLIST)  # cached by wordfreq for the process
        if len(words) < len(table):  # walk the smaller side (tests build six-token artifacts)
            freq[:, j] = [table.get(word, 0.0) for word in words]
            continue
        for word, f in table.items():
            row = position.get(word)
            if row is not None:
                freq[row, j] = f
    return freq


def label_languages(
    display: Sequence[str], kinds: np.ndarray, scripts: Sequence[str], min_share: float = MIN_SHARE
) -> LanguageLabels:
    """`scripts`: each token's label in the unicode scheme."""
    import langcodes
    import wordfreq

    languages = sorted(wordfreq.available_languages(WORDLIST))
    rows_of: dict[str, list[int]] = {}
    word_initial = TOKEN_KINDS.index("word-initial")
    for ident, text in enumerate(display):
        if kinds[ident] == word_initial and (word := word_form(text)) is not None:
            rows_of.setdefault(word, []).append(ident)
    words = list(rows_of)
    freq = word_frequencies(words, languages)
    prior = np.array([langcodes.Language.get(lang).writing_population() for lang in languages], float)
    written = [language_scripts(lang) for lang in languages]
    word_scripts = [scripts[rows_of[word][0]] for word in words]
    distinct = sorted(set(word_scripts))
    writes = np.array([[script in w for w in written] for script in distinct], dtype=bool)
    script_row = {script: i for i, script in enumerate(distinct)}
    same_script = writes[[script_row[script] for script in word_scripts]].reshape(len(words), -1)
    weighted = freq * (prior / prior.sum()) * same_script
    total = weighted.sum(axis=1)
    known = total > 0
    dist = np.zeros_like(weighted)
    dist[known] = weighted[known] / total[known, None]
    order = np.argsort(-dist, axis=1, kind="stable")[:, :2]
    top_share = np.take_along_axis(dist, order[:, :1], axis=1)[:, 0]
    second_share = np.take_along_axis(dist, order[:, 1:2], axis=1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(dist > 0, dist * np.log2(dist), 0.0).sum(axis=1)

    labels = [UNLABELLED] * len(display)
    guess = np.full((len(display), 2), -1, dtype=np.int16)
    scores = np.full((len(display), 3), np.nan, dtype=np.float16)
    for i in np.flatnonzero(known):
        top, second = int(order[i, 0]), int(order[i, 1])
        label = languages[top] if top_share[i] >= min_share else AMBIGUOUS
        for ident in rows_of[words[i]]:
            labels[ident] = label
            guess[ident] = (top, second if second_share[i] > 0 else -1)
            scores[ident] = (top_share[i], second_share[i], entropy[i])
    info = LanguageLabelling(
        languages=languages,
        names={lang: langcodes.Language.get(lang).display_name() for lang in languages},
        wordfreq_version=version("wordfreq"),
        wordlist=WORDLIST,
        prior=f"{PRIOR} {version('language_data')}",
        min_share=min_share,
    )
    return LanguageLabels(labels, guess, scores, info)
