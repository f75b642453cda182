"""Query use-cases over a loaded model: tokens, neighbours, translations, dictionary evaluation.

Between the HTTP layer (which only decodes and encodes) and the pure analysis functions: resolves
tokens and filters against the model, calls the analysis, and builds response Structs.
"""

from __future__ import annotations

import time

import numpy as np

from service import schemas as s
from service.analysis.neighbors import normalise, search
from service.analysis.translation import CSLS_K, Pair, evaluate, parse_dictionary, translate
from service.errors import BadRequest, TooLarge
from service.language_labels import base_language
from service.metrics import metrics
from service.models import WORD_MARK, LoadedModel

FLOAT32_MAX = float(np.finfo(np.float32).max)


def languages_out(model: LoadedModel, ids: np.ndarray) -> list[s.LanguageOut | None]:
    details = model.languages_of(np.asarray(ids, dtype=np.int64))
    if details is None:
        return [None] * len(ids)
    return [s.LanguageOut(**vars(d)) for d in details]


def language_out(model: LoadedModel, ident: int) -> s.LanguageOut | None:
    return languages_out(model, np.array([ident]))[0]


def token_out(model: LoadedModel, ident: int) -> s.TokenOut:
    return s.TokenOut(
        ident,
        model.raw[ident],
        model.display[ident],
        model.kind_of(ident),
        model.label_of(ident),
        language_out(model, ident),
    )


def find_tokens(
    model: LoadedModel,
    q: str,
    match: str,
    script: str | None,
    scheme: str,
    limit: int,
    cursor: int,
    language: str | None = None,
) -> s.TokenPage:
    tried = [q] if q.startswith(WORD_MARK) else [q, WORD_MARK + q]
    if match == "exact":
        found = model.lookup(q)
        ids = [found[0]] if found else []
        matched = found[1] if found else "none"
    else:
        seen: dict[int, None] = {}
        for text in tried:
            seen.update(dict.fromkeys(model.prefix(text)))
        ids, matched = list(seen), "prefix"
    masks = [model.label_mask(scheme, [script], "script")] if script else []
    masks += [model.language_mask([language], "language")] if language else []
    if masks:
        keep = np.logical_and.reduce(masks)
        ids = [i for i in ids if keep[i]]
    page = ids[cursor : cursor + limit]
    more = cursor + limit < len(ids)
    return s.TokenPage(
        q, matched, tried, [token_out(model, i) for i in page], str(cursor + limit) if more else None
    )


def _query(model: LoadedModel, query: s.Query, where: str) -> tuple[np.ndarray, int | None, s.QueryOut]:
    """(unit vector, token id or None, echo) of one query with exactly one of token/id/vector."""
    given = [name for name in ("token", "id", "vector") if getattr(query, name) is not None]
    if len(given) != 1:
        raise BadRequest(where, "give exactly one of token, id or vector")
    if query.vector is not None:
        if len(query.vector) != model.manifest.dim:
            raise BadRequest(
                f"{where}.vector",
                f"vector has {len(query.vector)} values, {model.name} has dimension {model.manifest.dim}",
            )
        vector = np.asarray(query.vector, dtype=np.float64)  # float32 would overflow silently to inf
        if not np.isfinite(vector).all() or np.abs(vector).max() > FLOAT32_MAX or not vector.any():
            raise BadRequest(f"{where}.vector", "vector values must be finite float32 numbers, not all zeros")
        return normalise(vector.astype(np.float32)), None, s.QueryOut("vector")
    if query.token is not None:
        ident, matched = model.resolve(query.token, f"{where}.token")
        kind = "token"
    else:
        ident, matched, kind = model.check_id(int(query.id or 0), f"{where}.id"), "id", "id"
    if model.space.norms[ident] == 0:
        raise BadRequest(
            where, f"token {ident} ({model.raw[ident]!r}) is a special or zero row and has no neighbours"
        )
    echo = s.QueryOut(
        kind,  # type: ignore[arg-type]
        ident,
        model.raw[ident],
        model.display[ident],
        matched,
        model.label_of(ident),
        language_out(model, ident),
    )
    return model.space.unit(np.array([ident]))[0], ident, echo


