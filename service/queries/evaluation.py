"""Bilingual dictionary evaluation: parsing, coverage, precision@k overall and per target language."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from geometry.neighbors import Space
from geometry.pooling import PoolingRule, pool
from geometry.translation import (
    NOTHING_COMPOSED,
    Composed,
    Evaluation,
    Pair,
    evaluate,
    parse_dictionary,
)
from loaders.artifact import poolable
from service import request_types as r
from service import response_types as s
from service.budget import Work, check_work
from service.encoder_spaces import EncoderSpace
from service.errors import DomainError, InvalidInput, NothingToFit, TooLarge, at
from service.language_labels import base_language
from service.lexicons import Given, Lexicon
from service.progress import Compute, timed
from service.queries.encoder_queries import encoded_given
from service.queries.given_candidates import given
from service.queries.plan import chosen_space, encoding_work
from service.registry import LoadedModel
from service.settings import Limits

DEFAULT_LIMITS = Limits()
PART_OF_SPEECH = re.compile(r.PART_OF_SPEECH_PATTERN)
ADVICE = "send fewer pairs, or name target_scripts to rank among fewer candidates"


def _dictionary_pairs(request: r.EvaluateRequest, max_pairs: int) -> list[Pair]:
    if (request.dictionary is None) == (request.pairs is None):
        raise InvalidInput("give exactly one of dictionary (MUSE text) or pairs (JSON)", field="dictionary")
    if request.dictionary is not None:
        try:
            pairs = parse_dictionary(request.dictionary, max_pairs, r.MAX_TOKEN_CHARS)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="dictionary") from exc
        except OverflowError as exc:
            raise TooLarge(
                f"dictionary has {exc}; the limit is {max_pairs} pairs", field="dictionary"
            ) from exc
    else:
        pairs = [
            Pair(p.source, p.target, p.language, p.part_of_speech)
            if isinstance(p, r.DictionaryPair)
            else Pair(*p)
            for p in request.pairs or []
        ]
        if len(pairs) > max_pairs:
            raise TooLarge(f"{len(pairs)} pairs; the limit is {max_pairs}", field="pairs")
    if not pairs:
        raise InvalidInput("the dictionary holds no pairs", field="dictionary")
    for number, pair in enumerate(pairs, start=1):
        if pair.language is not None and base_language(pair.language) is None:
            raise InvalidInput(
                f"pair {number}: {pair.language!r} is not an ISO 639 language code", field="dictionary"
            )
        if pair.part_of_speech is not None and not PART_OF_SPEECH.match(pair.part_of_speech):
            raise InvalidInput(
                f"pair {number}: {pair.part_of_speech!r} is not a part of speech (a word, e.g. noun)",
                field="dictionary",
            )
    return pairs


@dataclass
class Gold:
    """The dictionary resolved against a vocabulary: source key -> target ids, overall and per language.
    A source key is its token id, or -(1 + i) for the i-th composed source (a word the tokenizer
    splits, pooled from its pieces)."""

    pairs: dict[int, set[int]] = field(default_factory=dict)
    by_language: dict[str, dict[int, set[int]]] = field(default_factory=dict)
    by_part_of_speech: dict[str, dict[int, set[int]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # source key -> the word as the dictionary spells it
    skipped: list[s.SkippedPair] = field(default_factory=list)
    composed: list[np.ndarray] = field(default_factory=list)
    composed_keys: dict[str, int] = field(default_factory=dict)
    covered: list[Pair] = field(default_factory=list)  # the pairs evaluated
    encoded: dict[int, int] = field(default_factory=dict)  # space=encoder: source key -> row of `in_encoder`
    in_encoder: Composed = field(default_factory=lambda: NOTHING_COMPOSED)

    def encode(self, space: EncoderSpace) -> None:
        """Every source encoded by the model's encoder, with its r among the encoded words."""
        keys = sorted(self.pairs)
        vectors = space.encode([self.names[key] for key in keys])
        self.in_encoder = Composed(vectors, space.r_of(vectors))
        self.encoded = {key: row for row, key in enumerate(keys)}

    def queries(self, model: LoadedModel, keys: list[int], words: bool) -> tuple[np.ndarray, Composed]:
        """Evaluation sources for `keys` (-1 for composed ones) and the composed queries' vectors.
        Against the lexicon every source is a vector of another space: all are "composed"."""
        if self.encoded:
            rows = [self.encoded[key] for key in keys]
            encoded = Composed(self.in_encoder.vectors[rows], self.in_encoder.r[rows])
            return np.full(len(keys), -1, dtype=np.int64), encoded
        vectors = [self.composed[-(key + 1)] for key in keys if key < 0]
        composed = Composed.of(model.space, np.stack(vectors)) if vectors else NOTHING_COMPOSED
        sources = np.array([max(key, -1) for key in keys], dtype=np.int64)
        if not words:
            return sources, composed
        tokens = np.array([key for key in keys if key >= 0], dtype=np.int64)
        unit = np.zeros((len(keys), model.manifest.dim), dtype=np.float32)
        r_all = np.zeros(len(keys), dtype=np.float32)
        unit[sources >= 0], r_all[sources >= 0] = model.space.unit(tokens), model.csls_r[tokens]
        if len(vectors):
            unit[sources < 0], r_all[sources < 0] = composed.vectors, composed.r
        return np.full(len(keys), -1, dtype=np.int64), Composed(unit, r_all)


