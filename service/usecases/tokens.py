"""Token search and token descriptions (labels, kind, language evidence) over a loaded model."""

from __future__ import annotations

import numpy as np

from service import request_types as r
from service import response_types as s
from service.errors import at
from service.registry import WORD_MARK, LoadedModel


def languages_out(model: LoadedModel, ids: np.ndarray) -> list[s.LanguageOut | None]:
    details = model.languages_of(np.asarray(ids, dtype=np.int64))
    return [None] * len(ids) if details is None else list(details)


def language_out(model: LoadedModel, ident: int) -> s.LanguageOut | None:
    return languages_out(model, np.array([ident]))[0]


def token_out(model: LoadedModel, ident: int) -> s.TokenOut:
    return s.TokenOut(
        id=ident,
        token=model.raw[ident],
        display=model.display[ident],
        kind=model.kind_of(ident),
        labels=model.label_of(ident),
        language=language_out(model, ident),
    )


def find_tokens(model: LoadedModel, request: r.TokensRequest) -> s.TokenPage:
    q, match, script, scheme, language = (
        request.q,
        request.match,
        request.script,
        request.scheme,
        request.language,
    )
    limit, cursor = request.limit, int(request.cursor or 0)
    tried = [q] if q.startswith(WORD_MARK) else [q, WORD_MARK + q]
    if match == "exact":
        found = model.lookup(q)
        ids = np.array([found[0]] if found else [], dtype=np.int64)
        matched = found[1] if found else "none"
    else:
        found_ids = np.concatenate([model.prefix(text) for text in tried])
        _, first = np.unique(found_ids, return_index=True)  # each id once, where it first matched
        ids, matched = found_ids[np.sort(first)], "prefix"
    masks = []
    with at("scheme"):
        model.scheme(scheme)
    if script:
        with at("script"):
            masks.append(model.label_mask(scheme, [script]))
    if language:
        with at("language"):
            masks.append(model.language_mask([language]))
    if masks:
        ids = ids[np.logical_and.reduce(masks)[ids]]
    page = ids[cursor : cursor + limit].tolist()
    more = cursor + limit < len(ids)
    return s.TokenPage(
        query=q,
        match=matched,
        tried=tried,
        items=[token_out(model, i) for i in page],
        next_cursor=str(cursor + limit) if more else None,
    )