def _items(
    model: LoadedModel, ids: np.ndarray, sims: np.ndarray, csls: np.ndarray | None = None
) -> list[s.NeighborOut]:
    languages = languages_out(model, ids)
    return [
        s.NeighborOut(
            rank=rank,
            id=int(i),
            token=model.raw[int(i)],
            display=model.display[int(i)],
            similarity=round(float(sim), 6),
            kind=model.kind_of(int(i)),
            labels=model.label_of(int(i)),
            csls=None if csls is None else round(float(csls[rank - 1]), 6),
            language=languages[rank - 1],
        )
        for rank, (i, sim) in enumerate(zip(ids, sims, strict=True), start=1)
    ]


def check_k(k: int, max_k: int) -> None:
    if not 1 <= k <= max_k:
        raise BadRequest("k", f"k must be between 1 and {max_k}, got {k}")


def neighbors(
    model: LoadedModel,
    query: s.Query,
    k: int,
    scheme: str,
    scripts: list[str] | None,
    exclude: list[str] | None,
    exact: bool,
    include_self: bool,
    where: str = "query",
    languages: list[str] | None = None,
) -> s.NeighborsOut:
    vector, token, echo = _query(model, query, where)
    allowed = model.allowed(scheme, scripts, exclude, languages=languages)
    started = time.perf_counter()
    hits = search(model.space, vector, k, token=token, allowed=allowed, exact=exact)
    metrics().search_seconds.labels(hits.method).observe(time.perf_counter() - started)
    ids, sims = hits.ids, hits.sims
    if include_self and token is not None and (allowed is None or token in set(allowed.tolist())):
        ids, sims = np.concatenate([[token], ids])[:k], np.concatenate([[1.0], sims])[:k]
    return s.NeighborsOut(
        model.name,
        echo,
        k,
        scheme,
        scripts,
        exclude,
        include_self,
        languages,
        hits.method,
        _items(model, ids, sims),
    )


def _target_ids(
    model: LoadedModel, scheme: str, targets: list[str] | None, query_ids: list[int]
) -> tuple[np.ndarray, list[str]]:
    """Targets given, or every script except those of the queries (and Common/Mixed/Special)."""
    labels = model.scheme(scheme)
    if targets:
        return model.label_ids(scheme, targets, "target_scripts"), targets
    own = {labels.names[int(labels.codes[i])] for i in query_ids}
    neutral = {"Common", "Mixed", "Special", "EMPTY", "N", "P", "S", "M", "C", "Z"}
    names = [n for n in labels.names if n not in own and n not in neutral]
    return model.label_ids(scheme, names, "target_scripts"), names


def translations(
    model: LoadedModel,
    query: s.Query,
    k: int,
    method: s.Method,
    scheme: str,
    targets: list[str] | None,
    where: str = "query",
    languages: list[str] | None = None,
) -> s.TranslationsOut:
    vector, token, echo = _query(model, query, where)
    if languages:  # the languages pick the candidates; target_scripts, when given, narrow them
        allowed = model.allowed(scheme, targets, None, "target_scripts", languages, "target_languages")
        names = targets or []
    else:
        allowed, names = _target_ids(model, scheme, targets, [token] if token is not None else [])
    if token is None and not targets and not languages:
        raise BadRequest(
            "target_scripts",
            "a vector query has no script of its own: name target_scripts or target_languages",
        )
    assert allowed is not None
    ranked = translate(model.space, vector, k, allowed, method, model.csls_r, token)
    return s.TranslationsOut(
        model.name,
        echo,
        k,
        method,
        scheme,
        names,
        languages,
        CSLS_K,  # type: ignore[arg-type]
        _items(model, ranked.ids, ranked.cosine, ranked.csls),
    )


