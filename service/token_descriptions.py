"""What answers say about a token: its forms, kind, labels and language evidence (queries and
analyses describe tokens the same way)."""

from __future__ import annotations

import numpy as np

from service import response_types as s
from service.registry import LoadedModel


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
