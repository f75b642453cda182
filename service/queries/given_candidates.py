"""Candidates an application already has (`candidates=[...]`): each ranked in the model's space, for
verification and re-ranking. A candidate is a vocabulary token (as `token=` finds it), else a word of
the model's lexicon (matched however it is written), else a text composed from its pieces as
`text=` queries are. Its CSLS neighborhood mean r comes with it: the token's, the lexicon row's, or
the composed vector's over its pieces and their table neighbors (as the lexicon's are built)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geometry.neighbors import Space
from geometry.pooling import pool
from geometry.shaping import above
from geometry.translation import table_means
from loaders.artifact import poolable
from service import request_types as r
from service.errors import NoNeighbors
from service.lexicons import Given
from service.queries.answers import Found, QueriesOut, answered
from service.queries.encoder_queries import encoded_given, encoded_queries
from service.queries.options import Selection
from service.queries.plan import Plan
from service.queries.resolve import Resolved
from service.queries.word_search import query_means
from service.registry import LoadedModel


def given(model: LoadedModel, words: Sequence[str], field: str = "candidates", means: bool = True) -> Given:
    """The candidates as a space of their own; their CSLS means too unless `means` is False (cosine:
    0 each, so that a model served from its first build, without means, ranks them)."""
    vectors, r, pieces, kinds = [], [], [], []
    for i, word in enumerate(words):
        found = model.lookup(word, prefer_word=True)
        if found is not None and model.space.norms[found[0]] > 0:
            token = found[0]
            vectors.append(model.space.unit(np.array([token]))[0])
            r.append(float(model.csls_r[token]) if means else 0.0)
            pieces.append(1)
            kinds.append("token")
            continue
        rows = model.lexicon.find(word) if model.lexicon is not None else []
        if rows:
            lexicon = model.lexicon
            assert lexicon is not None
            vectors.append(lexicon.space.unit(np.array(rows[:1]))[0])
            r.append(float(lexicon.r[rows[0]]))
            pieces.append(int(lexicon.pieces[rows[0]]))
            kinds.append("lexicon word")
            continue
        ids = poolable(model.segment(word), model.display, model.space.norms)
        if not ids:
            raise NoNeighbors(
                f"candidate {word!r} has no piece with a vector in {model.name}", field=f"{field}[{i}]"
            )
        vector = pool(model.space, np.array(ids), "mean")
        vectors.append(vector)
        r.append(
            float(table_means(model.space.unit, model.space.knn_ids, model.csls_r, vector[None, :], [ids])[0])
            if means
            else 0.0
        )
        pieces.append(len(ids))
        kinds.append("composed")
    matrix = np.stack(vectors).astype(np.float32)
    return Given(Space.of_rows(matrix), np.asarray(r, dtype=np.float32), list(words), pieces, kinds)


def ranked(
    candidates: Given, vector: np.ndarray, r_query: float | None, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(candidate rows best first, cosine, CSLS or None): all of them scored exactly, ties by row."""
    cosine = candidates.space.matrix @ vector
    csls = None if r_query is None else 2 * cosine - r_query - candidates.r
    order = np.argsort(-(cosine if csls is None else csls), kind="stable")[:k]  # stable: ties by row
    return order, cosine[order], None if csls is None else csls[order].astype(np.float32)


def ranked_translations(
    model: LoadedModel, plan: Plan, queries: list[Resolved], candidates: Given
) -> QueriesOut:
    """Each query's ranking of the candidates (cosine, or CSLS with the query's r over the vocabulary)."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    found = []
    for (vector, _, echo), r_query in zip(
        queries, query_means(model, request, queries, plan.space), strict=True
    ):
        ranking = ranked(candidates, vector, r_query, request.k)
        keep = np.arange(len(ranking[0]))
        if request.min_similarity is not None:
            keep = keep[above(ranking[1], request.min_similarity)]
        found.append(Found(echo, ranking, Selection(keep, None, 1, None)))
    return answered(model, plan, found, candidates)


def translations(model: LoadedModel, plan: Plan, queries: list[Resolved]) -> QueriesOut:
    """Route given: the candidates composed in the input space; a free query's CSLS mean is a scan."""
    assert isinstance(plan.request, r.TranslationsRequest) and plan.request.candidates is not None
    plan.admit(plan.csls_means_work(model, [token for _, token, _ in queries], plan.work))
    csls = getattr(plan.request, "method", "cosine") == "csls"
    return ranked_translations(model, plan, queries, given(model, plan.request.candidates, means=csls))


def encoded_translations(model: LoadedModel, plan: Plan) -> QueriesOut:
    """Route encoder_given: queries encoded and ranked among the given candidates, encoded too; CSLS
    means among the encoded words."""
    request = plan.request
    assert isinstance(request, r.TranslationsRequest)
    candidates = encoded_given(model, request.candidates or [])
    return ranked_translations(model, plan, encoded_queries(model, request), candidates)
