"""The answers of neighbors and translations, made in one place once every query is ranked: each
query's rows (tokens with the fields asked for, lexicon words, or given candidates), its options
echoed from the request, and a batch in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from msgspec import UNSET

from geometry.translation import CSLS_K
from loaders import artifact
from service import request_types as r
from service import response_types as s
from service.analyses.vocabulary_health import anomalies
from service.echo import echoed
from service.lexicons import Given, Lexicon
from service.queries.options import Ranking, Selection
from service.queries.plan import Plan
from service.registry import LoadedModel
from service.token_descriptions import languages_out

ALL_FIELDS = frozenset(("token", "display", "similarity", "kind", "labels", "csls", "language"))
Candidates = Lexicon | Given | None  # what a ranking's ids are rows of (None: the vocabulary's tokens)
QueriesOut = s.NeighborsOut | s.NeighborsBatchOut | s.TranslationsOut | s.TranslationsBatchOut


@dataclass(frozen=True)
class Found:
    """One query ranked, before its answer is made: the echo, the ranking (ids best first, cosine,
    CSLS or None), what the options chose of it, and for translations the targets it was ranked in."""

    echo: s.QueryOut
    ranking: Ranking
    chosen: Selection
    method: str = "exact"  # neighbors: "table", "exact" or "ann"
    targets: tuple[list[str], list[str] | None] = field(default=([], None))  # scripts, languages
    forms: list[list[str]] | None = None  # lexicon words: the inflected forms grouped under each row


def answered(model: LoadedModel, plan: Plan, found: list[Found], candidates: Candidates = None) -> QueriesOut:
    """The answer of every query, in order: one Struct, or a batch's."""
    request = plan.request
    if isinstance(request, r.NeighborsRequest):
        results = [
            echoed(
                request,
                s.NeighborsOut,
                model=model.name,
                query=one.echo,
                method=one.method,
                space=plan.space,
                **_shown(model, request, one, candidates, "neighbors"),
            )  # fmt: skip
            for one in found
        ]
        return s.NeighborsBatchOut(model=model.name, results=[*results]) if plan.batch else results[0]
    answers = [
        echoed(
            request,
            s.TranslationsOut,
            model=model.name,
            query=one.echo,
            target_scripts=one.targets[0],
            target_languages=one.targets[1],
            csls_k=CSLS_K,
            space=plan.space,
            **_shown(model, request, one, candidates, "candidates"),
        )  # fmt: skip
        for one in found
    ]
    return s.TranslationsBatchOut(model=model.name, results=[*answers]) if plan.batch else answers[0]


def _shown(
    model: LoadedModel, request: r.QueriesRequest, one: Found, candidates: Candidates, rows_field: str
) -> dict[str, Any]:
    """The rows (or groups) of one query's answer and the next page's cursor."""
    chosen = one.chosen
    if chosen.groups is not None:
        groups = [
            s.GroupOut(group=name, results=_rows(model, request, one, kept, 1, candidates))
            for name, kept in chosen.groups
        ]
        return {rows_field: [], "groups": groups, "next_cursor": None}
    assert chosen.page is not None
    rows = _rows(model, request, one, chosen.page, chosen.first_rank, candidates)
    return {rows_field: rows, "groups": None, "next_cursor": chosen.next_cursor}


def _rows(
    model: LoadedModel,
    request: r.QueriesRequest,
    one: Found,
    positions: np.ndarray,
    first_rank: int,
    candidates: Candidates,
) -> list[s.NeighborOut]:
    ids, cosine, csls = one.ranking
    ids, cosine, csls = ids[positions], cosine[positions], None if csls is None else csls[positions]
    if isinstance(candidates, Lexicon):
        forms = None if one.forms is None else [one.forms[p] for p in positions.tolist()]
        return word_rows(candidates, ids, cosine, csls, first_rank, forms)
    if isinstance(candidates, Given):
        return given_rows(candidates, ids, cosine, csls, first_rank)
    return token_rows(model, ids, cosine, csls, request.fields, first_rank)


