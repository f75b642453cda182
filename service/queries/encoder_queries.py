"""Queries in the encoder space (`space=encoder`): each query's text encoded by the model's whole
encoder at request time (service/encoder_spaces.py); `word_search` ranks them among the encoded
lexicon words, `given_candidates` among the given candidates, encoded too.

A token or id query is encoded as its text (the word mark dropped); a text as given; a vector is
taken as a vector of the encoder space. The query echo is the input space's (the token, or the
text's pieces), so answers say what the query was in both."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geometry.neighbors import Space
from geometry.pooling import PoolingRule
from service import request_types as r
from service import response_types as s
from service.lexicons import Given
from service.queries.resolve import Resolved, normalized_vector, resolve_one
from service.registry import WORD_MARK, LoadedModel


def word_of(echo: s.QueryOut) -> str:
    """The query's word as the encoder reads it: a text as given, a token without its word mark."""
    if echo.kind == "text" and echo.matched is not None:
        return echo.matched
    token = echo.token or ""
    return token.removeprefix(WORD_MARK) or token


def queries_of(request: r.QueriesRequest) -> Sequence[r.Query | r.QueriesRequest]:
    return request.queries if request.queries is not None else [request]


def located(request: r.QueriesRequest) -> list[tuple[str, r.Query | r.QueriesRequest]]:
    """Each query with the request field its errors name ("" for a single query)."""
    batch = request.queries is not None
    return [(f"queries[{i}]" if batch else "", query) for i, query in enumerate(queries_of(request))]


def encoded_queries(model: LoadedModel, request: r.QueriesRequest) -> list[Resolved]:
    """The request's queries as encoder-space unit vectors (echoes as in the input space)."""
    return encoded(model, located(request), request.pooling)


def encoded(
    model: LoadedModel, queries: Sequence[tuple[str, r.Query | r.QueriesRequest]], pooling: PoolingRule
) -> list[Resolved]:
    """Queries (each with the field its errors name) as encoder-space unit vectors, echoes as in the
    input space; their texts are encoded in one call."""
    space = model.encoded()
    echoes: list[s.QueryOut] = []
    texts: list[str] = []
    vectors: list[np.ndarray | None] = []  # None where a text is encoded below
    for where, query in queries:
        if query.vector is not None:
            prefix = f"{where}." if where else ""
            vectors.append(normalized_vector(query.vector, space.info.dim, model.name, prefix))
            echoes.append(s.QueryOut(kind="vector"))
            continue
        echo = resolve_one(model, query, where, pooling)[2]
        texts.append(word_of(echo))
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
