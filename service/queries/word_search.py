"""Candidates among a lexicon's words (routes lexicon and encoder_words): frequent words of the
target languages, composed from their pieces (the input space) or encoded by the model's encoder, so
that a translation the vocabulary splits can be found."""

from __future__ import annotations

import msgspec
import numpy as np

from geometry.neighbors import exact_search, normalize
from geometry.pooling import PoolingRule, phrase_weights
from geometry.shaping import above, grouped, page
from geometry.translation import CSLS_POOL
from service import request_types as r
from service import response_types as s
from service.errors import DomainError
from service.lexicons import Lexicon
from service.queries.answers import Found, QueriesOut, answered
from service.queries.encoder_queries import encoded, encoded_queries, located, queries_of, word_of
from service.queries.options import NOT_LANGUAGES, Ranking, Selection
from service.queries.plan import Plan
from service.queries.resolve import Resolved, query_r, resolve_one
from service.registry import LoadedModel

GROUPING_DEPTH = 4  # ranked words per dictionary form asked for (a form's inflections fill places)


def _targets(pool: Lexicon, request: r.TranslationsRequest, echo: s.QueryOut) -> list[str]:
    """The target languages: as named, else every pool language but the query's own (its lexicon
    language, else its token's language label)."""
    if request.target_languages:
        return request.target_languages
    own = echo.word_language or (echo.labels or {}).get("language")
    return [code for code in pool.languages if code != own or own in NOT_LANGUAGES]


