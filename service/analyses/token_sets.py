"""Token sets and neighbor lists the analyses start from."""

from __future__ import annotations

import numpy as np

from geometry.neighbors import search
from loaders import artifact
from service.errors import at
from service.progress import Progress
from service.registry import LoadedModel


def language_tokens(model: LoadedModel, within: str | None) -> np.ndarray:
    """Indexed tokens labelled with a language (not ambiguous/unlabelled), optionally of one script."""
    with at("scheme"):
        keep = model.language_mask(model.language_table().supported) & (model.space.norms > 0)
    if within:
        with at("within"):
            keep &= model.label_mask("unicode", [within])
    return np.flatnonzero(keep)


def labelled_share(model: LoadedModel) -> float:
    """Share of word-initial tokens that carry a language label (not ambiguous, not unlabelled)."""
    word_initial = model.kinds == artifact.TOKEN_KINDS.index("word-initial")
    if model.languages is None or not word_initial.any():
        return float("nan")
    labelled = model.language_mask(model.languages.supported)
    return float((labelled & word_initial).sum() / word_initial.sum())


def neighbor_ids(model: LoadedModel, queries: np.ndarray, k: int, progress: Progress) -> np.ndarray:
    space = model.space
    if space.knn_ids is not None and space.table_k >= k:
        return np.asarray(space.knn_ids[queries, :k], dtype=np.int64)
    out = np.empty((len(queries), k), dtype=np.int64)
    for row, ident in enumerate(queries):
        out[row] = search(space, space.unit(np.array([ident]))[0], k, token=int(ident)).ids
        if row % 1000 == 0:
            progress(row / len(queries))
    return out
