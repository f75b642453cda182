"""The query options neighbors and translations share: examples with the best-score strategy,
min_similarity, mutual, MMR, group_by and paging, applied to one query's ranking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geometry import shaping
from geometry.neighbors import Hits
from loaders import artifact
from service import request_types as r
from service import response_types as s
from service.errors import InvalidInput
from service.registry import Labels, LoadedModel
from service.usecases import plan
from service.usecases.resolving import answer_rows, example_vectors

NOT_LANGUAGES = (artifact.AMBIGUOUS, artifact.UNLABELLED)


def check_options(request: r.QueriesRequest) -> None:
    """Combinations the options cannot serve together, before any work."""
    if request.cursor is not None and request.limit is None:
        raise InvalidInput("a cursor pages through results: give limit (the page size) too", field="cursor")
    if request.group_by is not None and (request.limit is not None or request.mmr is not None):
        raise InvalidInput("group_by cannot be combined with paging (limit, cursor) or mmr", field="group_by")
    if request.strategy == "best_score" and not request.positive:
        raise InvalidInput(
            "strategy=best_score ranks by examples: give positive (and negative)", field="strategy"
        )


def best_score_hits(model: LoadedModel, request: r.QueriesRequest, mask: np.ndarray | None) -> Hits:
    """The examples' best-score ranking over the allowed rows, the examples' own tokens left out."""
    positives, negatives, echoes = example_vectors(model, request)
    rows = model.space.indexed if mask is None else np.flatnonzero(mask)
    own = [e.ids[0] for e in echoes if len(e.ids) == 1]
    rows = rows[~np.isin(rows, own)]
    ids, scores = shaping.examples_best_score(
        model.space, positives, negatives, plan.search_depth(request), rows
    )
    return Hits(ids, scores, "exact")


def without_examples(echo: s.QueryOut, ids: np.ndarray) -> np.ndarray:
    """Positions of the ranking that are not an example's own token (king - man + woman != king)."""
    own = [e.ids[0] for e in echo.examples or [] if len(e.ids) == 1]
    return np.flatnonzero(~np.isin(ids, own))


@dataclass(frozen=True)
class Shaped:
    rows: list[s.NeighborOut]  # empty when grouped
    groups: list[s.GroupOut] | None
    next_cursor: str | None


def _group_labels(model: LoadedModel, request: r.QueriesRequest) -> Labels:
    scheme = "language" if request.group_by == "language" else getattr(request, "scheme", "unicode")
    return model.scheme(scheme)


def shape(
    model: LoadedModel,
    request: r.QueriesRequest,
    query: tuple[np.ndarray, int | None],
    ranking: tuple[np.ndarray, np.ndarray, np.ndarray | None],
) -> Shaped:
    """One query's answer from the query (unit vector, token or None) and its ranking (ids best
    first, cosine, CSLS or None)."""
    vector, token = query
    ids, cosine, csls = ranking
    keep = np.arange(len(ids))
    if request.mutual:
        keep = keep[shaping.mutual(model.space, vector, ids[keep], request.k, token)]
    if request.min_similarity is not None:
        keep = keep[shaping.above(cosine[keep], request.min_similarity)]
    if request.mmr is not None:
        keep = keep[shaping.mmr(model.space, vector, ids[keep], request.k, request.mmr)]

    def rows(positions: np.ndarray, first_rank: int = 1) -> list[s.NeighborOut]:
        extra = None if csls is None else csls[positions]
        return answer_rows(model, ids[positions], cosine[positions], extra, request.fields, first_rank)

    if request.group_by is not None:
        labels = _group_labels(model, request)
        codes = labels.codes[ids[keep]]
        if request.group_by == "language":  # 'ambiguous' and 'unlabelled' are no language's group
            left_out = [i for i, name in enumerate(labels.names) if name in NOT_LANGUAGES]
            keep = keep[~np.isin(codes, left_out)]
            codes = labels.codes[ids[keep]]
        found = shaping.grouped(codes, request.group_size, request.k)
        groups = [
            s.GroupOut(group=labels.names[code], results=rows(keep[members])) for code, members in found
        ]
        return Shaped([], groups, None)
    keep = keep[: request.k]
    offset = int(request.cursor or 0)
    page, after = shaping.page(keep, offset, request.limit)
    return Shaped(rows(page, offset + 1), None, None if after is None else str(after))


def neighbors_out(
    model: LoadedModel,
    request: r.NeighborsRequest,
    echo: s.QueryOut,
    method: str,
    shown: tuple[list[s.NeighborOut], list[s.GroupOut] | None, str | None],
) -> s.NeighborsOut:
    """One query's answer: the request's filters echoed with the rows (or groups) and the next cursor."""
    rows, groups, cursor = shown
    return s.NeighborsOut(
        model=model.name,
        query=echo,
        k=request.k,
        scheme=request.scheme,
        scripts=request.scripts,
        exclude_scripts=request.exclude_scripts,
        include_self=request.include_self,
        languages=request.languages,
        method=method,
        neighbors=rows,
        groups=groups,
        next_cursor=cursor,
        space=request.space,
    )
