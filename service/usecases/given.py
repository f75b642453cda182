"""Candidates an application already has (`candidates=[...]`): each ranked in the model's space, for
verification and re-ranking. A candidate is a vocabulary token (as `token=` finds it), else a word of
the model's lexicon (matched however it is written), else a text composed from its pieces as
`text=` queries are. Its CSLS neighborhood mean r comes with it: the token's, the lexicon row's, or
the composed vector's over its pieces and their table neighbors (as the lexicon's are built)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geometry.neighbors import Space
from geometry.pooling import pool
from geometry.shaping import above
from geometry.translation import table_means
from loaders.segmenter import poolable
from loaders.word_forms import match_key
from service import request_types as r
from service import response_types as s
from service.errors import InvalidInput, NoNeighbors
from service.registry import LoadedModel
from service.usecases.resolving import Resolved
from service.usecases.words import query_means


@dataclass(frozen=True)
class Given:
    """The candidates as a space of their own: row i is names[i]."""

    space: Space
    r: np.ndarray
    names: list[str]
    pieces: list[int]  # pieces each candidate was composed from (1: a token or a one-piece word)
    kinds: list[str]  # "token", "lexicon word", "composed"

    def rows_of(self, word: str) -> set[int]:
        key = match_key(word)
        return {i for i, name in enumerate(self.names) if match_key(name) == key}


def given(model: LoadedModel, words: Sequence[str], field: str = "candidates") -> Given:
    vectors, r, pieces, kinds = [], [], [], []
    for i, word in enumerate(words):
        found = model.lookup(word, prefer_word=True)
        if found is not None and model.space.norms[found[0]] > 0:
            token = found[0]
            vectors.append(model.space.unit(np.array([token]))[0])
            r.append(float(model.csls_r[token]))
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


def rows(
    candidates: Given, order: np.ndarray, cosine: np.ndarray, csls: np.ndarray | None
) -> list[s.NeighborOut]:
    """Answer rows: id is the candidate's position in the request, token its string as given."""
    out = []
    for rank, (row, sim) in enumerate(zip(order.tolist(), cosine.tolist(), strict=True), start=1):
        n = candidates.pieces[row]
        out.append(
            s.NeighborOut(
                rank,
                row,
                token=candidates.names[row],
                display=candidates.names[row],
                similarity=round(float(sim), 6),
                kind=candidates.kinds[row] if n == 1 else f"{candidates.kinds[row]} of {n} pieces",
                csls=None if csls is None else round(float(csls[rank - 1]), 6),
            )
        )
    return out


def check_given(request: r.TranslationsRequest) -> None:
    """What candidates replace, and the options that need a ranking of the whole vocabulary."""
    for option in ("target_scripts", "target_languages", "mutual", "mmr", "group_by", "positive"):
        if getattr(request, option):
            raise InvalidInput(f"candidates replace the candidate set: {option} does not apply", field=option)
    if request.pool != "tokens":
        raise InvalidInput("candidates replace the candidate set: leave out pool", field="pool")


def given_translations(
    model: LoadedModel, request: r.TranslationsRequest, resolved: list[Resolved], candidates: Given
) -> list[list[s.NeighborOut]]:
    """Each query's ranking of the candidates (cosine, or CSLS with the query's r over the vocabulary)."""
    out = []
    for (vector, _, _), r_query in zip(resolved, query_means(model, request, resolved), strict=True):
        order, cosine, csls = ranked(candidates, vector, r_query, request.k)
        keep = np.arange(len(order))
        if request.min_similarity is not None:
            keep = keep[above(cosine, request.min_similarity)]
        out.append(rows(candidates, order[keep], cosine[keep], None if csls is None else csls[keep]))
    return out
