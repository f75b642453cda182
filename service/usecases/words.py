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
from service.lexicons import Lexicon
from service.registry import LoadedModel
from service.usecases.resolving import Resolved, query_r
from service.usecases.shaping import NOT_LANGUAGES


def check_words_request(model: LoadedModel, request: r.TranslationsRequest) -> Lexicon:
    pool = model.words_in(request.space)
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


def ranked_words(
    pool: Lexicon, vector: np.ndarray, r_query: float | None, allowed: np.ndarray, depth: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(word rows best first, cosine, CSLS or None) of one query among the `allowed` rows: by cosine,
    or (given the query's r) by CSLS over a cosine shortlist."""
    shortlist = depth if r_query is None else max(CSLS_POOL * depth, 100)
    hits = exact_search(pool.space, vector, min(shortlist, len(allowed)), allowed)
    if r_query is None:
        return hits.ids[:depth], hits.sims[:depth], None
    scores = 2 * hits.sims - r_query - pool.r[hits.ids]
    order = np.lexsort((hits.ids, -scores))[:depth]
    return hits.ids[order], hits.sims[order], scores[order].astype(np.float32)


def shaped_words(
    pool: Lexicon,
    request: r.QueriesRequest,
    ranked: tuple[np.ndarray, np.ndarray, np.ndarray | None],
) -> tuple[list[s.NeighborOut], list[s.GroupOut] | None, str | None]:
    """(rows, groups, next cursor) of ranked words: min_similarity, group_by language, a page."""
    ids, cos, csls = ranked
    keep = np.arange(len(ids))
    if request.min_similarity is not None:
        keep = keep[above(cos[keep], request.min_similarity)]

    def rows(positions: np.ndarray, first: int = 1) -> list[s.NeighborOut]:
        return _rows(pool, ids[positions], cos[positions], None if csls is None else csls[positions], first)

    if request.group_by == "language":
        found = grouped(pool.language[ids[keep]], request.group_size, request.k)
        return [], [s.GroupOut(group=pool.languages[c], results=rows(keep[m])) for c, m in found], None
    offset = int(request.cursor or 0)
    shown, after = page(keep[: request.k], offset, request.limit)
    return rows(shown, offset + 1), None, None if after is None else str(after)


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


def word_translations(
    model: LoadedModel, request: r.TranslationsRequest, resolved: list[Resolved], depth: int
) -> list[Answer]:
    """Per query: (target languages, rows, groups, next cursor), ranked among the pool's words of the
    target languages (exact cosine; CSLS re-ranks a cosine shortlist as for tokens)."""
    pool = check_words_request(model, request)
    means, out = query_means(model, request, resolved), []
    for (vector, _, echo), r_query in zip(resolved, means, strict=True):
        targets = _targets(pool, request, echo)
        ranked = ranked_words(pool, vector, r_query, pool.language_rows(targets), depth)
        out.append((targets, *shaped_words(pool, request, ranked)))
    return out
