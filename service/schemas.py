"""msgspec Structs for every request and response body. Bounds live in the types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

MAX_K = 1000
MAX_BATCH = 1024
MAX_VECTOR_DIM = 16_384
MAX_TOKEN_CHARS = 256

K = Annotated[int, Meta(ge=1, le=MAX_K, description="number of results (1..1000)")]
TokenText = Annotated[str, Meta(min_length=1, max_length=MAX_TOKEN_CHARS)]
Vector = Annotated[list[float], Meta(min_length=1, max_length=MAX_VECTOR_DIM)]
Scheme = Literal["paper", "unicode"]
Method = Literal["cosine", "csls"]


class Request(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class Response(msgspec.Struct):
    pass


# ------------------------------------------------------------------ models


class SourceOut(Response):
    kind: str
    location: str


class IndexOut(Response):
    metric: str
    dtype: str
    connectivity: int
    expansion_add: int
    expansion_search: int
    count: int


class LabelSchemeOut(Response):
    unicode_version: str
    description: str
    counts: dict[str, int]


class ModelOut(Response):
    name: str
    family: str
    source: SourceOut
    vocab_size: int
    source_rows: int
    dim: int
    dtype: str
    original_dtype: str
    byte_level: bool
    index: IndexOut
    exact_neighbours: int
    label_schemes: dict[str, LabelSchemeOut]
    checksum: str


class ModelsOut(Response):
    models: list[ModelOut]


# ------------------------------------------------------------------ tokens


class TokenOut(Response):
    id: int
    token: str
    display: str
    kind: str
    labels: dict[str, str]


class TokenPage(Response):
    query: str
    match: str
    tried: list[str]
    items: list[TokenOut]
    next_cursor: str | None = None


# ------------------------------------------------------------------ neighbours


class Query(Request):
    """One query: exactly one of token, id or vector."""

    token: TokenText | None = None
    id: Annotated[int, Meta(ge=0)] | None = None
    vector: Vector | None = None


class QueryOut(Response):
    kind: Literal["token", "id", "vector"]
    id: int | None = None
    token: str | None = None
    display: str | None = None
    matched: str | None = None
    labels: dict[str, str] | None = None


class NeighborOut(Response):
    rank: int
    id: int
    token: str
    display: str
    similarity: float
    kind: str
    labels: dict[str, str]
    csls: float | None = None


class NeighborsOut(Response):
    model: str
    query: QueryOut
    k: int
    scheme: str
    scripts: list[str] | None
    exclude_scripts: list[str] | None
    include_self: bool
    method: str  # "table" (exact neighbour table), "exact" (brute force) or "ann" (HNSW + exact re-rank)
    neighbors: list[NeighborOut]


class NeighborsBatch(Request):
    queries: Annotated[list[Query], Meta(min_length=1, max_length=MAX_BATCH)]
    k: K = 10
    scripts: list[str] | None = None
    exclude_scripts: list[str] | None = None
    scheme: Scheme = "unicode"
    exact: bool = False
    include_self: bool = False


class NeighborsBatchOut(Response):
    model: str
    results: list[NeighborsOut]


# ------------------------------------------------------------------ translations


class TranslationsOut(Response):
    model: str
    query: QueryOut
    k: int
    method: Method
    scheme: str
    target_scripts: list[str]
    csls_k: int
    candidates: list[NeighborOut]


class TranslationsBatch(Request):
    queries: Annotated[list[Query], Meta(min_length=1, max_length=MAX_BATCH)]
    k: K = 10
    target_scripts: list[str] | None = None
    method: Method = "csls"
    scheme: Scheme = "unicode"


class TranslationsBatchOut(Response):
    model: str
    results: list[TranslationsOut]


class EvaluateRequest(Request):
    """A bilingual dictionary: MUSE text ("source target" per line) or JSON pairs, not both."""

    dictionary: str | None = None
    pairs: list[Annotated[list[str], Meta(min_length=2, max_length=2)]] | None = None
    target_scripts: list[str] | None = None
    scheme: Scheme = "unicode"
    include_misses: bool = False


class SkippedPair(Response):
    source: str
    target: str
    reason: str


class Miss(Response):
    source: str
    gold: list[str]
    cosine_top: list[str]
    csls_top: list[str]


class EvaluateOut(Response):
    model: str
    pairs: int
    covered_pairs: int
    queries: int
    target_scripts: list[str]
    candidates: int
    precision: dict[str, dict[str, float]]
    skipped: list[SkippedPair]
    misses: list[Miss] | None = None


# ------------------------------------------------------------------ analyses


class JobOut(Response):
    id: str
    kind: str
    status: str
    progress: float
    url: str
    result: dict[str, Any] | None = None
    error: dict[str, str | int] | None = None


class CategoryScore(Response):
    category: str
    tokens: int
    other: int
    samples: int
    accuracy: float
    sd: float
    folds: list[float]


class SeparabilityOut(Response):
    model: str
    scheme: str
    mode: str
    min_tokens: int
    folds: int
    seed: int
    categories: list[str] | None
    protocol: str
    scores: list[CategoryScore]
    mean: float
    skipped: dict[str, int]
    took_seconds: float
    cached: bool = False


class DiversityOut(Response):
    model: str
    scheme: str
    k: int
    sample: float
    seed: int
    include_self: bool
    count: str
    queries: int
    mean: float
    sd: float
    histogram: dict[int, int]
    mix: dict[str, dict[str, float]]
    mix_queries: dict[str, int]
    took_seconds: float
    cached: bool = False


class CompareOut(Response):
    models: list[str]
    shared_tokens: int
    k: int
    sample: float
    seed: int
    queries: int
    overlap_mean: float
    overlap_sd: float
    canonical_correlations: list[float]
    took_seconds: float
    cached: bool = False


class Problem(Response):
    """RFC 9457 problem details (media type application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
