"""msgspec Structs for every response body (requests: `service/request_types.py`)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

Method = Literal["cosine", "csls"]
SpaceName = Literal["input", "encoder"]


QueryKind = Literal["token", "id", "text", "vector", "examples"]


class LanguageDetail(msgspec.Struct, frozen=True):
    """A token's language label with its evidence (word-frequency distribution over languages).

    Encoded as it is in answers (built for up to 50k tokens a second)."""

    label: str  # ISO 639 code, "ambiguous" or "unlabelled"
    guess: str | None  # top language (also for ambiguous tokens); None: not a word in any list
    share: float | None
    runner_up: str | None
    runner_up_share: float | None
    entropy_bits: float | None


class Response(msgspec.Struct):
    pass


# ------------------------------------------------------------------ models


class SourceOut(Response, kw_only=True):
    kind: str
    location: str


class IndexOut(Response, kw_only=True):
    metric: str
    dtype: str
    connectivity: int
    expansion_add: int
    expansion_search: int
    count: int


class NeighborTableOut(Response, kw_only=True):
    k: int  # neighbors per token
    method: str  # exact | hnsw (the index's candidates re-ranked by exact cosine)
    backend: str  # numpy | torch:<device> | usearch
    candidates: int  # hnsw: candidates per token before the re-rank (0 for exact)
    recall: float  # recall@k against exact brute force on `sample` seeded tokens (1.0 for exact)
    sample: int


class LabelSchemeOut(Response, kw_only=True):
    unicode_version: str
    description: str
    counts: dict[str, int]


class LanguagesInfoOut(Response, kw_only=True):
    """How the model's language labels were made (see the 'language' label scheme for counts)."""

    supported: list[str]  # ISO 639 codes with labelled tokens, most tokens first
    names: dict[str, str]
    wordfreq_version: str
    wordlist: str
    prior: str
    min_share: float


class LexiconLanguageOut(Response, kw_only=True):
    """One language of the model's lexicon, and what a lookup in it costs."""

    origin: str  # wordfreq's list, the vocabulary's own word-initial pieces of the script, a user list
    entries: int  # entries taken from the source
    words: int  # of them composed from the model's pieces (the lexicon's rows)
    composable: float  # words / entries
    one_token: float  # share of the words that are one token of the vocabulary
    pieces_per_word: float
    pieces_per_word_weighted: float | None  # weighted by the word's frequency (lists only)
    parity: float | None  # pieces_per_word_weighted against English's (Petrov et al. 2023, on word lists)
    not_composed_examples: list[str]  # entries with no usable piece (only unknown or special pieces)


class LexiconOut(Response, kw_only=True):
    """A model's lexicon by language: sizes and what a lookup costs (pieces per word)."""

    model: str
    words: int
    composed: int  # words made of several pieces
    per_language: int  # most frequent words taken from each language's list
    wordlist: str
    reference: str  # the language parity is measured against
    languages: dict[str, LexiconLanguageOut]


class EncoderSpaceOut(Response, kw_only=True):
    """The model's encoder space (space=encoder): ready, or why not."""

    ready: bool
    reason: str | None = None  # why it is not ready (no encoder, not built yet: with the command)
    encoder: str | None = None  # what encodes: engine, pooling, prefix
    words: int | None = None  # encoded lexicon words
    per_language: int | None = None
    languages: dict[str, int] | None = None  # words encoded per language
    dim: int | None = None
    build_seconds: float | None = None
    words_per_second: float | None = None  # the encoder's rate at build time (predicts query costs)
    progress: float | None = None  # while it is being built: the share of the lexicon's words encoded


class BuildOut(Response, kw_only=True):
    """Where the full build of a model served from an early build is (or where it stopped)."""

    stage: str  # the stage it is building now
    done: int  # of the stage's steps (rows, languages...)
    total: int
    progress: float  # done / total
    failed: str | None = None  # the build stopped with this error: the model is served on what it has


