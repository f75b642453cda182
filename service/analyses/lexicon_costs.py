"""What a lookup costs per language of a model's lexicon: its sizes and pieces per word (fertility),
from the artifact's manifest (loaders/build/lexicon.py measured them when the lexicon was built)."""

from __future__ import annotations

from service import response_types as s
from service.registry import LoadedModel

REFERENCE = "en"  # parity is against English, as Petrov et al. (2023) measure tokenizer parity


def lexicon_languages(model: LoadedModel) -> dict[str, s.LexiconLanguageOut] | None:
    lexicon = model.manifest.lexicon
    if lexicon is None:
        return None
    reference = lexicon.languages.get(REFERENCE)
    base = reference.pieces_weighted if reference is not None else None
    out = {}
    for code, lang in lexicon.languages.items():
        weighted = lang.pieces_weighted
        out[code] = s.LexiconLanguageOut(
            origin=lang.origin,
            entries=lang.entries,
            words=lang.words,
            composable=round(lang.words / lang.entries, 4) if lang.entries else 0.0,
            one_token=round(lang.one_piece / lang.words, 4) if lang.words else 0.0,
            pieces_per_word=lang.pieces_mean,
            pieces_per_word_weighted=weighted,
            parity=round(weighted / base, 4) if weighted is not None and base else None,
            not_composed_examples=lang.not_composed_examples,
        )
    return out


def lexicon_out(model: LoadedModel) -> s.LexiconOut:
    model.pool()  # an artifact without a lexicon: a 400 that says why
    languages, lexicon = lexicon_languages(model), model.manifest.lexicon
    assert languages is not None and lexicon is not None
    return s.LexiconOut(
        model=model.name,
        words=lexicon.rows,
        composed=lexicon.composed,
        per_language=lexicon.per_language,
        wordlist=f"wordfreq {lexicon.wordfreq_version} '{lexicon.wordlist}'",
        reference=REFERENCE,
        languages=languages,
    )
