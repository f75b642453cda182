"""Translation candidates across writing systems: cosine and CSLS ranking, dictionary precision@k.

CSLS (Conneau et al. 2018, MUSE): CSLS(x, y) = 2 cos(x, y) - r(x) - r(y), where r(v) is the mean
cosine of v to its k = 10 nearest neighbors. MUSE computes r over the other language's vectors;
in one shared vocabulary we take r over the whole vocabulary, which penalises the same "hub" tokens
that sit close to everything. r is computed once per model from the exact neighbor table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from geometry.interrupt import checkpoint
from geometry.neighbors import Space, search_many
from geometry.topk import top_k_rows

CSLS_K = 10
# CSLS re-ranks a cosine shortlist of this many candidates per wanted result (at least 100).
CSLS_POOL = 4
PRECISION_AT = (1, 5, 10)
EVAL_BLOCK = 256
TARGET_BLOCK = 32_768  # candidate rows converted to float32 at a time (~50 MB at 384-d)


def neighborhood_means(space: Space, k: int = CSLS_K) -> np.ndarray:
    """r(v) for every row: mean cosine to its k nearest neighbors (NaN for unindexed rows)."""
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


TABLE_PIECES = 8  # a composed word's r looks at its first pieces ...
TABLE_NEIGHBORS = 10  # ... and at each one's nearest tokens in the exact table
MEANS_BLOCK = 1024


def table_means(
    unit: Callable[[np.ndarray], np.ndarray],
    knn_ids: np.ndarray | None,
    csls_r: np.ndarray,
    vectors: np.ndarray,
    pieces: Sequence[Sequence[int]],
    k: int = CSLS_K,
) -> np.ndarray:
    """r of each row (its mean cosine to its k nearest vocabulary tokens) without searching the
    vocabulary: a one-piece word's is its token's; a composed word's is taken over its pieces and
    their nearest tokens in the exact table (without a table: over its pieces), the tokens its own
    nearest ones are among. Whole blocks of words at a time."""
    out = np.empty(len(vectors), dtype=np.float32)
    single = np.array([len(ids) == 1 for ids in pieces], dtype=bool)
    out[single] = csls_r[[ids[0] for ids, one in zip(pieces, single.tolist(), strict=True) if one]]
    several = np.flatnonzero(~single)
    width = TABLE_PIECES * (1 + (TABLE_NEIGHBORS if knn_ids is not None else 0))
    for lo in range(0, len(several), MEANS_BLOCK):
        rows = several[lo : lo + MEANS_BLOCK]
        near = np.full((len(rows), width), -1, dtype=np.int64)
        for i, row in enumerate(rows.tolist()):
            ids = np.asarray(pieces[row][:TABLE_PIECES], dtype=np.int64)
            found = (
                ids
                if knn_ids is None
                else np.concatenate([ids, np.asarray(knn_ids[ids, :TABLE_NEIGHBORS], dtype=np.int64).ravel()])
            )
            near[i, : len(found)] = found
        near.sort(axis=1)
        near[:, 1:][near[:, 1:] == near[:, :-1]] = -1  # each token once
        distinct, index = np.unique(near, return_inverse=True)
        index = index.reshape(near.shape)
        tokens = unit(np.maximum(distinct, 0))
        sims = np.einsum("wcd,wd->wc", tokens[index], vectors[rows])
        sims[near < 0] = -np.inf
        top = -np.sort(-sims, axis=1)[:, :k]
        finite = np.isfinite(top)
        out[rows] = np.where(finite, top, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
    return out


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
    return translate_many(space, query[None, :], k, mask, method, r, [token])[0]


def translate_many(
    space: Space,
    queries: np.ndarray,
    k: int,
    mask: np.ndarray,
    method: str,
    r: np.ndarray,
    tokens: list[int | None],
) -> list[Ranked]:
    """`translate` for several unit queries sharing one candidate mask (one batched search)."""
    if method == "cosine":
        found = search_many(space, queries, k, tokens=tokens, mask=mask)
        return [Ranked(hits.ids, hits.sims, None) for hits in found]
    pools = search_many(space, queries, max(CSLS_POOL * k, 100), tokens=tokens, mask=mask)
    free = [row for row, token in enumerate(tokens) if token is None]
    means = search_many(space, queries[free], CSLS_K, tokens=[None] * len(free)) if free else []
    r_free = {
        row: float(hits.sims.mean()) if len(hits.sims) else 0.0 for row, hits in zip(free, means, strict=True)
    }
    out = []
    for row, (token, pool) in enumerate(zip(tokens, pools, strict=True)):
        r_query = float(r[token]) if token is not None else r_free[row]
        scores = 2 * pool.sims - r_query - r[pool.ids]
        order = np.lexsort((pool.ids, -scores))[:k]
        out.append(Ranked(pool.ids[order], pool.sims[order], scores[order].astype(np.float32)))
    return out


@dataclass(frozen=True)
class Composed:
    """Queries that are not tokens (texts pooled from several pieces): the vectors of the -1 entries
    of an evaluation's `sources`, in order, with their CSLS neighborhood means."""

    vectors: np.ndarray  # unit rows
    r: np.ndarray

    @classmethod
    def of(cls, space: Space, vectors: np.ndarray, k: int = CSLS_K) -> Composed:
        """r(v) of each vector over the whole vocabulary, exactly: a few vectors each scan the stored rows
        as they are (USearch's kernel), more share one blocked pass (`search_many` chooses)."""
        tokens: list[int | None] = [None] * len(vectors)
        hits = search_many(space, vectors, k, tokens=tokens, exact=True) if len(vectors) else []
        r = np.array([float(h.sims.mean()) if len(h.sims) else 0.0 for h in hits], dtype=np.float32)
        return cls(np.asarray(vectors, dtype=np.float32), r)


