"""Translation candidates across writing systems: cosine and CSLS ranking, dictionary precision@k.

CSLS (Conneau et al. 2018, MUSE): CSLS(x, y) = 2 cos(x, y) - r(x) - r(y), where r(v) is the mean
cosine of v to its k = 10 nearest neighbours. MUSE computes r over the other language's vectors;
in one shared vocabulary we take r over the whole vocabulary, which penalises the same "hub" tokens
that sit close to everything. r is computed once per model from the exact neighbour table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.analysis.neighbors import Hits, Space, search
from service.analysis.topk import top_k_rows

CSLS_K = 10
# CSLS re-ranks a cosine shortlist of this many candidates per wanted result (at least 100).
CSLS_POOL = 4
PRECISION_AT = (1, 5, 10)
EVAL_BLOCK = 256


def neighbourhood_means(space: Space, k: int = CSLS_K) -> np.ndarray:
    """r(v) for every row: mean cosine to its k nearest neighbours (NaN for unindexed rows)."""
    r = np.full(len(space.norms), np.nan, dtype=np.float32)
    if space.knn_sims is not None and space.table_k >= k:
        sims = np.asarray(space.knn_sims[space.indexed, :k], dtype=np.float32)
        r[space.indexed] = sims.mean(axis=1)
        return r
    k = min(k, len(space.indexed) - 1)
    unit = space.unit(space.indexed)
    for start in range(0, len(unit), EVAL_BLOCK):
        scores = unit[start : start + EVAL_BLOCK] @ unit.T
        scores[np.arange(len(scores)), np.arange(start, start + len(scores))] = -np.inf
        r[space.indexed[start : start + EVAL_BLOCK]] = top_k_rows(scores, k)[1].mean(axis=1)
    return r


@dataclass(frozen=True)
class Ranked:
    ids: np.ndarray
    cosine: np.ndarray
    csls: np.ndarray | None


def translate(
    space: Space,
    query: np.ndarray,
    k: int,
    mask: np.ndarray,
    method: str,
    r: np.ndarray,
    token: int | None = None,
) -> Ranked:
    """Top-k candidates among the `mask`ed rows for a unit query vector, by cosine or CSLS."""
    if method == "cosine":
        hits = search(space, query, k, token=token, mask=mask)
        return Ranked(hits.ids, hits.sims, None)
    pool = search(space, query, max(CSLS_POOL * k, 100), token=token, mask=mask)
    r_query = float(r[token]) if token is not None else _query_mean(space, query)
    scores = 2 * pool.sims - r_query - r[pool.ids]
    order = np.lexsort((pool.ids, -scores))[:k]
    return Ranked(pool.ids[order], pool.sims[order], scores[order].astype(np.float32))


def _query_mean(space: Space, query: np.ndarray) -> float:
    hits: Hits = search(space, query, CSLS_K)
    return float(hits.sims.mean()) if len(hits.sims) else 0.0


@dataclass(frozen=True)
class Evaluation:
    precision: dict[str, dict[str, float]]  # method -> "p@k" -> share of queries
    ranks: dict[str, list[list[int]]]  # method -> per query its top-10 candidate ids


def evaluate(
    space: Space, sources: np.ndarray, gold: list[set[int]], allowed: np.ndarray, r: np.ndarray
) -> Evaluation:
    """Precision@1/5/10 of cosine and CSLS retrieval among `allowed` ids (exact, batched).

    A query counts as correct at k when any of its gold targets is among its first k candidates;
    the source token itself is never a candidate.
    """
    top = max(PRECISION_AT)
    targets = space.unit(allowed)
    r_targets = r[allowed]
    position = {int(t): i for i, t in enumerate(allowed)}
    found: dict[str, list[list[int]]] = {"cosine": [], "csls": []}
    for start in range(0, len(sources), EVAL_BLOCK):
        block = sources[start : start + EVAL_BLOCK]
        cosine = space.unit(block) @ targets.T
        for row, source in enumerate(block):
            if int(source) in position:
                cosine[row, position[int(source)]] = -np.inf
        csls = 2 * cosine - r[block][:, None] - r_targets[None, :]
        for method, scores in (("cosine", cosine), ("csls", csls)):
            local, _ = top_k_rows(scores, min(top, len(allowed)))
            found[method].extend(allowed[local].tolist())
    precision = {
        method: {
            f"p@{k}": float(
                np.mean([bool(set(ids[:k]) & want) for ids, want in zip(lists, gold, strict=True)])
            )
            if lists
            else 0.0
            for k in PRECISION_AT
        }
        for method, lists in found.items()
    }
    return Evaluation(precision, found)


Pair = tuple[str, str, str | None]  # source, target, target language (ISO 639) when named


def parse_dictionary(text: str, max_pairs: int) -> list[Pair]:
    """MUSE text format: "source target" (or "source target lang") per line, whitespace separated;
    '#' comments."""
    pairs: list[Pair] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) not in (2, 3):
            raise ValueError(
                f"line {number}: expected 'source target' or 'source target lang', got {len(fields)} fields"
            )
        pairs.append((fields[0], fields[1], fields[2] if len(fields) == 3 else None))
        if len(pairs) > max_pairs:
            raise OverflowError(f"more than {max_pairs} pairs")
    return pairs