def token_rows(
    model: LoadedModel,
    ids: np.ndarray,
    sims: np.ndarray,
    csls: np.ndarray | None,
    fields: Sequence[str] | None,
    first_rank: int = 1,
) -> list[s.NeighborOut]:
    """Vocabulary tokens, each with the requested fields only (all by default); ranks count from
    `first_rank` (a later page)."""
    wanted = ALL_FIELDS if fields is None else set(fields)
    id_list = ids.tolist()
    columns: dict[str, list[Any]] = {}
    if "token" in wanted:
        columns["token"] = artifact.strings_at(model.raw, id_list)
    if "display" in wanted:  # SentencePiece: the same table (and strings) as the raw forms
        same = model.display is model.raw and "token" in columns
        columns["display"] = columns["token"] if same else artifact.strings_at(model.display, id_list)
    if "similarity" in wanted:
        columns["similarity"] = np.round(sims.astype(np.float64), 6).tolist()
    if "kind" in wanted:
        columns["kind"] = [artifact.TOKEN_KINDS[c] for c in model.kinds[ids].tolist()]
    if "labels" in wanted:
        columns["labels"] = model.labels_of(ids)
    if "csls" in wanted:
        columns["csls"] = (
            [None] * len(id_list) if csls is None else np.round(csls.astype(np.float64), 6).tolist()
        )
    if "language" in wanted:
        columns["language"] = languages_out(model, ids)
    if "anomalous" in wanted:  # computed on first use (seconds, then kept)
        columns["anomalous"] = anomalies(model).flagged[ids].tolist()
    names = list(columns)
    rows = zip(*columns.values(), strict=True) if names else ((),) * len(id_list)
    if fields is None:  # every field, in the Struct's order: positional construction is fastest
        return [
            s.NeighborOut(rank, ident, *row)
            for rank, (ident, row) in enumerate(zip(id_list, rows, strict=True), first_rank)
        ]
    return [
        s.NeighborOut(rank, ident, **dict(zip(names, row, strict=True)))
        for rank, (ident, row) in enumerate(zip(id_list, rows, strict=True), first_rank)
    ]


def word_rows(
    pool: Lexicon,
    ids: np.ndarray,
    cos: np.ndarray,
    csls: np.ndarray | None,
    first: int,
    forms: list[list[str]] | None = None,
) -> list[s.NeighborOut]:
    """Lexicon words: id is the word's row in the lexicon, kind says how many pieces it has, forms
    the inflected forms found grouped under it."""
    rows = ids.tolist()
    pieces = [int(pool.pieces[row]) for row in rows]
    kinds = ["word" if n == 1 else f"word of {n} pieces" for n in pieces]
    labels = [{"language": pool.languages[int(pool.language[row])]} for row in rows]
    out = _named_rows(rows, [pool.words[row] for row in rows], kinds, labels, (cos, csls), first)
    for row, found in zip(out, forms or [], strict=False):
        if found:
            row.forms = found
    return out


def given_rows(
    candidates: Given, order: np.ndarray, cos: np.ndarray, csls: np.ndarray | None, first: int
) -> list[s.NeighborOut]:
    """Given candidates: id is the candidate's position in the request, token its string as given."""
    rows = order.tolist()
    kinds = [
        kind if n == 1 else f"{kind} of {n} pieces"
        for kind, n in ((candidates.kinds[row], candidates.pieces[row]) for row in rows)
    ]
    return _named_rows(rows, [candidates.names[row] for row in rows], kinds, None, (cos, csls), first)


def _named_rows(
    rows: list[int],
    names: list[str],
    kinds: list[str],
    labels: list[dict[str, str]] | None,
    scores: tuple[np.ndarray, np.ndarray | None],
    first: int,
) -> list[s.NeighborOut]:
    """Rows of words that are not the vocabulary's tokens: the word is its own token and display."""
    cos, csls = scores
    return [
        s.NeighborOut(
            first + i,
            row,
            token=name,
            display=name,
            similarity=round(float(cos[i]), 6),
            kind=kind,
            labels=UNSET if labels is None else labels[i],
            csls=None if csls is None else round(float(csls[i]), 6),
        )
        for i, (row, name, kind) in enumerate(zip(rows, names, kinds, strict=True))
    ]
