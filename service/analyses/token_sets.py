"""Token sets and neighbor lists the analyses start from."""

from __future__ import annotations

import numpy as np

from geometry.neighbors import search_many
from loaders import artifact
from service.budget import Work
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


# Without the exact table (a first build), the lists are exact scans of this many queries at a time:
# each block converts the stored rows once, and its scores stay ~64 MB (x 16,384 rows a chunk).
EXACT_BLOCK = 1024


def _table(model: LoadedModel, k: int) -> np.ndarray | None:
    """The exact table's neighbor ids when it holds k a token, else None (not built yet, or shallower)."""
    space = model.space
    return space.knn_ids if space.knn_ids is not None and space.table_k >= k else None


def neighbor_ids(model: LoadedModel, queries: np.ndarray, k: int, progress: Progress) -> np.ndarray:
    """Each query token's k nearest neighbors (itself left out), best first: read from the exact table,
    or, before it is built, the same lists from exact scans of the stored rows."""
    table = _table(model, k)
    if table is not None:
        return np.asarray(table[queries, :k], dtype=np.int64)
    space = model.space
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), EXACT_BLOCK):
        block = np.asarray(queries[start : start + EXACT_BLOCK], dtype=np.int64)
        hits = search_many(space, space.unit(block), k, tokens=[int(t) for t in block], exact=True)
        out[start : start + len(block)] = [h.ids for h in hits]
        progress(min(1.0, (start + len(block)) / len(queries)))
    return out


def neighbor_work(model: LoadedModel, queries: int, k: int) -> Work:
    """What `neighbor_ids` costs: table reads, or a blocked exact scan a block of queries."""
    if _table(model, k) is not None:
        return Work().lookups(queries, k)
    work, rows, dim = Work(), len(model.space.indexed), int(model.space.matrix.shape[1])
    for start in range(0, queries, EXACT_BLOCK):
        work.scans(min(EXACT_BLOCK, queries - start), rows, dim, batched=True)
    return work