NOTHING_COMPOSED = Composed(np.empty((0, 0), dtype=np.float32), np.empty(0, dtype=np.float32))


GROUPED_DEPTH = 4  # candidates ranked per group asked for, when candidates are compared by group


@dataclass(frozen=True)
class Evaluation:
    precision: dict[str, dict[str, float]]  # method -> "p@k" -> share of queries
    ranks: dict[str, list[list[int]]]  # method -> per query its top-10 candidate ids (or groups)
    heads: np.ndarray | None = None  # each id's group, when the ranks are of groups

    def precision_of(self, queries: Sequence[tuple[int, set[int]]]) -> dict[str, dict[str, float]]:
        """P@k over some of the queries: (row, its gold target ids)."""
        return precision_at(self.ranks, [(row, self.as_ranked(want)) for row, want in queries])

    def as_ranked(self, ids: set[int]) -> set[int]:
        """Target ids as the ranks hold them: their groups, where the ranks are of groups."""
        return ids if self.heads is None else {int(self.heads[t]) for t in ids}


def evaluate(
    space: Space,
    sources: np.ndarray,
    gold: list[set[int]],
    allowed: np.ndarray,
    r: np.ndarray,
    composed: Composed = NOTHING_COMPOSED,
    heads: np.ndarray | None = None,
) -> Evaluation:
    """Precision@1/5/10 of cosine and CSLS retrieval among `allowed` ids (exact, batched).

    `sources` are token ids, or -1 for the next of the `composed` queries. A query counts as correct
    at k when any of its gold targets is among its first k candidates; a source token is never its
    own candidate. With `heads` (each id's group, e.g. a word's dictionary form), candidates and gold
    targets are compared by group: the ranking keeps each group's first place, and a group counts
    when a gold target is in it.
    """
    slot = np.cumsum(sources < 0) - 1  # index into `composed` of each -1 entry
    deeper = 1 if heads is None else GROUPED_DEPTH  # a group's members fill places: look deeper
    top = min(max(PRECISION_AT) * deeper, len(allowed))
    # the running best `top` candidates of every source, per method: memory independent of the pool
    # (-1 / -inf fill the rows until real candidates replace them)
    best = {
        method: (
            np.full((len(sources), top), -1, np.int64),
            np.full((len(sources), top), -np.inf, np.float32),
        )
        for method in ("cosine", "csls")
    }
    for t_start in range(0, len(allowed), TARGET_BLOCK):  # each block of targets converted once
        targets = allowed[t_start : t_start + TARGET_BLOCK]
        unit_targets, r_targets = space.unit(targets), r[targets]
        for start in range(0, len(sources), EVAL_BLOCK):
            checkpoint()
            block = sources[start : start + EVAL_BLOCK]
            vectors, r_block = space.unit(np.maximum(block, 0)), r[np.maximum(block, 0)]
            free = np.flatnonzero(block < 0)
            if len(free):
                vectors[free] = composed.vectors[slot[start + free]]
                r_block[free] = composed.r[slot[start + free]]
            cosine = vectors @ unit_targets.T
            at = np.minimum(np.searchsorted(targets, block), len(targets) - 1)
            own = np.flatnonzero((targets[at] == block) & (block >= 0))  # never its own candidate
            cosine[own, at[own]] = -np.inf
            csls = 2 * cosine - r_block[:, None] - r_targets[None, :]
            rows = slice(start, start + len(block))
            for method, scores in (("cosine", cosine), ("csls", csls)):
                local, values = top_k_rows(scores, min(top, len(targets)))
                ids, sims = best[method]
                merged_ids = np.concatenate([ids[rows], targets[local]], axis=1)
                merged = np.concatenate([sims[rows], values], axis=1)
                order = np.lexsort((merged_ids, -merged), axis=-1)[:, :top]  # ties: the lower id first
                ids[rows] = np.take_along_axis(merged_ids, order, axis=1)
                sims[rows] = np.take_along_axis(merged, order, axis=1)
    found = {
        method: [[i for i in row if i >= 0] for row in ids.tolist()] for method, (ids, _) in best.items()
    }
    if heads is not None:
        at_most = max(PRECISION_AT)
        found = {
            method: [list(dict.fromkeys(heads[row].tolist()))[:at_most] if row else [] for row in lists]
            for method, lists in found.items()
        }
        gold = [{int(heads[t]) for t in want} for want in gold]
    precision = precision_at(found, list(enumerate(gold)))
    return Evaluation(precision, found, heads)


