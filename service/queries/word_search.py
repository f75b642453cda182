"""Candidates among a lexicon's words (routes lexicon and encoder_words): frequent words of the
target languages, composed from their pieces (the input space) or encoded by the model's encoder, so
that a translation the vocabulary splits can be found."""

from __future__ import annotations

import numpy as np

from geometry.neighbors import exact_search
from geometry.shaping import above, grouped, page
from geometry.translation import CSLS_POOL
from service import request_types as r
from service import response_types as s
from service.lexicons import Lexicon
from service.queries.answers import Found, QueriesOut, answered
from service.queries.options import NOT_LANGUAGES, Ranking, Selection
from service.queries.plan import Plan
from service.queries.resolve import Resolved, query_r
from service.registry import LoadedModel


def _targets(pool: Lexicon, request: r.TranslationsRequest, echo: s.QueryOut) -> list[str]:
    """The target languages: as named, else every pool language but the query's own."""
    if request.target_languages:
        return request.target_languages
    own = (echo.labels or {}).get("language")
    return [code for code in pool.languages if code != own or own in NOT_LANGUAGES]


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
    model: LoadedModel, request: r.TranslationsRequest, resolved: list[Resolved]
) -> list[float | None]:
    """Each query's CSLS neighborhood mean in the space asked (encoder: among the encoded words);
    None for each when the method is cosine."""
    if request.method != "csls":
        return [None] * len(resolved)
    if request.space == "encoder" and resolved:
        means: list[float | None] = model.encoded().r_of(np.stack([v for v, _, _ in resolved])).tolist()
        return means
    return [query_r(model, vector, token) for vector, token, _ in resolved]


def translations(model: LoadedModel, plan: Plan, queries: list[Resolved]) -> QueriesOut:
    """Each query ranked among the words of its target languages (exact cosine; CSLS re-ranks a
    cosine shortlist as for tokens), in the space the request asks."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    pool = model.words_in(request.space)
    found = []
    for (vector, _, echo), r_query in zip(queries, query_means(model, request, queries), strict=True):
        targets = _targets(pool, request, echo)
        ranking = ranked_words(pool, vector, r_query, pool.language_rows(targets), plan.depth)
        found.append(Found(echo, ranking, chosen_words(pool, request, ranking), targets=([], targets)))
    return answered(model, plan, found, pool)