def word_queries(model: LoadedModel, plan: Plan, pool: Lexicon) -> list[tuple[Resolved, float | None]]:
    """Each query and its CSLS mean (None: cosine). A text the lexicon holds (in source_language, else
    where it is most frequent) is that word: its row, its r, an echo saying which word, and nothing
    composed or encoded; other queries are resolved in the space that answers (`resolve_one`, or
    encoded by the model's encoder)."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    queries = located(request)
    rows = [None if q.text is None else pool.written(q.text, request.source_language) for _, q in queries]
    rest = [one for one, row in zip(queries, rows, strict=True) if row is None]
    if plan.space == "encoder":  # the encoder reads a phrase whole
        others = iter(encoded(model, rest, request.pooling))
    else:
        others = iter([_phrase_or_text(model, pool, query, where, request) for where, query in rest])
    resolved = [
        next(others) if row is None else _lexicon_query(model, pool, row, (where, q), request.pooling)
        for (where, q), row in zip(queries, rows, strict=True)
    ]
    means = query_means(
        model, request, [one for one, row in zip(resolved, rows, strict=True) if row is None], plan.space
    )
    own = iter(means)
    csls = request.method == "csls"
    return [
        (one, next(own) if row is None else (float(pool.r[row]) if csls else None))
        for one, row in zip(resolved, rows, strict=True)
    ]


def _phrase_or_text(
    model: LoadedModel,
    pool: Lexicon,
    query: r.Query | r.QueriesRequest,
    where: str,
    request: r.TranslationsRequest,
) -> Resolved:
    """A query resolved in the input space: a phrase whose words the lexicon all holds (*to eat*,
    *ice cream*) as its words' rows weighted by how rare each is (`phrase_weights`), so that *to*
    does not rank infinitives first; any other text as its pieces pooled (`resolve_one`)."""
    vector, token, echo = resolve_one(model, query, where, request.pooling)
    words = (query.text or "").split()
    rows = [pool.written(word, request.source_language) for word in words]
    if len(words) < 2 or None in rows:
        return vector, token, echo
    found = np.array(rows, dtype=np.int64)
    weights = phrase_weights(*pool.places(found))
    return normalize(weights @ pool.space.unit(found)), None, echo


def _lexicon_query(
    model: LoadedModel,
    pool: Lexicon,
    row: int,
    query: tuple[str, r.Query | r.QueriesRequest],
    pooling: PoolingRule,
) -> Resolved:
    """A query found as lexicon word `row`: that word's row, and the text's echo (its pieces and
    labels, where the tokenizer can compose it) naming the word and its language."""
    word, language = pool.words[row], pool.languages[int(pool.language[row])]
    try:
        echo = resolve_one(model, query[1], query[0], pooling)[2]
    except DomainError:  # no usable piece: the lexicon knows the word all the same
        echo = s.QueryOut(kind="text", matched=query[1].text, labels={"language": language})
    found = msgspec.structs.replace(echo, word=word, word_language=language)
    return pool.space.unit(np.array([row]))[0], None, found


def ranked_words(
    pool: Lexicon, vector: np.ndarray, r_query: float | None, allowed: np.ndarray, depth: int
) -> Ranking:
    """(word rows best first, cosine, CSLS or None) of one query among the `allowed` rows: by cosine,
    or (given the query's r) by CSLS over a cosine shortlist."""
    shortlist = depth if r_query is None else max(CSLS_POOL * depth, 100)
    hits = exact_search(pool.space, vector, min(shortlist, len(allowed)), allowed)
    if r_query is None:
        return hits.ids[:depth], hits.sims[:depth], None
    scores = 2 * hits.sims - r_query - pool.r[hits.ids]
    order = np.lexsort((hits.ids, -scores))[:depth]
    return hits.ids[order], hits.sims[order], scores[order].astype(np.float32)


def by_dictionary_form(pool: Lexicon, ranking: Ranking, depth: int) -> tuple[Ranking, list[list[str]]]:
    """The ranking with inflected forms grouped under their dictionary form (собак, собаку, собаки
    under собака): each form's first place goes to its dictionary form, with the best score of its
    forms; the forms found (best first, the dictionary form itself left out) beside each."""
    ids, cos, csls = ranking
    heads = pool.heads(ids)
    place: dict[int, int] = {}
    kept: list[int] = []
    forms: list[list[str]] = []
    for position, (row, head) in enumerate(zip(ids.tolist(), heads.tolist(), strict=True)):
        if head not in place:
            place[head] = len(kept)
            kept.append(position)
            forms.append([])
        if row != head:
            forms[place[head]].append(pool.words[row])
    chosen = np.asarray(kept[:depth], dtype=np.int64)
    grouped_ranking = (heads[chosen], cos[chosen], None if csls is None else csls[chosen])
    return grouped_ranking, forms[:depth]


def lookup(
    pool: Lexicon, vector: np.ndarray, r_query: float | None, allowed: np.ndarray, depth: int
) -> tuple[Ranking, list[list[str]] | None]:
    """A word lookup's ranking: its words grouped under their dictionary forms where the lexicon knows
    them (looking deeper, so that `depth` dictionary forms are found), else as ranked."""
    if not (pool.lemma >= 0).any():
        return ranked_words(pool, vector, r_query, allowed, depth), None
    return by_dictionary_form(
        pool, ranked_words(pool, vector, r_query, allowed, GROUPING_DEPTH * depth), depth
    )


def chosen_words(pool: Lexicon, request: r.QueriesRequest, ranking: Ranking) -> Selection:
    """What one query answers of its ranked words: min_similarity, then groups by language or a page."""
    ids, cos, _ = ranking
    keep = np.arange(len(ids))
    if request.min_similarity is not None:
        keep = keep[above(cos[keep], request.min_similarity)]
    if request.group_by == "language":
        found = grouped(pool.language[ids[keep]], request.group_size, request.k)
        return Selection(None, [(pool.languages[c], keep[m]) for c, m in found], 1, None)
    offset = int(request.cursor or 0)
    shown, after = page(keep[: request.k], offset, request.limit)
    return Selection(shown, None, offset + 1, None if after is None else str(after))


def query_means(
    model: LoadedModel, request: r.TranslationsRequest, resolved: list[Resolved], space: str
) -> list[float | None]:
    """Each query's CSLS neighborhood mean in the space that answers (encoder: among the encoded
    words); None for each when the method is cosine."""
    if request.method != "csls":
        return [None] * len(resolved)
    if space == "encoder" and resolved:
        means: list[float | None] = model.encoded().r_of(np.stack([v for v, _, _ in resolved])).tolist()
        return means
    return [query_r(model, vector, token) for vector, token, _ in resolved]


def translations(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Each query ranked among the words of its target languages (exact cosine; CSLS re-ranks a
    cosine shortlist as for tokens), in the space the request asks."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    pool = model.words_in(plan.space)
    found = []
    for (vector, _, echo), r_query in word_queries(model, plan, pool):
        targets = _targets(pool, request, echo)
        ranking, forms = lookup(pool, vector, r_query, pool.language_rows(targets), plan.depth)
        chosen = chosen_words(pool, request, ranking)
        found.append(Found(echo, ranking, chosen, targets=([], targets), forms=forms))
    return answered(model, plan, found, pool)


def neighbors(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Nearest encoded words of each query (all languages, or `languages`), by cosine; the query's
    own word is left out unless include_self."""
    request = plan.request
    assert isinstance(request, r.NeighborsRequest)
    words = model.encoded().words
    queries = encoded_queries(model, request)
    allowed = words.language_rows(request.languages) if request.languages else words.space.indexed
    found = []
    for (vector, _, echo), query in zip(queries, queries_of(request), strict=True):
        own = set() if request.include_self or query.vector is not None else set(words.find(word_of(echo)))
        ids, cos, _ = ranked_words(words, vector, None, allowed, plan.depth + len(own))
        keep = np.array([i not in own for i in ids.tolist()], dtype=bool)
        ranking = (ids[keep], cos[keep], None)
        found.append(Found(echo, ranking, chosen_words(words, request, ranking)))
    return answered(model, plan, found, words)