def _pieces(model: LoadedModel, word: str) -> list[int]:
    """The word's poolable pieces by the model's tokenizer (none without one)."""
    if model.segmenter is None:
        return []
    return poolable(model.segmenter.ids(word), model.display, model.space.norms)


def _source_key(model: LoadedModel, gold: Gold, word: str, pooling: PoolingRule) -> int | None:
    found = model.lookup(word, prefer_word=True)
    if found is not None and model.space.norms[found[0]] > 0:
        return found[0]
    if word in gold.composed_keys:
        return gold.composed_keys[word]
    pieces = _pieces(model, word)
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return None
    gold.composed.append(pool(model.space, np.array(pieces), pooling))
    gold.composed_keys[word] = -len(gold.composed)
    return gold.composed_keys[word]


@dataclass(frozen=True)
class Candidates:
    """What the targets are ranked among: the vocabulary's tokens, the lexicon's words, or the
    candidates the request gives."""

    space: Space
    r: np.ndarray
    names: Sequence[str]  # candidate id -> its string
    pool: Lexicon | None = None  # None: tokens (or the given candidates)
    given: Given | None = None
    encoded: bool = False  # the pool is the encoder space's words

    @property
    def other_space(self) -> bool:
        """Candidates that are not the vocabulary's rows: every source is a vector of another space."""
        return self.pool is not None or self.given is not None

    @property
    def heads(self) -> np.ndarray | None:
        """Lexicon words are compared by dictionary form (a form's inflections count as it) where the
        lexicon knows the forms; None otherwise."""
        if self.pool is None or not (self.pool.lemma >= 0).any():
            return None
        return self.pool.heads(np.arange(len(self.pool.words)))

    def pieces(self, row: int) -> int:
        if self.pool is not None:
            return int(self.pool.pieces[row])
        return self.given.pieces[row] if self.given is not None else 1

    def targets(self, model: LoadedModel, word: str, lang: str | None) -> set[int]:
        if self.given is not None:
            return self.given.rows_of(word)
        if self.pool is not None:
            return set(self.pool.find(word, base_language(lang) if lang else None))
        found = model.lookup(word, prefer_word=True)
        if found is not None and model.space.norms[found[0]] > 0:
            return {found[0]}
        pieces = _pieces(model, word)
        return {pieces[0]} if len(pieces) == 1 else set()

    @property
    def missing(self) -> str:
        if self.given is not None:
            return "target is not among the candidates"
        if self.encoded:
            return "target is not among the encoded words (the first words of each lexicon language)"
        if self.pool is not None:
            return "target is not in the lexicon"
        return "target is not a single token (a composed target needs pool=words)"