class ModelOut(Response, kw_only=True):
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
    exact_neighbors: int  # the neighbor table's k (kept for clients; see neighbor_table)
    label_schemes: dict[str, LabelSchemeOut]
    checksum: str
    vocabulary: str  # how the vocabulary segments text (see vocabulary_description)
    vocabulary_description: str
    kinds: dict[str, int]  # tokens per kind: special, byte, word-initial, continuation, unused
    description: str  # what the table is, in the source's terms ("" when the source does not say)
    languages: LanguagesInfoOut | None = None
    neighbor_table: NeighborTableOut | None = None  # None when the artifact has no table
    lexicon: dict[str, LexiconLanguageOut] | None = None  # by language, in the lexicon's order
    spaces: list[SpaceName] = msgspec.field(default_factory=lambda: ["input"])  # those ready to answer
    encoder_space: EncoderSpaceOut | None = None
    # the space word lookups (pool=words) answer in unless a request names one: the encoder space once
    # it is built, else the input space (a static table's input space is its encoder)
    word_lookups: SpaceName = "input"
    # served from its first build (rows, vocabulary, labels: exact scans) while these stages are built;
    # what needs one of them answers 503 with Retry-After naming it; [] once the model is whole
    stages_building: list[str] = msgspec.field(default_factory=list)
    build: BuildOut | None = None  # the full build's current stage, while stages_building is not empty


class DimensionShare(Response, kw_only=True):
    dimension: int
    share: float  # of the expected cosine between random rows
    rogue: bool


class GeometryStats(Response, kw_only=True):
    tokens: int
    mean_norm: float
    mean_pair_cosine: float  # over 20,000 seeded random pairs
    isoscore: float  # 1: variance spread evenly over all dimensions; 0: one direction
    variance_top1: float  # share of variance along the first principal component
    variance_top10: float
    expected_cosine: float  # sum over dimensions of mean(unit row)^2
    top_dimensions: list[DimensionShare]
    norm_frequency_spearman: float | None = None  # rank correlation of the norm with the frequency proxy


class NormFrequency(Response, kw_only=True):
    proxy: str
    spearman: float  # rank correlation of the row norm with the frequency proxy (text tokens)


class GeometryOut(Response, kw_only=True):
    model: str
    postprocess: str
    components_removed: int
    seed: int
    overall: GeometryStats
    norm_frequency: NormFrequency | None
    groups: dict[str, GeometryStats]


class FootprintRow(Response, kw_only=True):
    tokens: int
    share: float  # of the vocabulary, and so of the embedding parameters
    parameters: int


class TrimOut(Response, kw_only=True):
    languages: list[str]
    scripts: list[str]  # the languages' scripts (and Common) whose tokens are kept
    kept_tokens: int
    dropped_tokens: int
    saved_share: float
    saved_parameters: int


class FootprintOut(Response, kw_only=True):
    model: str
    tokens: int
    dim: int
    parameters: int
    by_script: dict[str, FootprintRow]
    by_language: dict[str, FootprintRow] | None
    trimmed: TrimOut | None


class ModelsOut(Response, kw_only=True):
    models: list[ModelOut]
    building: list[str] = []  # models whose artifacts are still being built: served once ready


# ------------------------------------------------------------------ tokens


LanguageOut = LanguageDetail  # encoded as the loaded model holds it


class TokenOut(Response, kw_only=True):
    id: int
    token: str
    display: str
    kind: str
    labels: dict[str, str]
    language: LanguageOut | None = None


class AnomalyReference(Response, kw_only=True):
    """The rows the untrained indicator compares with."""

    described: str
    tokens: int


class AnomalyOut(Response, kw_only=True):
    token: TokenOut
    norm: float
    norm_percentile: float  # among the table's text tokens (0: the smallest)
    unused_similarity: float | None  # cosine to the unused rows' mean, first principal component removed
    reachable: bool | None  # can the tokenizer produce it (None: not checked)


class AnomaliesOut(Response, kw_only=True):
    model: str
    caveat: str
    reference: AnomalyReference
    threshold: float  # the 98th percentile of unused_similarity (or the 2nd of the norm without reference)
    candidates: int
    by_script: dict[str, int]
    matching: int  # candidates passing the kind/script/language filter
    items: list[AnomalyOut]


class TokenPage(Response, kw_only=True):
    query: str
    match: str
    tried: list[str]
    items: list[TokenOut]
    next_cursor: str | None = None


# ------------------------------------------------------------------ neighbors


class PieceOut(Response, kw_only=True):
    """A piece of a text query as the model's tokenizer segmented it."""

    id: int
    token: str
    display: str
    pooled: bool  # False: special, unknown or a bare '▁', left out of the pool


class ExampleOut(Response, kw_only=True):
    """A positive or negative example as resolved: its token, or the pieces of a pooled text."""

    example: str
    sign: Literal["positive", "negative"]
    ids: list[int]


class QueryOut(Response, kw_only=True):
    kind: QueryKind
    id: int | None = None  # the token searched for (a text of one usable piece included)
    token: str | None = None
    display: str | None = None
    matched: str | None = None
    labels: dict[str, str] | None = None
    language: LanguageOut | None = None
    pieces: list[PieceOut] | None = None  # text queries
    pooling: str | None = None  # text queries of several pooled pieces
    examples: list[ExampleOut] | None = None  # positive/negative queries
    strategy: str | None = None
    # word lookups: the lexicon word the query was found as (source_language, or the guess) and its
    # language; the query's vector is that word's row
    word: str | None = None
    word_language: str | None = None


