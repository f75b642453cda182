"""Queries in the encoder space (`space=encoder`): each query's text encoded by the model's whole
encoder at request time, and ranked among the encoded lexicon words (service/encoder_spaces.py).

A token or id query is encoded as its text (the word mark dropped); a text as given; a vector is
taken as a vector of the encoder space. The query echo is the input space's (the token, or the
text's pieces), so answers say what the query was in both."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geometry.neighbors import Space
from service import request_types as r
from service import response_types as s
from service.lexicons import Given
from service.queries import given_candidates, word_search
from service.queries.answers import Found, QueriesOut, answered
from service.queries.plan import Plan
from service.queries.resolve import Resolved, normalized_vector, resolve_one
from service.queries.word_search import chosen_words, ranked_words
from service.registry import WORD_MARK, LoadedModel


def _word_of(echo: s.QueryOut) -> str:
    """The query's word as the encoder reads it: a text as given, a token without its word mark."""
    if echo.kind == "text" and echo.matched is not None:
        return echo.matched
    token = echo.token or ""
    return token.removeprefix(WORD_MARK) or token


def _queries(request: r.QueriesRequest) -> Sequence[r.Query | r.QueriesRequest]:
    return request.queries if request.queries is not None else [request]


def encoded_queries(model: LoadedModel, request: r.QueriesRequest) -> list[Resolved]:
    """The request's queries as encoder-space unit vectors (echoes as in the input space). Texts are
    encoded in one call."""
    space = model.encoded()
    batch = request.queries is not None
    echoes: list[s.QueryOut] = []
    texts: list[str] = []
    vectors: list[np.ndarray | None] = []  # None where a text is encoded below
    for i, query in enumerate(_queries(request)):
        where = f"queries[{i}]" if batch else ""
        if query.vector is not None:
            prefix = f"{where}." if where else ""
            vectors.append(normalized_vector(query.vector, space.info.dim, model.name, prefix))
            echoes.append(s.QueryOut(kind="vector"))
            continue
        echo = resolve_one(model, query, where, request.pooling)[2]
        texts.append(_word_of(echo))
        echoes.append(echo)
        vectors.append(None)
    encoded = iter(space.encode(texts)) if texts else iter(())
    filled = [vector if vector is not None else next(encoded) for vector in vectors]
    return [(vector, None, echo) for vector, echo in zip(filled, echoes, strict=True)]


def encoded_given(model: LoadedModel, words: Sequence[str]) -> Given:
    """Candidates an application has, encoded; their r among the encoded words."""
    space = model.encoded()
    matrix = space.encode(words)
    return Given(
        Space.of_rows(matrix), space.r_of(matrix), list(words), [1] * len(words), ["encoded"] * len(words)
    )


def neighbors(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Nearest encoded words of each query (all languages, or `languages`), by cosine; the query's
    own word is left out unless include_self."""
    request = plan.request
    assert isinstance(request, r.NeighborsRequest)
    words = model.encoded().words
    queries = encoded_queries(model, request)
    allowed = words.language_rows(request.languages) if request.languages else words.space.indexed
    found = []
    for (vector, _, echo), query in zip(queries, _queries(request), strict=True):
        own = set() if request.include_self or query.vector is not None else set(words.find(_word_of(echo)))
        ids, cos, _ = ranked_words(words, vector, None, allowed, plan.depth + len(own))
        keep = np.array([i not in own for i in ids.tolist()], dtype=bool)
        ranking = (ids[keep], cos[keep], None)
        found.append(Found(echo, ranking, chosen_words(words, request, ranking)))
    return answered(model, plan, found, words)


def translations(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Queries encoded and ranked among the encoded words (or the given candidates, encoded too);
    CSLS means among the encoded words."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    queries = encoded_queries(model, request)
    if plan.route == "encoder_words":
        return word_search.translations(model, plan, queries)
    return given_candidates.ranked_translations(
        model, plan, queries, encoded_given(model, request.candidates or [])
    )