def candidates_of(model: LoadedModel, request: r.EvaluateRequest, space: str) -> Candidates:
    encoder = space == "encoder"
    if request.candidates is not None:
        if request.pool == "words" or request.target_scripts:
            raise InvalidInput("candidates replace pool and target_scripts: give one", field="candidates")
        chosen = encoded_given(model, request.candidates) if encoder else given(model, request.candidates)
        return Candidates(chosen.space, chosen.r, chosen.names, given=chosen)
    if request.pool == "words" or encoder:
        pool = model.words_in(space)
        if request.target_scripts:
            raise InvalidInput("pool=words ranks the words of the pairs' languages", field="target_scripts")
        return Candidates(pool.space, pool.r, pool.words, pool, encoded=encoder)
    return Candidates(model.space, model.csls_r, model.raw)


def _gold(model: LoadedModel, pairs: list[Pair], pooling: PoolingRule, candidates: Candidates) -> Gold:
    gold = Gold()
    for pair in pairs:
        key = _source_key(model, gold, pair.source, pooling)
        wanted = candidates.targets(model, pair.target, pair.language)
        if key is None or not wanted:
            reason = "source has no piece with a vector" if key is None else candidates.missing
            gold.skipped.append(s.SkippedPair(source=pair.source, target=pair.target, reason=reason))
            continue
        gold.covered.append(pair)
        gold.pairs.setdefault(key, set()).update(wanted)
        for group, name in (
            (gold.by_language, _language(pair)),
            (gold.by_part_of_speech, pair.part_of_speech),
        ):
            if name is not None:
                group.setdefault(name, {}).setdefault(key, set()).update(wanted)
        gold.names[key] = pair.source
    if not gold.pairs:
        raise NothingToFit(
            "no pair has a source with a vector and a target among the candidates",
            field="dictionary",
            skipped=gold.skipped[:20],
        )
    return gold


def _language_pool(
    model: LoadedModel, request: r.EvaluateRequest, candidates: Candidates, lang: str, allowed: np.ndarray
) -> np.ndarray:
    if candidates.pool is not None:
        return candidates.pool.language_rows([lang])
    if candidates.given is not None:
        return allowed
    if request.language_pool == "language":
        return np.flatnonzero(model.language_mask([lang]) & (model.space.norms > 0))
    return allowed


def _skipped_languages(
    model: LoadedModel, request: r.EvaluateRequest, pairs: list[Pair], candidates: Candidates
) -> dict[str, str]:
    """Target languages the pairs name that have no candidates here, and why: they are left out of
    the per-language results (their pairs count as not covered), the rest is evaluated."""
    named = sorted({lang for lang in map(_language, pairs) if lang})
    out = {}
    for lang in named:
        if candidates.pool is not None and candidates.pool.lacks([lang]):
            out[lang] = f"{model.name}'s lexicon has no words of {lang}"
        elif not candidates.other_space and request.language_pool == "language":
            try:
                model.language_mask([lang])
            except DomainError as exc:
                out[lang] = exc.detail
    return out


def _per_language(
    model: LoadedModel,
    request: r.EvaluateRequest,
    gold: Gold,
    allowed: np.ndarray,
    candidates: Candidates,
    pairs: list[Pair],
) -> dict[str, s.LanguagePrecision]:
    """P@k per target language, among the target scripts' tokens or that language's (language_pool);
    against the lexicon, among that language's words."""
    named, covered, sources_of = _group_counts(pairs, gold.covered, _language)
    skipped = _skipped_languages(model, request, pairs, candidates)
    out = {}
    for lang, lang_gold in sorted(gold.by_language.items()):
        if lang in skipped:
            continue
        pool = _language_pool(model, request, candidates, lang, allowed)
        keys = sorted(lang_gold)
        wanted = [lang_gold[key] for key in keys]
        sources, composed = gold.queries(model, keys, candidates.other_space)
        result = evaluate(candidates.space, sources, wanted, pool, candidates.r, composed, candidates.heads)
        in_pool = np.isin(np.array([t for want in wanted for t in want]), pool)
        per_want = np.split(in_pool, np.cumsum([len(w) for w in wanted])[:-1])
        reachable = float(np.mean([part.any() for part in per_want]))
        out[lang] = s.LanguagePrecision(
            pairs=named[lang],
            covered=covered[lang],
            queries=len(sources),
            precision=result.precision,
            pool=request.language_pool,
            candidates=len(pool),
            reachable=round(reachable, 4),
            sources=sources_of[lang],
            precision_all=over_all(result.precision, len(sources), sources_of[lang]),
        )
    return out


