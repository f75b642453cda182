"""Queries resolved against a model: a token, an id, a text (segmented by the model's tokenizer and
pooled), a vector, or positive and negative examples, each to (unit vector, token id or None, echo)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import numpy as np

from geometry.neighbors import normalize
from geometry.pooling import PoolingRule, pool
from geometry.shaping import examples_average
from geometry.translation import Composed
from loaders.artifact import poolable
from service import request_types as r
from service import response_types as s
from service.errors import DomainError, InvalidInput, NoNeighbors, at
from service.registry import LoadedModel
from service.token_descriptions import language_out

QUERY_KINDS = r.QUERY_KINDS

Resolved = tuple[np.ndarray, int | None, s.QueryOut]  # unit vector, token id (None: a vector), echo
Examples = tuple[np.ndarray, np.ndarray, list[s.ExampleOut]]  # positive rows, negative rows, echoes


def query_r(model: LoadedModel, vector: np.ndarray, token: int | None) -> float:
    """A query's CSLS neighborhood mean over the vocabulary: its token's, else the vector's (a text,
    a vector) over its nearest tokens."""
    if token is not None:
        return float(model.csls_r[token])
    return float(Composed.of(model.space, vector[None, :]).r[0])


def normalized_vector(values: list[float], dim: int, name: str, where: str) -> np.ndarray:
    """The unit vector of `values`: scaled by its largest magnitude first, so that any finite, non-zero
    vector normalizes (1e30 or 1e-30 components would overflow or underflow a plain norm)."""
    if len(values) != dim:
        raise InvalidInput(
            f"vector has {len(values)} values, {name} has dimension {dim}", field=f"{where}vector"
        )
    vector = np.asarray(values, dtype=np.float64)
    largest = float(np.abs(vector).max()) if np.isfinite(vector).all() else np.inf
    if not 0 < largest < np.inf:
        raise InvalidInput("vector values must be finite numbers, not all zeros", field=f"{where}vector")
    return normalize((vector / largest).astype(np.float32))


def _echo(model: LoadedModel, ident: int, kind: s.QueryKind, matched: str, **extra: Any) -> s.QueryOut:
    return s.QueryOut(
        kind=kind,
        id=ident,
        token=model.raw[ident],
        display=model.display[ident],
        matched=matched,
        labels=model.label_of(ident),
        language=language_out(model, ident),
        **extra,
    )


def _most_common_labels(model: LoadedModel, ids: list[int]) -> dict[str, str]:
    """Per scheme, the label most of the pieces carry (ties: the earliest piece's)."""
    labels = [model.label_of(i) for i in ids]
    return {
        scheme: max(dict.fromkeys(lab[scheme] for lab in labels), key=[lab[scheme] for lab in labels].count)
        for scheme in labels[0]
    }


def _text(model: LoadedModel, text: str, pooling: PoolingRule, field: str) -> Resolved:
    """A text segmented by the model's tokenizer: one usable piece (`poolable`) is that token's query;
    several are pooled."""
    with at(field):
        ids = model.segment(text)
    usable = poolable(ids, model.display, model.space.norms)
    if not usable:
        raise NoNeighbors(
            f"{text!r} has no piece with a vector in {model.name} (only special or unknown pieces)",
            field=field,
        )
    kept = set(usable)
    pieces = [s.PieceOut(id=i, token=model.raw[i], display=model.display[i], pooled=i in kept) for i in ids]
    if len(usable) == 1:
        ident = usable[0]
        return model.space.unit(np.array([ident]))[0], ident, _echo(model, ident, "text", text, pieces=pieces)
    vector = pool(model.space, np.array(usable), pooling)
    labels = _most_common_labels(model, usable)
    return vector, None, s.QueryOut(kind="text", matched=text, labels=labels, pieces=pieces, pooling=pooling)


ITEM = re.compile(r"queries\[(\d+)\]")
# While a batch is answered (`collecting_item_errors`): the items that could not be resolved, by index
_ITEM_ERRORS: ContextVar[dict[int, DomainError] | None] = ContextVar("item_errors", default=None)


@contextmanager
def collecting_item_errors() -> Iterator[dict[int, DomainError]]:
    """Within: a batch item that cannot be resolved is recorded here instead of failing the batch,
    and stands in as the model's first indexed token (its answer is dropped), so the batch is
    answered in one pass (service/queries/batch_items.py)."""
    failed: dict[int, DomainError] = {}
    reset = _ITEM_ERRORS.set(failed)
    try:
        yield failed
    finally:
        _ITEM_ERRORS.reset(reset)


def resolve_one(
    model: LoadedModel, query: r.Query | r.QueriesRequest, where: str, pooling: PoolingRule
) -> Resolved:
    """One query with exactly one of token/id/text/vector; `where` prefixes the field named by errors."""
    try:
        return _resolve_one(model, query, where, pooling)
    except DomainError as error:
        failed, item = _ITEM_ERRORS.get(), ITEM.match(where)
        if failed is None or item is None:
            raise
        failed[int(item.group(1))] = error
        stand_in = int(model.space.indexed[0])
        return model.space.unit(np.array([stand_in]))[0], stand_in, _echo(model, stand_in, "id", "id")


def _resolve_one(
    model: LoadedModel, query: r.Query | r.QueriesRequest, where: str, pooling: PoolingRule
) -> Resolved:
    given = [name for name in QUERY_KINDS if getattr(query, name) is not None]
    prefix = f"{where}." if where else ""
    if len(given) != 1:
        raise InvalidInput("give exactly one of token, id, text or vector", field=where or "token")
    if query.vector is not None:
        vector = normalized_vector(query.vector, model.manifest.dim, model.name, prefix)
        return vector, None, s.QueryOut(kind="vector")
    if query.text is not None:
        return _text(model, query.text, pooling, f"{prefix}text")
    if query.token is not None:
        with at(f"{prefix}token"):
            ident, matched = model.resolve(query.token)
        kind: s.QueryKind = "token"
    else:
        with at(f"{prefix}id"):
            ident, matched, kind = model.check_id(int(query.id or 0)), "id", "id"
    if model.space.norms[ident] == 0:
        raise NoNeighbors(
            f"token {ident} ({model.raw[ident]!r}) is a special or zero row and has no neighbors",
            field=f"{prefix}{kind}",
        )
    return model.space.unit(np.array([ident]))[0], ident, _echo(model, ident, kind, matched)


def example_vectors(model: LoadedModel, request: r.QueriesRequest) -> Examples:
    """Positive and negative examples, each a token (as with token=) or else a text (as with text=):
    (positive unit vectors, negative unit vectors, what each example resolved to)."""
    echoes: list[s.ExampleOut] = []
    vectors: dict[str, list[np.ndarray]] = {"positive": [], "negative": []}
    signs: tuple[Literal["positive"], Literal["negative"]] = ("positive", "negative")
    for sign in signs:
        for i, example in enumerate(getattr(request, sign) or []):
            found = model.lookup(example)
            if found is not None and model.space.norms[found[0]] > 0:
                vector, ids = model.space.unit(np.array([found[0]]))[0], [found[0]]
            else:
                vector, token, echo = _text(model, example, request.pooling, f"{sign}[{i}]")
                ids = [token] if token is not None else [p.id for p in echo.pieces or [] if p.pooled]
            vectors[sign].append(vector)
            echoes.append(s.ExampleOut(example=example, sign=sign, ids=ids))
    positives = np.stack(vectors["positive"])
    negatives = np.stack(vectors["negative"]) if vectors["negative"] else np.empty((0, positives.shape[1]))
    return positives, negatives.astype(np.float32), echoes


def examples_query(model: LoadedModel, request: r.QueriesRequest) -> tuple[Resolved, Examples]:
    """Examples as one query: the 'average' rule's vector (the 'best_score' search, and MMR and
    mutual, start from it too), and the examples' own vectors (for best_score)."""
    if any(getattr(request, name) is not None for name in (*QUERY_KINDS, "queries")):
        raise InvalidInput("give examples (positive, negative) or a query, not both", field="positive")
    examples = example_vectors(model, request)
    positives, negatives, echoes = examples
    echo = s.QueryOut(kind="examples", examples=echoes, strategy=request.strategy)
    return (examples_average(positives, negatives), None, echo), examples


def resolve_all(model: LoadedModel, request: r.QueriesRequest) -> list[Resolved]:
    """The request's queries: one, the examples as one, or its batch in order."""
    if request.negative and not request.positive:
        raise InvalidInput("negative examples need at least one positive", field="negative")
    if request.positive:
        return [examples_query(model, request)[0]]
    if request.queries is None:
        return [resolve_one(model, request, "", request.pooling)]
    if any(getattr(request, name) is not None for name in QUERY_KINDS):
        raise InvalidInput(
            "give either one query (token, id, text or vector) or a batch of queries", field="queries"
        )
    return [resolve_one(model, q, f"queries[{i}]", request.pooling) for i, q in enumerate(request.queries)]
