"""Bilingual dictionary evaluation: parsing, coverage, precision@k overall and per target language."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from geometry.translation import Pair, evaluate, parse_dictionary
from service import requests as r
from service import schemas as s
from service.errors import InvalidInput, NothingToFit, TooLarge, at
from service.language_labels import base_language
from service.registry import LoadedModel
from service.settings import Limits
from service.usecases.resolving import DEFAULT_LIMITS, check_budget

EVALUATION_SCANS = 4  # a dictionary evaluation may scan this many times a request's budget


def _dictionary_pairs(request: r.EvaluateRequest, max_pairs: int) -> list[Pair]:
    if (request.dictionary is None) == (request.pairs is None):
        raise InvalidInput("give exactly one of dictionary (MUSE text) or pairs (JSON)", field="dictionary")
    if request.dictionary is not None:
        try:
            pairs = parse_dictionary(request.dictionary, max_pairs)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="dictionary") from exc
        except OverflowError as exc:
            raise TooLarge(
                f"dictionary has {exc}; the limit is {max_pairs} pairs", field="dictionary"
            ) from exc
    else:
        pairs = [
            (p.source, p.target, p.language)
            if isinstance(p, r.DictionaryPair)
            else (p[0], p[1], p[2] if len(p) == 3 else None)
            for p in request.pairs or []
        ]
        if len(pairs) > max_pairs:
            raise TooLarge(f"{len(pairs)} pairs; the limit is {max_pairs}", field="pairs")
    if not pairs:
        raise InvalidInput("the dictionary holds no pairs", field="dictionary")
    for number, (_, _, lang) in enumerate(pairs, start=1):
        if lang is not None and base_language(lang) is None:
            raise InvalidInput(f"pair {number}: {lang!r} is not an ISO 639 language code", field="dictionary")
    return pairs


def _skip_reason(model: LoadedModel, src: tuple[int, str] | None, tgt: tuple[int, str] | None) -> str | None:
    if src is None or tgt is None:
        return (
            "source and target are not single tokens"
            if src is None and tgt is None
            else "source is not a single token"
            if src is None
            else "target is not a single token"
        )
    if model.space.norms[src[0]] == 0 or model.space.norms[tgt[0]] == 0:
        return "special token"
    return None


@dataclass
class Gold:
    """The dictionary resolved against a vocabulary: source id -> target ids, overall and per language."""

    pairs: dict[int, set[int]] = field(default_factory=dict)
    by_language: dict[str, dict[int, set[int]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # source id -> the word as the dictionary spells it
    skipped: list[s.SkippedPair] = field(default_factory=list)


def _gold(model: LoadedModel, pairs: list[Pair]) -> Gold:
    gold = Gold()
    for source, target, lang in pairs:
        src, tgt = model.lookup(source, prefer_word=True), model.lookup(target, prefer_word=True)
        reason = _skip_reason(model, src, tgt)
        if reason is not None or src is None or tgt is None:
            gold.skipped.append(s.SkippedPair(source, target, reason or "not a token"))
            continue
        gold.pairs.setdefault(src[0], set()).add(tgt[0])
        if lang is not None:
            by_source = gold.by_language.setdefault(base_language(lang) or lang, {})
            by_source.setdefault(src[0], set()).add(tgt[0])
        gold.names[src[0]] = source
    if not gold.pairs:
        raise NothingToFit(
            "no pair has single-token source and target", field="dictionary", skipped=gold.skipped[:20]
        )
    return gold


def _per_language(
    model: LoadedModel, request: r.EvaluateRequest, gold: Gold, allowed: np.ndarray
) -> dict[str, s.LanguagePrecision]:
    """P@k per target language, among the target scripts' tokens or that language's (language_pool)."""
    out = {}
    for lang, lang_gold in sorted(gold.by_language.items()):
        pool = allowed
        if request.language_pool == "language":
            with at("dictionary"):
                pool = np.flatnonzero(model.language_mask([lang]) & (model.space.norms > 0))
        sources = np.array(sorted(lang_gold), dtype=np.int64)
        wanted = [lang_gold[int(i)] for i in sources]
        result = evaluate(model.space, sources, wanted, pool, model.csls_r)
        in_pool = np.isin(np.array([t for want in wanted for t in want]), pool)
        per_want = np.split(in_pool, np.cumsum([len(w) for w in wanted])[:-1])
        reachable = float(np.mean([part.any() for part in per_want]))
        out[lang] = s.LanguagePrecision(
            len(sources), result.precision, request.language_pool, len(pool), round(reachable, 4)
        )
    return out


def evaluate_dictionary(
    model: LoadedModel, request: r.EvaluateRequest, limits: Limits = DEFAULT_LIMITS
) -> s.EvaluateOut:
    pairs = _dictionary_pairs(request, limits.max_dictionary_pairs)
    gold = _gold(model, pairs)
    targets = request.target_scripts
    if not targets:
        with at("scheme"):
            labels = model.scheme(request.scheme)
        targets = sorted({labels.names[int(labels.codes[t])] for want in gold.pairs.values() for t in want})
    with at("target_scripts"):
        allowed = model.label_ids(request.scheme, targets)
    sources = np.array(sorted(gold.pairs), dtype=np.int64)
    wanted = [gold.pairs[int(i)] for i in sources]
    # all sources against the pool, then each language's sources again (against at most the pool)
    scans = len(sources) + sum(len(sources_of) for sources_of in gold.by_language.values())
    evaluation = dataclasses.replace(limits, max_scan_cells=EVALUATION_SCANS * limits.max_scan_cells)
    check_budget(model, evaluation, 0, 0, scans, max(len(allowed), 1), "dictionary")
    result = evaluate(model.space, sources, wanted, allowed, model.csls_r)
    misses = None
    if request.include_misses:
        misses = [
            s.Miss(
                gold.names[int(src)],
                [model.raw[t] for t in sorted(want)],
                [model.raw[t] for t in result.ranks["cosine"][row]],
                [model.raw[t] for t in result.ranks["csls"][row]],
            )
            for row, (src, want) in enumerate(zip(sources, wanted, strict=True))
            if not set(result.ranks["csls"][row][:1]) & want
        ]
    return s.EvaluateOut(
        model.name,
        len(pairs),
        len(pairs) - len(gold.skipped),
        len(sources),
        targets,
        len(allowed),
        result.precision,
        gold.skipped,
        misses,
        _per_language(model, request, gold, allowed) or None,
    )
