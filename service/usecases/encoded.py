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
from service.errors import InvalidInput
from service.registry import WORD_MARK, LoadedModel
from service.settings import Limits
from service.usecases.budget import Work, check_query_work
from service.usecases.given import Given
from service.usecases.plan import plan
from service.usecases.resolving import DEFAULT_LIMITS, Resolved, normalised_vector, resolve_one
from service.usecases.shaping import neighbors_out
from service.usecases.words import ranked_words, shaped_words

INPUT_ONLY = ("positive", "exact", "approximate", "exclude_anomalous", "mutual", "mmr", "target_scripts")


def check_encoder_request(model: LoadedModel, request: r.QueriesRequest) -> None:
    model.encoded()  # a 400 saying why when there is none
    for option in INPUT_ONLY:
        if getattr(request, option, None):
            raise InvalidInput(f"{option} is not available with space=encoder", field=option)
    for option in ("scripts", "exclude_scripts"):
        if getattr(request, option, None):
            raise InvalidInput(f"space=encoder filters by languages, not {option}", field=option)
    if request.group_by == "script":
        raise InvalidInput("space=encoder groups by language only", field="group_by")


def encoding_work(model: LoadedModel, texts: int, work: Work | None = None) -> Work:
    """Encoding `texts` at the rate the encoder space was built at (e5 260 words/s on 2 cores)."""
    work = work or Work()
    rate = model.encoded().info.words_per_second
    return work.add("encoding", texts / max(rate, 1.0)) if texts else work


def _word_of(echo: s.QueryOut) -> str:
    """The query's word as the encoder reads it: a text as given, a token without its word mark."""
    if echo.kind == "text" and echo.matched is not None:
        return echo.matched
    token = echo.token or ""
    return token.removeprefix(WORD_MARK) or token


def _queries(request: r.QueriesRequest) -> Sequence[r.Query | r.QueriesRequest]:
    return request.queries if request.queries is not None else [request]


def encoded_queries(model: LoadedModel, request: r.QueriesRequest) -> tuple[list[Resolved], bool]:
    """The request's queries as encoder-space unit vectors (echoes as in the input space), and whether
    it was a batch. Texts are encoded in one call."""
    space = model.encoded()
    batch = request.queries is not None
    echoes: list[s.QueryOut] = []
    texts: list[str] = []
    vectors: list[np.ndarray | None] = []  # None where a text is encoded below
    for i, query in enumerate(_queries(request)):
        where = f"queries[{i}]" if batch else ""
        if query.vector is not None:
            prefix = f"{where}." if where else ""
            vectors.append(normalised_vector(query.vector, space.info.dim, model.name, prefix))
            echoes.append(s.QueryOut(kind="vector"))
            continue
        echo = resolve_one(model, query, where, request.pooling)[2]
        texts.append(_word_of(echo))
        echoes.append(echo)
        vectors.append(None)
    encoded = iter(space.encode(texts)) if texts else iter(())
    filled = [vector if vector is not None else next(encoded) for vector in vectors]
    return [(vector, None, echo) for vector, echo in zip(filled, echoes, strict=True)], batch


def encoded_given(model: LoadedModel, words: Sequence[str]) -> Given:
    """Candidates an application has, encoded; their r among the encoded words."""
    space = model.encoded()
    matrix = space.encode(words)
    return Given(
        Space.of_rows(matrix), space.r_of(matrix), list(words), [1] * len(words), ["encoded"] * len(words)
    )


def encoded_neighbors(
    model: LoadedModel, request: r.NeighborsRequest, limits: Limits = DEFAULT_LIMITS
) -> s.NeighborsOut | s.NeighborsBatchOut:
    """Nearest encoded words of each query (all languages, or `languages`), by cosine; the query's
    own word is left out unless include_self."""
    check_encoder_request(model, request)
    words = model.encoded().words
    unknown = sorted(set(request.languages or []) - set(words.languages))
    if unknown:
        raise InvalidInput(f"the encoder space holds {', '.join(words.languages)}", field="languages")
    steps = plan(model, request, limits)
    count = len(request.queries or [request])
    work = encoding_work(model, count, steps.work).scans(count, len(words.words), words.space.matrix.shape[1])
    check_query_work(work, limits, steps.field)
    resolved, batch = encoded_queries(model, request)
    allowed = words.language_rows(request.languages) if request.languages else words.space.indexed
    results = []
    for (vector, _, echo), query in zip(resolved, _queries(request), strict=True):
        own = set() if request.include_self or query.vector is not None else set(words.find(_word_of(echo)))
        ids, cos, _ = ranked_words(words, vector, None, allowed, steps.depth + len(own))
        keep = np.array([i not in own for i in ids.tolist()], dtype=bool)
        shown = shaped_words(words, request, (ids[keep], cos[keep], None))
        results.append(neighbors_out(model, request, echo, "exact", shown))
    return s.NeighborsBatchOut(model=model.name, results=results) if batch else results[0]