def over_all(
    precision: dict[str, dict[str, float]], reached: int, sources: int
) -> dict[str, dict[str, float]]:
    """P@k over all `sources` from P@k over the `reached` ones (the rest are misses)."""
    return {
        method: {at: round(value * reached / max(sources, 1), 4) for at, value in values.items()}
        for method, values in precision.items()
    }


def _allowed(
    model: LoadedModel, request: r.EvaluateRequest, gold: Gold, candidates: Candidates
) -> tuple[list[str], np.ndarray]:
    """(target scripts, or the pool's languages, and the candidate ids the targets are ranked among)."""
    if candidates.pool is not None:
        pool = candidates.pool
        named = sorted(gold.by_language) or pool.languages
        return named, pool.language_rows(named)
    if candidates.given is not None:
        return ["(the given candidates)"], np.arange(len(candidates.names))
    targets = request.target_scripts
    if not targets:
        with at("scheme"):
            labels = model.scheme(request.scheme)
        targets = sorted({labels.names[int(labels.codes[t])] for want in gold.pairs.values() for t in want})
    with at("target_scripts"):
        return targets, model.label_ids(request.scheme, targets)


def _by_pieces(
    result: Evaluation, wanted: list[set[int]], candidates: Candidates
) -> dict[str, dict[str, dict[str, float]]]:
    """P@1/5/10 by the pieces of each query's closest gold target (1, 2, 3+): what a lookup of a word
    the vocabulary splits costs in precision. Token candidates are one piece each."""
    pieces = [min(candidates.pieces(t) for t in want) for want in wanted]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, low in (("1", 1), ("2", 2), ("3+", 3)):
        rows = [(i, wanted[i]) for i, n in enumerate(pieces) if n == low or (name == "3+" and n >= 3)]
        if rows:
            out[name] = {
                method: _rounded(values) | {"queries": float(len(rows))}
                for method, values in result.precision_of(rows).items()
            }
    return out


def _by_part_of_speech(
    result: Evaluation, keys: list[int], gold: Gold, pairs: list[Pair]
) -> dict[str, s.PartOfSpeechPrecision]:
    """P@k per part of speech the pairs name, from the one ranking of every source: a query counts
    for a part of speech when a target its pairs of that part of speech give is among its first k."""
    row_of = {key: row for row, key in enumerate(keys)}
    named, covered, sources_of = _group_counts(pairs, gold.covered, lambda pair: pair.part_of_speech)
    out = {}
    for name, by_source in sorted(gold.by_part_of_speech.items()):
        precision = {
            method: _rounded(values)
            for method, values in result.precision_of(
                [(row_of[k], want) for k, want in by_source.items()]
            ).items()
        }
        out[name] = s.PartOfSpeechPrecision(
            pairs=named[name],
            covered=covered[name],
            sources=sources_of[name],
            queries=len(by_source),
            precision=precision,
            precision_all=over_all(precision, len(by_source), sources_of[name]),
        )
    return out


def _group_counts(
    pairs: list[Pair], covered: list[Pair], name_of: Callable[[Pair], str | None]
) -> tuple[Counter[str], Counter[str], dict[str, int]]:
    """Per group that `name_of` puts pairs in (target language, part of speech): its pairs, those
    covered, and its distinct source words."""
    named = Counter(name for name in map(name_of, pairs) if name)
    sources: dict[str, set[str]] = {}
    for pair in pairs:
        if name := name_of(pair):
            sources.setdefault(name, set()).add(pair.source)
    covered_named = Counter(name for name in map(name_of, covered) if name)
    return named, covered_named, {name: len(words) for name, words in sources.items()}


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {at: round(value, 4) for at, value in values.items()}


def _language(pair: Pair) -> str | None:
    return None if pair.language is None else base_language(pair.language) or pair.language