class NeighborOut(Response):
    """A neighbor or candidate; fields not asked for with `fields=` are left out. Positional: up to
    25,000 rows are built per answer, and positional construction is the fastest (the one place)."""

    rank: int
    id: int
    token: str | UnsetType = UNSET
    display: str | UnsetType = UNSET
    similarity: float | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    labels: dict[str, str] | UnsetType = UNSET
    csls: float | None | UnsetType = UNSET
    language: LanguageOut | None | UnsetType = UNSET
    anomalous: bool | UnsetType = UNSET  # only with fields=...,anomalous: an under-trained candidate
    # lexicon words: inflected forms of this dictionary form among the candidates, best first (its
    # similarity is the best of them and of the form itself)
    forms: list[str] | UnsetType = UNSET


class GroupOut(Response, kw_only=True):
    group: str  # the script or language
    results: list[NeighborOut]


class NeighborsOut(Response, kw_only=True):
    model: str
    query: QueryOut
    k: int
    scheme: str
    scripts: list[str] | None
    exclude_scripts: list[str] | None
    include_self: bool
    languages: list[str] | None
    method: str  # "table" (exact neighbor table), "exact" (brute force) or "ann" (HNSW + exact re-rank)
    neighbors: list[NeighborOut]  # empty when grouped
    groups: list[GroupOut] | None = None  # group_by
    next_cursor: str | None = None  # paging: the cursor of the next page (None: the last page)
    space: SpaceName = "input"  # encoder: neighbors among the encoded lexicon words


class ItemErrorOut(Response, kw_only=True):
    """A batch item that could not be answered: its place in `queries`, the field and why."""

    index: int
    field: str
    kind: str  # the error's kind: InvalidInput, NoNeighbors, UnknownToken, ...
    detail: str


class NeighborsBatchOut(Response, kw_only=True):
    model: str
    results: list[NeighborsOut | None]  # None where `errors` says why that item has no answer
    errors: list[ItemErrorOut] = msgspec.field(default_factory=list)


# ------------------------------------------------------------------ translations


class TranslationsOut(Response, kw_only=True):
    model: str
    query: QueryOut
    k: int
    method: Method
    scheme: str
    target_scripts: list[str]
    target_languages: list[str] | None
    csls_k: int
    candidates: list[NeighborOut]  # empty when grouped
    groups: list[GroupOut] | None = None
    next_cursor: str | None = None
    space: SpaceName = "input"


class TranslationsBatchOut(Response, kw_only=True):
    model: str
    results: list[TranslationsOut | None]  # None where `errors` says why that item has no answer
    errors: list[ItemErrorOut] = msgspec.field(default_factory=list)


class SkippedPair(Response, kw_only=True):
    source: str
    target: str
    reason: str


class Miss(Response, kw_only=True):
    source: str
    gold: list[str]
    cosine_top: list[str]
    csls_top: list[str]


class LanguagePrecision(Response, kw_only=True):
    pairs: int  # pairs naming this target language
    covered: int  # of them with a source that has a vector and a target among the candidates
    queries: int
    precision: dict[str, dict[str, float]]
    pool: str  # "scripts" or "language"
    candidates: int
    reachable: float  # share of queries with a gold target among the candidates (P@k's ceiling)
    sources: int = 0  # distinct source words of the pairs naming this language
    precision_all: dict[str, dict[str, float]] | None = None  # P@k over all of them (see EvaluateOut)


class PartOfSpeechPrecision(Response, kw_only=True):
    pairs: int  # pairs naming this part of speech
    covered: int  # of them with a source that has a vector and a target among the candidates
    sources: int  # distinct source words of those pairs
    queries: int  # of them ranked (P@k's denominator)
    precision: dict[str, dict[str, float]]  # over the queries, from the overall ranking
    precision_all: dict[str, dict[str, float]]  # over all the sources (the rest are misses)


