"""Which of the vocabulary's tokens a query may answer with: script and language filters, the
translation targets (named, or every script but the query's own), under-trained tokens left out."""

from __future__ import annotations

import numpy as np

from service import request_types as r
from service import response_types as s
from service.analyses.vocabulary_health import without_anomalies
from service.errors import InvalidInput, at
from service.registry import LoadedModel

TARGET_FIELDS = ("target_scripts", "", "target_languages")
NEUTRAL = {"Common", "Mixed", "Special", "EMPTY", "N", "P", "S", "M", "C", "Z"}  # not writing systems


def filter_mask(
    model: LoadedModel,
    scheme: str,
    keep: list[str] | None,
    drop: list[str] | None,
    languages: list[str] | None,
    fields: tuple[str, str, str] = ("scripts", "exclude_scripts", "languages"),
) -> np.ndarray | None:
    """Mask of the indexed rows a filter allows (None: no filter); `fields` name the request's."""
    with at("scheme"):
        model.scheme(scheme)
    if not keep and not drop and not languages:
        return None
    mask = model.space.norms > 0
    if keep:
        with at(fields[0]):
            mask &= model.label_mask(scheme, keep)
    if drop:
        with at(fields[1]):
            mask &= ~model.label_mask(scheme, drop)
    if languages:
        with at(fields[2]):
            mask &= model.language_mask(languages)
    return mask


def neighbor_mask(model: LoadedModel, request: r.NeighborsRequest) -> np.ndarray | None:
    """The tokens a neighbors request allows (None: every indexed token)."""
    mask = filter_mask(model, request.scheme, request.scripts, request.exclude_scripts, request.languages)
    return without_anomalies(model, mask) if request.exclude_anomalous else mask


def target_names(model: LoadedModel, request: r.TranslationsRequest, echo: s.QueryOut) -> list[str]:
    """The target scripts of one query: as given, or (no languages named) every script but the
    query's own (a text's: its pieces' most common) and the neutral categories."""
    if request.target_languages or request.target_scripts:
        return request.target_scripts or []
    with at("scheme"):
        labels = model.scheme(request.scheme)
    if echo.labels is None:
        raise InvalidInput(
            "a vector query has no script of its own: name target_scripts or target_languages",
            field="target_scripts",
        )
    own = echo.labels[request.scheme]
    return [n for n in labels.names if n != own and n not in NEUTRAL]


def target_mask(model: LoadedModel, request: r.TranslationsRequest, names: tuple[str, ...]) -> np.ndarray:
    """The candidates: the named languages (narrowed by the scripts when given), else the scripts."""
    languages = request.target_languages
    mask = filter_mask(model, request.scheme, list(names) or None, None, languages, TARGET_FIELDS)
    assert mask is not None  # target_names names at least one script, or languages are named
    return without_anomalies(model, mask) if request.exclude_anomalous else mask