def upfront_work(
    model: LoadedModel, request: r.EvaluateRequest, limits: Limits
) -> tuple[list[Pair], str, Work]:
    """(the pairs, the space that ranks, the work known before anything is resolved: resolving the
    pairs and, in the encoder space, encoding every distinct source and given candidate)."""
    pairs = _dictionary_pairs(request, limits.max_dictionary_pairs)
    space = chosen_space(model, request)
    work = Work().pairs(len(pairs))
    if space == "encoder":
        texts = list({pair.source for pair in pairs}) + list(request.candidates or [])
        work = encoding_work(model, len(texts), sum(map(len, texts)), work)
    return pairs, space, work


def evaluation_job(model: LoadedModel, request: r.EvaluateRequest, limits: Limits) -> tuple[Compute, Work]:
    """A dictionary too large for one request's budget, evaluated as a job (202, polled) within the
    job budget instead."""
    job_limits = replace(limits, max_evaluation_seconds=limits.max_job_seconds)
    work = upfront_work(model, request, limits)[2]
    return timed(lambda _: evaluate_dictionary(model, request, job_limits), lambda out, _: out), work


def evaluate_dictionary(
    model: LoadedModel, request: r.EvaluateRequest, limits: Limits = DEFAULT_LIMITS
) -> s.EvaluateOut:
    pairs, space, work = upfront_work(model, request, limits)  # refused before resolving, if too much
    check_work(work, limits.max_evaluation_seconds, "max_evaluation_seconds", "dictionary", ADVICE)
    candidates = candidates_of(model, request, space)
    gold = _gold(model, pairs, request.pooling, candidates)
    targets, allowed = _allowed(model, request, gold, candidates)
    keys = sorted(gold.pairs)
    wanted = [gold.pairs[key] for key in keys]
    # their CSLS means: a scan of the vocabulary (in the encoder space: of the encoded words, fewer)
    composed_count = len(keys) if space == "encoder" else sum(1 for key in keys if key < 0)
    work = work.scans(composed_count, len(model.space.indexed), model.manifest.dim)
    # all sources against the pool, then each language's sources again (against at most the pool)
    scans = len(keys) + sum(len(sources_of) for sources_of in gold.by_language.values())
    work = work.ranking(scans, max(len(allowed), 1), model.manifest.dim)
    check_work(work, limits.max_evaluation_seconds, "max_evaluation_seconds", "dictionary", ADVICE)
    if space == "encoder":
        gold.encode(model.encoded())
    sources, composed = gold.queries(model, keys, candidates.other_space)
    result = evaluate(candidates.space, sources, wanted, allowed, candidates.r, composed, candidates.heads)
    misses = None
    if request.include_misses:
        misses = [
            s.Miss(
                source=gold.names[key],
                gold=[candidates.names[t] for t in sorted(want)],
                cosine_top=[candidates.names[t] for t in result.ranks["cosine"][row]],
                csls_top=[candidates.names[t] for t in result.ranks["csls"][row]],
            )
            for row, (key, want) in enumerate(zip(keys, wanted, strict=True))
            if not set(result.ranks["csls"][row][:1]) & result.as_ranked(want)
        ]
    return s.EvaluateOut(
        model=model.name,
        space=space,  # type: ignore[arg-type]
        pairs=len(pairs),
        covered_pairs=len(pairs) - len(gold.skipped),
        queries=len(sources),
        target_scripts=targets,
        candidates=len(allowed),
        precision=result.precision,
        skipped=gold.skipped,
        misses=misses,
        by_language=_per_language(model, request, gold, allowed, candidates, pairs) or None,
        skipped_languages=_skipped_languages(model, request, pairs, candidates) or None,
        by_pieces=_by_pieces(result, wanted, candidates),
        by_part_of_speech=_by_part_of_speech(result, keys, gold, pairs) or None,
        single_token_queries=sum(1 for key in keys if key >= 0),
        composed_queries=sum(1 for key in keys if key < 0),
        reachable=round(float(np.mean([bool(np.isin(list(w), allowed).any()) for w in wanted])), 4),
        sources=(every := len({pair.source for pair in pairs})),
        precision_all=over_all(result.precision, len(sources), every),
    )