class EvaluateOut(Response, kw_only=True):
    model: str
    pairs: int
    covered_pairs: int
    queries: int
    target_scripts: list[str]
    candidates: int
    precision: dict[str, dict[str, float]]
    skipped: list[SkippedPair]
    misses: list[Miss] | None = None
    by_language: dict[str, LanguagePrecision] | None = None
    single_token_queries: int = 0  # sources that are one token of the vocabulary
    composed_queries: int = 0  # sources the tokenizer splits, pooled from their pieces (mean)
    reachable: float = 0.0  # share of queries with a gold target among the candidates
    # languages named by pairs that have no candidates here (no lexicon, no labelled tokens): why
    skipped_languages: dict[str, str] | None = None
    # P@k by the pieces of the query's closest gold target: "1", "2", "3+" (a lookup's cost)
    by_pieces: dict[str, dict[str, dict[str, float]]] | None = None
    # P@k per part of speech, where pairs name one (the fourth field of a MUSE line)
    by_part_of_speech: dict[str, PartOfSpeechPrecision] | None = None
    space: SpaceName = "input"  # where the targets were ranked (pool=words: the encoder space when built)
    # P@k over every distinct source word of the dictionary, as published BLI counts it: a word whose
    # source has no vector or whose targets are not among the candidates is a miss (`precision`
    # counts the reachable ones only); with lexicon words, a candidate's inflected forms count as it
    sources: int = 0
    precision_all: dict[str, dict[str, float]] | None = None
    cached: bool = False  # a job's result (a dictionary too large for one request) answered from the cache


# ------------------------------------------------------------------ the vocabulary map


class MapLayoutOut(Response, kw_only=True):
    method: str  # umap (over the neighbor table, started from PCA) | pca
    seed: int
    n_neighbors: int  # umap: neighbors per token in its graph, the token itself included
    epochs: int  # umap: optimisation epochs (0: umap-learn's default for the size)
    placed: int  # tokens with a position: the indexed ones (special and zero rows are NaN)
    seconds: float  # time to compute it at build time


class MapColumnOut(Response, kw_only=True):
    name: str
    dtype: str  # little-endian numpy dtype: float16 | uint16 | uint8
    shape: list[int]
    bytes: int
    url: str  # GET it: the raw array, row-major (application/octet-stream)
    description: str


class MapOut(Response, kw_only=True):
    """The vocabulary map of one model: where to fetch each column and what its codes mean."""

    model: str
    tokens: int
    layout: MapLayoutOut | None  # None: the artifact was built with --layout none (no xy column)
    columns: list[MapColumnOut]
    categories: dict[str, list[str]]  # column -> name of each code (codes are positions)


# ------------------------------------------------------------------ analyses


class JobOut(Response, kw_only=True):
    id: str
    kind: str
    status: str
    progress: float
    url: str
    result: dict[str, Any] | None = None
    error: dict[str, str | int] | None = None


class CategoryScore(Response, kw_only=True):
    category: str
    tokens: int
    other: int
    samples: int
    accuracy: float
    sd: float
    folds: list[float]


class SeparabilityOut(Response, kw_only=True):
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
    within: str | None = None


class SpaceAgreementOut(Response, kw_only=True):
    queries: int
    overlap: float  # mean share of the k nearest words the two spaces share
    rank_correlation: float  # mean Spearman of a word's cosines to 1,000 reference words


class SpaceGeometryOut(Response, kw_only=True):
    """The paper's two measures over the encoded words in one space."""

    diversity_languages: float  # distinct languages among each sampled word and its 50 nearest words
    diversity_scripts: float  # distinct writing systems among them (the paper's measure, over words)
    separability: float | None  # mean one-vs-rest accuracy of script classifiers (None: not asked)
    separability_by_script: dict[str, float]


class CompareSpacesOut(Response, kw_only=True):
    model: str
    encoder: str
    words: int  # the encoded lexicon words both spaces hold (candidates of every search here)
    sample: int
    k: int
    seed: int
    overlap: float
    rank_correlation: float
    by_language: dict[str, SpaceAgreementOut]  # by the sampled word's language
    spaces: dict[str, SpaceGeometryOut]  # "input", "encoder"
    took_seconds: float
    cached: bool = False


class DiversityOut(Response, kw_only=True):
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


class MergeOut(Response, kw_only=True):
    left: list[str]
    right: list[str]
    distance: float


class RelationsOut(Response, kw_only=True):
    """Language relations: matrices are indexed [query language][neighbor language] in `languages` order."""

    model: str
    k: int
    sample: int
    seed: int
    min_tokens: int
    languages: list[str]
    names: dict[str, str]
    tokens: list[int]
    queries: list[int]
    share: list[list[float]]
    lift: list[list[float]]
    affinity: list[list[float]]
    order: list[str]
    merges: list[MergeOut]
    took_seconds: float
    cached: bool = False


class CompareOut(Response, kw_only=True):
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


class Problem(Response, kw_only=True):
    """RFC 9457 problem details (media type application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None
