"""Translations into the artifact's lexicon (`pool=words`): candidates are frequent words of the
target languages composed from their pieces, so a translation the vocabulary splits can be found."""

from __future__ import annotations

import numpy as np

from geometry.neighbors import exact_search
from geometry.shaping import above, grouped, page
from geometry.translation import CSLS_POOL
from service import request_types as r
from service import response_types as s
from service.errors import InvalidInput
from service.registry import Lexicon, LoadedModel
from service.usecases.resolving import Resolved, query_r
from service.usecases.shaping import NOT_LANGUAGES


def check_words_request(model: LoadedModel, request: r.TranslationsRequest) -> Lexicon:
    pool = model.pool()
    for option in ("target_scripts", "mutual", "mmr", "positive"):
        if getattr(request, option):
            raise InvalidInput(f"{option} is not available with pool=words", field=option)
    if request.group_by == "script":
        raise InvalidInput("pool=words groups by language only", field="group_by")
    unknown = sorted(set(request.target_languages or []) - set(pool.languages))
    if unknown:
        raise InvalidInput(
            f"the lexicon holds {', '.join(pool.languages)}, not {', '.join(unknown)}",
            field="target_languages",
        )
    return pool


def _targets(pool: Lexicon, request: r.TranslationsRequest, echo: s.QueryOut) -> list[str]:
    """The target languages: as named, else every pool language but the query's own."""
    if request.target_languages:
        return request.target_languages
    own = (echo.labels or {}).get("language")
    return [code for code in pool.languages if code != own or own in NOT_LANGUAGES]


def _rows(
    pool: Lexicon, ids: np.ndarray, cos: np.ndarray, csls: np.ndarray | None, first: int
) -> list[s.NeighborOut]:
    """Answer rows of pool words: id is the word's row in the pool, kind says how many pieces."""
    out = []
    for i, (row, sim) in enumerate(zip(ids.tolist(), cos.tolist(), strict=True)):
        pieces = int(pool.pieces[row])
        out.append(
            s.NeighborOut(
                first + i,
                row,
                token=pool.words[row],
                display=pool.words[row],
                similarity=round(float(sim), 6),
                kind="word" if pieces == 1 else f"word of {pieces} pieces",
                labels={"language": pool.languages[int(pool.language[row])]},
                csls=None if csls is None else round(float(csls[i]), 6),
            )
        )
    return out


Answer = tuple[list[str], list[s.NeighborOut], list[s.GroupOut] | None, str | None]


def _ranked(
    model: LoadedModel, pool: Lexicon, request: r.TranslationsRequest, query: Resolved, depth: int
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None]:
    """(target languages, word rows best first, cosine, CSLS or None) of one query."""
    vector, token, echo = query
    targets = _targets(pool, request, echo)
    allowed = pool.language_rows(targets)
    shortlist = max(CSLS_POOL * depth, 100) if request.method == "csls" else depth
    hits = exact_search(pool.space, vector, min(shortlist, len(allowed)), allowed)
    if request.method != "csls":
        return targets, hits.ids, hits.sims, None
    scores = 2 * hits.sims - query_r(model, vector, token) - pool.r[hits.ids]
    order = np.lexsort((hits.ids, -scores))[:depth]
    return targets, hits.ids[order], hits.sims[order], scores[order].astype(np.float32)


def _answer(
    model: LoadedModel, pool: Lexicon, request: r.TranslationsRequest, query: Resolved, depth: int
) -> Answer:
    targets, ids, cos, csls = _ranked(model, pool, request, query, depth)
    keep = np.arange(len(ids))
    if request.min_similarity is not None:
        keep = keep[above(cos[keep], request.min_similarity)]

    def rows(positions: np.ndarray, first: int = 1) -> list[s.NeighborOut]:
        return _rows(pool, ids[positions], cos[positions], None if csls is None else csls[positions], first)

    if request.group_by == "language":
        found = grouped(pool.language[ids[keep]], request.group_size, request.k)
        return (
            targets,
            [],
            [s.GroupOut(group=pool.languages[code], results=rows(keep[members])) for code, members in found],
            None,
        )
    offset = int(request.cursor or 0)
    shown, after = page(keep[: request.k], offset, request.limit)
    return targets, rows(shown, offset + 1), None, None if after is None else str(after)


def word_translations(
    model: LoadedModel, request: r.TranslationsRequest, resolved: list[Resolved], depth: int
) -> list[Answer]:
    """Per query: (target languages, rows, groups, next cursor), ranked among the pool's words of the
    target languages (exact cosine; CSLS re-ranks a cosine shortlist as for tokens)."""
    pool = check_words_request(model, request)
    return [_answer(model, pool, request, query, depth) for query in resolved]
