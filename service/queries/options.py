"""The options neighbors and translations share, applied to one query's ranking of tokens: examples
with the best-score strategy, mutual, min_similarity, MMR, group_by and paging. What they choose is a
`Selection` of positions in the ranking; the answer's rows are made from it (`answers.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geometry import shaping
from geometry.neighbors import Hits
from loaders import artifact
from service import request_types as r
from service import response_types as s
from service.registry import LoadedModel

NOT_LANGUAGES = (artifact.AMBIGUOUS, artifact.UNLABELLED)
Ranking = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # ids best first, cosine, CSLS or None


@dataclass(frozen=True)
class Selection:
    """Positions of a ranking to answer: a page (ranks from `first_rank`), or groups by label."""

    page: np.ndarray | None  # None when grouped
    groups: list[tuple[str, np.ndarray]] | None
    first_rank: int
    next_cursor: str | None


def best_score_hits(
    model: LoadedModel, examples: tuple[np.ndarray, np.ndarray, list[s.ExampleOut]], mask: np.ndarray | None,
    depth: int,
) -> Hits:  # fmt: skip
    """The examples' best-score ranking over the allowed rows, the examples' own tokens left out."""
    positives, negatives, echoes = examples
    rows = model.space.indexed if mask is None else np.flatnonzero(mask)
    own = [e.ids[0] for e in echoes if len(e.ids) == 1]
    rows = rows[~np.isin(rows, own)]
    ids, scores = shaping.examples_best_score(model.space, positives, negatives, depth, rows)
    return Hits(ids, scores, "exact")


def without_examples(echo: s.QueryOut, ranking: Ranking) -> Ranking:
    """The ranking less the examples' own tokens (king - man + woman != king)."""
    if not echo.examples:
        return ranking
    ids, cosine, csls = ranking
    own = [e.ids[0] for e in echo.examples if len(e.ids) == 1]
    keep = np.flatnonzero(~np.isin(ids, own))
    return ids[keep], cosine[keep], None if csls is None else csls[keep]


def _group_codes(
    model: LoadedModel, request: r.QueriesRequest, ids: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    scheme = "language" if request.group_by == "language" else getattr(request, "scheme", "unicode")
    labels = model.scheme(scheme)
    return labels.codes[ids], labels.names


def select(
    model: LoadedModel, request: r.QueriesRequest, query: tuple[np.ndarray, int | None], ranking: Ranking
) -> Selection:
    """What one query answers from its ranking: the query (unit vector, token or None) for mutual
    and MMR, then min_similarity, then groups or a page."""
    vector, token = query
    ids, cosine, _ = ranking
    keep = np.arange(len(ids))
    if request.mutual:
        keep = keep[shaping.mutual(model.space, vector, ids[keep], request.k, token)]
    if request.min_similarity is not None:
        keep = keep[shaping.above(cosine[keep], request.min_similarity)]
    if request.mmr is not None:
        keep = keep[shaping.mmr(model.space, vector, ids[keep], request.k, request.mmr)]
    if request.group_by is not None:
        codes, names = _group_codes(model, request, ids[keep])
        if request.group_by == "language":  # 'ambiguous' and 'unlabelled' are no language's group
            left_out = [i for i, name in enumerate(names) if name in NOT_LANGUAGES]
            keep = keep[~np.isin(codes, left_out)]
            codes = codes[~np.isin(codes, left_out)]
        found = shaping.grouped(codes, request.group_size, request.k)
        return Selection(None, [(names[code], keep[members]) for code, members in found], 1, None)
    offset = int(request.cursor or 0)
    page, after = shaping.page(keep[: request.k], offset, request.limit)
    return Selection(page, None, offset + 1, None if after is None else str(after))