def _dictionary_pairs(request: s.EvaluateRequest, max_pairs: int) -> list[Pair]:
    if (request.dictionary is None) == (request.pairs is None):
        raise BadRequest("dictionary", "give exactly one of dictionary (MUSE text) or pairs (JSON)")
    if request.dictionary is not None:
        try:
            pairs = parse_dictionary(request.dictionary, max_pairs)
        except ValueError as exc:
            raise BadRequest("dictionary", str(exc)) from exc
        except OverflowError as exc:
            raise TooLarge(
                f"dictionary has {exc}; the limit is {max_pairs} pairs", field="dictionary"
            ) from exc
    else:
        pairs = [
            (p.source, p.target, p.language)
            if isinstance(p, s.DictionaryPair)
            else (p[0], p[1], p[2] if len(p) == 3 else None)
            for p in request.pairs or []
        ]
        if len(pairs) > max_pairs:
            raise TooLarge(f"{len(pairs)} pairs; the limit is {max_pairs}", field="pairs")
    if not pairs:
        raise BadRequest("dictionary", "the dictionary holds no pairs")
    for number, (_, _, lang) in enumerate(pairs, start=1):
        if lang is not None and base_language(lang) is None:
            raise BadRequest("dictionary", f"pair {number}: {lang!r} is not an ISO 639 language code")
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


def evaluate_dictionary(model: LoadedModel, request: s.EvaluateRequest, max_pairs: int) -> s.EvaluateOut:
    pairs = _dictionary_pairs(request, max_pairs)
    gold: dict[int, set[int]] = {}
    by_language: dict[str, dict[int, set[int]]] = {}  # target language -> source -> targets
    names: dict[int, str] = {}
    skipped: list[s.SkippedPair] = []
    for source, target, lang in pairs:
        src, tgt = model.lookup(source, prefer_word=True), model.lookup(target, prefer_word=True)
        reason = _skip_reason(model, src, tgt)
        if reason is not None or src is None or tgt is None:
            skipped.append(s.SkippedPair(source, target, reason or "not a token"))
            continue
        gold.setdefault(src[0], set()).add(tgt[0])
        if lang is not None:
            by_language.setdefault(base_language(lang) or lang, {}).setdefault(src[0], set()).add(tgt[0])
        names[src[0]] = source
    if not gold:
        raise BadRequest("dictionary", "no pair has single-token source and target", skipped=skipped[:20])
    targets = request.target_scripts
    if not targets:
        labels = model.scheme(request.scheme)
        targets = sorted({labels.names[int(labels.codes[t])] for want in gold.values() for t in want})
    allowed = model.label_ids(request.scheme, targets, "target_scripts")
    sources = np.array(sorted(gold), dtype=np.int64)
    wanted = [gold[int(i)] for i in sources]
    result = evaluate(model.space, sources, wanted, allowed, model.csls_r)
    per_language = {}
    for lang, lang_gold in sorted(by_language.items()):
        pool = allowed
        if request.language_pool == "language":
            pool = np.flatnonzero(model.language_mask([lang], "dictionary") & (model.space.norms > 0))
        lang_sources = np.array(sorted(lang_gold), dtype=np.int64)
        lang_wanted = [lang_gold[int(i)] for i in lang_sources]
        lang_result = evaluate(model.space, lang_sources, lang_wanted, pool, model.csls_r)
        in_pool = np.isin(np.array([t for want in lang_wanted for t in want]), pool)
        per_want = np.split(in_pool, np.cumsum([len(w) for w in lang_wanted])[:-1])
        reachable = float(np.mean([part.any() for part in per_want]))
        per_language[lang] = s.LanguagePrecision(
            len(lang_sources), lang_result.precision, request.language_pool, len(pool), round(reachable, 4)
        )
    misses = None
    if request.include_misses:
        misses = [
            s.Miss(
                names[int(src)],
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
        len(pairs) - len(skipped),
        len(sources),
        targets,
        len(allowed),
        result.precision,
        skipped,
        misses,
        per_language or None,
    )