def precision_at(
    ranks: dict[str, list[list[int]]], queries: Sequence[tuple[int, set[int]]]
) -> dict[str, dict[str, float]]:
    """P@1/5/10 of each method over `queries` (row in `ranks`, its gold targets, compared as the
    ranks are: by group where they are grouped): a query counts at k when a gold target is among its
    first k candidates."""
    return {
        method: {
            f"p@{k}": float(np.mean([bool(set(lists[row][:k]) & want) for row, want in queries]))
            if queries
            else 0.0
            for k in PRECISION_AT
        }
        for method, lists in ranks.items()
    }


class Pair(NamedTuple):
    source: str
    target: str
    language: str | None = None  # the target's (ISO 639), when named
    part_of_speech: str | None = None  # when named: P@k is also reported per part of speech


def parse_dictionary(text: str, max_pairs: int, max_chars: int = 256) -> list[Pair]:
    """MUSE text format: "source target" (or "source target lang", or "source target lang pos") per
    line, whitespace separated; '#' comments; a word longer than `max_chars` is a ValueError."""
    pairs: list[Pair] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) not in (2, 3, 4):
            raise ValueError(
                f"line {number}: expected 'source target', 'source target lang' or 'source target lang "
                f"pos', got {len(fields)} fields"
            )
        if max(len(word) for word in fields) > max_chars:
            raise ValueError(f"line {number}: a word longer than {max_chars} characters")
        pairs.append(Pair(*fields))
        if len(pairs) > max_pairs:
            raise OverflowError(f"more than {max_pairs} pairs")
    return pairs
