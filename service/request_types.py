"""One request Struct per endpoint: the single definition of its parameters and their bounds.

A GET request is decoded from the query string and a POST request from the JSON body into the same
Struct (`service/api/decoding.py`); `canonical()` is the form whose encoding keys the response cache
and the ETag (sets sorted and de-duplicated, defaults omitted, so reordered, repeated or defaulted
parameters share one key); the use-cases take the Struct whole.

Fields typed `list[str]` are comma-separated in a query string (`scripts=Latin,Cyrillic`, or the
parameter repeated). Cross-field rules (exactly one of token/id/vector/queries, ...) are checked by
the use-cases and answered 400 naming the field.

This module and `response_types` import msgspec only: the Python client (`polyglot_client`) decodes
answers into these Structs without the server's dependencies.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

import msgspec
from msgspec import Meta

# how a text's pieces become one query vector (geometry/pooling.py implements the same three)
PoolingRule = Literal["mean", "first", "last"]

# The wire format's maxima: the only place they are set (settings.Limits takes its defaults from here
# and may lower them; the OpenAPI spec states them).
MAX_K = 1000
MAX_BATCH = 1024
MAX_VECTOR_DIM = 16_384
MAX_TOKEN_CHARS = 256
MAX_LIST_ITEMS = 200
MAX_QUERY_FIELDS = 200  # parameters of one query string
MAX_LIST_CHARS = 2000  # a comma-separated list in a query string

K = Annotated[int, Meta(ge=1, le=MAX_K, description="number of results (1..1000)")]
TokenText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TOKEN_CHARS,
        description="a token (raw or display form); a plain word also tries its word-initial form '▁word'",
        examples=["▁water", "water", "▁вода"],
    ),
]
TokenId = Annotated[int, Meta(ge=0, le=2**31 - 1, description="a token id", examples=[70])]
MAX_TEXT_CHARS = 1000
Text = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="a word or text, segmented by the model's own tokenizer and pooled from its pieces' "
        "input embeddings (see pooling); a text of one piece is that token's query",
        examples=["hospital", "больница", "ice cream"],
    ),
]
Pooling = Annotated[
    PoolingRule,
    Meta(
        description="how a text of several pieces becomes one vector: the mean of the pieces' input rows "
        "(default), or the first or last piece's row"
    ),
]
Vector = Annotated[list[float], Meta(min_length=1, max_length=MAX_VECTOR_DIM, description="a query vector")]
Names = Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(max_length=MAX_LIST_ITEMS)]
Scheme = Annotated[
    Literal["paper", "unicode"],
    Meta(
        description="label scheme of script filters: 'unicode' (Unicode Script property) or 'paper' "
        "(the seed paper's categories)"
    ),
]
Method = Literal["cosine", "csls"]
CandidatePool = Literal["tokens", "words"]
SpaceName = Annotated[
    Literal["input", "encoder"],
    Meta(
        description="the geometry asked: 'input', the input-embedding table (the paper's; a word is its "
        "pieces' mean row), or 'encoder', what the whole model makes of each word (the lexicon's words "
        "encoded by the model's own encoder; queries are encoded at request time; candidates are those "
        "words, as with pool=words; a model without an encoder, or whose encoder space is not built, "
        "answers 400 saying why). Left out: word lookups (pool=words) answer in the encoder space where "
        "the model has one built and the options allow it, everything else in the input space; the "
        "answer's `space` says which"
    ),
]
Seed = Annotated[int, Meta(ge=0, le=2**32 - 1, description="random seed (echoed; same seed, same numbers)")]
Sample = Annotated[float, Meta(gt=0, le=1, description="share of the vocabulary used as queries (1.0 = all)")]
AnalysisScheme = Annotated[
    Literal["paper", "unicode", "language"],
    Meta(
        description="label scheme: 'paper' (the seed paper's categories), 'unicode' (Unicode scripts) or "
        "'language' (word-frequency language labels: only language-labelled tokens are classified or used "
        "as queries)"
    ),
]
# A neighbor's fields that `fields=` may select (rank and id are always present).
NeighborField = Literal["token", "display", "similarity", "kind", "labels", "language", "csls", "anomalous"]
Fields = Annotated[
    list[NeighborField],
    Meta(
        max_length=8,
        description="neighbor fields to return besides rank and id (default: all but 'anomalous', which "
        "flags under-trained token candidates); e.g. 'token,similarity' for a lean answer",
    ),
]

R = TypeVar("R", bound="Request")
QUERY_KINDS = ("token", "id", "text", "vector")
# Cross-field rules the OpenAPI spec states for JSON bodies (`oneOf` of required fields): exactly one
# of these fields, by Struct name. Query strings cannot state them; the use-cases check them all.
EXACTLY_ONE_OF = {
    "Query": QUERY_KINDS,
    "NeighborsRequest": (*QUERY_KINDS, "queries", "positive"),
    "TranslationsRequest": (*QUERY_KINDS, "queries", "positive"),
    "EvaluateRequest": ("dictionary", "pairs"),
}


class Request(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    def canonical(self: R) -> R:
        """Lists that are sets (every `list[str]` field) sorted and de-duplicated."""
        changes = {
            name: sorted(set(value))
            for name in self.__struct_fields__
            if isinstance(value := getattr(self, name), list) and value and isinstance(value[0], str)
        }
        return msgspec.structs.replace(self, **changes) if changes else self


class Query(Request):
    """One query of a batch: exactly one of token, id, text or vector."""

    token: TokenText | None = None
    id: TokenId | None = None
    text: Text | None = None
    vector: Vector | None = None


MAX_EXAMPLES = 16
Examples = Annotated[
    list[Annotated[str, Meta(min_length=1, max_length=MAX_TOKEN_CHARS)]],
    Meta(
        max_length=MAX_EXAMPLES,
        description="tokens or words (a vocabulary token as with token=, else a text pooled as with text=)",
    ),
]
Cursor = Annotated[str, Meta(pattern="^[0-9]{1,9}$", description="next_cursor of the previous page")]


class QueriesRequest(Request):
    """One query (token, id, text, vector, or positive/negative examples), or a batch (`queries`,
    answered in order); k results each, shaped by the options below."""

    token: TokenText | None = None
    id: TokenId | None = None
    text: Text | None = None
    vector: Vector | None = None
    queries: Annotated[list[Query], Meta(min_length=1, max_length=MAX_BATCH)] | None = None
    positive: Examples | None = None
    negative: Examples | None = None
    strategy: Annotated[
        Literal["average", "best_score"],
        Meta(
            description="how examples combine: 'average' searches from the sum of the positive unit "
            "vectors minus the negative ones (3CosAdd: king - man + woman); 'best_score' (Qdrant's rule) "
            "scores a token s(best cosine to a positive), in (0, 1), when a positive is closer than every "
            "negative, else -s(best cosine to a negative), in (-1, 0), with s(x) = (x / (1 + |x|) + 1) / 2: "
            "every token won by a positive ranks above every token won by a negative; similarity is "
            "that score"
        ),
    ] = "average"
    k: K = 10
    fields: Fields | None = None
    pooling: Pooling = "mean"
    space: SpaceName | None = None
    exclude_anomalous: Annotated[
        bool,
        Meta(description="leave out under-trained token candidates (GET /models/{model}/tokens/anomalies)"),
    ] = False
    min_similarity: (
        Annotated[float, Meta(ge=-1, le=1, description="leave out results whose cosine is below this")] | None
    ) = None
    limit: Annotated[int, Meta(ge=1, le=MAX_K, description="page size over the k results")] | None = None
    cursor: Cursor | None = None
    group_by: (
        Annotated[
            Literal["script", "language"],
            Meta(description="the best group_size results of each script (of the scheme) or language"),
        ]
        | None
    ) = None
    group_size: Annotated[int, Meta(ge=1, le=100, description="results per group")] = 3
    mutual: Annotated[
        bool, Meta(description="keep only results that have the query among their own k nearest neighbors")
    ] = False
    mmr: (
        Annotated[
            float,
            Meta(
                ge=0, le=1, description="maximal marginal relevance: 1 = plain ranking, lower = more diverse"
            ),
        ]
        | None
    ) = None


class NeighborsRequest(QueriesRequest):
    """Nearest neighbors of one query or of a batch, optionally filtered by script or language.

    Exactly one of `token`, `id`, `text`, `vector` or `queries` (a query string carries `token`, `id`
    or `text`; a body any of them; each batch entry exactly one of token, id, text, vector). The answer
    is capped at queries x k rows, and exact, vector and filtered queries at a brute-force budget
    (README)."""

    scripts: (
        Annotated[Names, Meta(description="labels of the scheme to keep (e.g. Cyrillic,Greek)")] | None
    ) = None
    exclude_scripts: Annotated[Names, Meta(description="labels of the scheme to leave out")] | None = None
    languages: (
        Annotated[
            Names,
            Meta(
                description="ISO 639 codes: only tokens labelled with these languages (word-initial words); "
                "unknown or unsupported codes are a 400"
            ),
        ]
        | None
    ) = None
    scheme: Scheme = "unicode"
    exact: Annotated[bool, Meta(description="brute-force search instead of the table or index")] = False
    include_self: Annotated[bool, Meta(description="keep the query token itself (rank 1)")] = False
    approximate: Annotated[
        bool,
        Meta(
            description="vector queries through HNSW (refined over the exact table) instead of brute "
            "force: much faster, but a vector far from every token loses neighbors (recall@10 ~0.35 on "
            "random vectors); token queries are exact either way"
        ),
    ] = False


class TranslationsRequest(QueriesRequest):
    """Translation candidates of one query or of a batch in other scripts, or in named languages.

    Exactly one of `token`, `id`, `text`, `vector` or `queries`; a vector query needs `target_scripts`
    or `target_languages` (it has no script of its own; a text's is the most common among its pieces);
    with both, candidates must match both."""

    target_scripts: (
        Annotated[
            Names,
            Meta(description="target scripts; default: all but the query's (and Common, Mixed)"),
        ]
        | None
    ) = None
    target_languages: (
        Annotated[
            Names,
            Meta(description="ISO 639 codes of target languages (with target_scripts, both must match)"),
        ]
        | None
    ) = None
    method: Annotated[
        Method, Meta(description="rank by cosine or by CSLS (k=10 neighborhood, as in MUSE)")
    ] = "csls"
    scheme: Scheme = "unicode"
    pool: Annotated[
        CandidatePool,
        Meta(
            description="candidates: the vocabulary's tokens, or the artifact's lexicon (frequent words of "
            "its languages composed from their pieces; chosen by target_languages)"
        ),
    ] = "tokens"
    candidates: GivenCandidates | None = None
    source_language: (
        Annotated[
            str,
            Meta(
                max_length=35,
                description="ISO 639 code of the query's language: a word lookup (pool=words) finds the "
                "query among that language's lexicon words (as people write it: haus is Haus) and "
                "leaves that language out of the default targets; left out, the language is guessed "
                "(the lexicon language in which the word is most frequent)",
            ),
        ]
        | None
    ) = None


class AnomaliesRequest(Request):
    """Under-trained token candidates, most anomalous first, optionally of one kind, script or language."""

    limit: Annotated[int, Meta(ge=1, le=1000, description="candidates listed, 1..1000")] = 50
    kind: (
        Annotated[
            Literal["word-initial", "continuation", "byte"], Meta(description="only candidates of this kind")
        ]
        | None
    ) = None
    script: Annotated[str, Meta(max_length=100, description="only this script (unicode scheme)")] | None = (
        None
    )
    language: (
        Annotated[str, Meta(max_length=35, description="only tokens labelled with this language")] | None
    ) = None


class GeometryRequest(Request):
    """Geometry statistics of the table's text tokens, overall and per script or language."""

    by: Annotated[Literal["script", "language"], Meta(description="group statistics by")] = "script"
    postprocess: Annotated[
        Literal["none", "centred", "centred-top"],
        Meta(
            description="statistics of the rows as stored, mean-centred, or centred with the top "
            "components removed"
        ),
    ] = "none"
    components: Annotated[int, Meta(ge=1, le=20, description="components removed by centred-top")] = 1
    seed: Seed = 0


class FootprintRequest(Request):
    """Tokens and embedding parameters per script and language; with keep_languages, what a vocabulary
    trimmed to those languages keeps."""

    keep_languages: Annotated[Names, Meta(description="ISO 639 codes a trimmed vocabulary serves")] | None = (
        None
    )


MAX_DICTIONARY_PAIRS = 100_000
MAX_CANDIDATES = 1000
Word = Annotated[str, Meta(min_length=1, max_length=MAX_TOKEN_CHARS)]  # a dictionary entry's word


GivenCandidates = Annotated[
    list[Word],
    Meta(
        min_length=1,
        max_length=MAX_CANDIDATES,
        description="rank among these only: words or tokens an application already has (each a vocabulary "
        "token, else a lexicon word, else a text composed from its pieces); replaces pool, target_scripts "
        "and target_languages",
    ),
]


PART_OF_SPEECH_PATTERN = r"^\w{1,32}$"  # also checked on MUSE lines and JSON list pairs
PartOfSpeech = Annotated[
    str,
    Meta(
        min_length=1, max_length=32, pattern=PART_OF_SPEECH_PATTERN, description="a part of speech, e.g. noun"
    ),
]


class DictionaryPair(Request):
    source: Word
    target: Word
    language: Annotated[str, Meta(max_length=35)] | None = None  # ISO 639 code of the target
    part_of_speech: PartOfSpeech | None = None  # P@k is also reported per part of speech


class EvaluateRequest(Request):
    """A bilingual dictionary: MUSE text ("source target", "source target lang" or "source target
    lang pos" per line) or JSON pairs ([source, target], [source, target, lang], [source, target,
    lang, pos] or {"source", "target", "language", "part_of_speech"}), not both. With a target
    language on a pair, P@k is also reported per target language; with a part of speech, per part
    of speech."""

    dictionary: str | None = None
    pairs: (
        Annotated[
            list[Annotated[list[Word], Meta(min_length=2, max_length=4)] | DictionaryPair],
            Meta(max_length=MAX_DICTIONARY_PAIRS),
        ]
        | None
    ) = None
    target_scripts: Names | None = None
    scheme: Scheme = "unicode"
    include_misses: bool = False
    # per-language results: rank among the target scripts' tokens ("scripts"), or among the tokens
    # labelled with the pair's target language ("language": "the French translation of water")
    language_pool: Literal["scripts", "language"] = "scripts"
    pooling: Pooling = "mean"  # sources the tokenizer splits are composed from their pieces so
    pool: CandidatePool = "tokens"  # targets: tokens, or the lexicon (multi-piece targets reachable)
    candidates: GivenCandidates | None = None  # targets ranked among these words or tokens only
    space: SpaceName | None = None  # encoder: sources encoded, targets among the encoded lexicon words


class TokensRequest(Request):
    q: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_TOKEN_CHARS,
            description="text to look up; a plain word also tries '▁'+word",
            examples=["water", "▁Was"],
        ),
    ]
    match: Annotated[Literal["exact", "prefix"], Meta(description="exact or prefix match")] = "prefix"
    script: Annotated[str, Meta(max_length=100, description="keep tokens with this label")] | None = None
    scheme: Scheme = "unicode"
    limit: Annotated[int, Meta(ge=1, le=1000, description="page size, 1..1000")] = 50
    cursor: (
        Annotated[str, Meta(pattern="^[0-9]{1,9}$", description="next_cursor of the previous page")] | None
    ) = None
    language: (
        Annotated[str, Meta(max_length=35, description="keep tokens of this ISO 639 language")] | None
    ) = None


class SeparabilityRequest(Request):
    """Writing-system (or language) separability by logistic regression; `within` applies to
    scheme=language only; a request for which no classifier can be fitted is a 400."""

    scheme: AnalysisScheme = "paper"
    mode: Annotated[
        Literal["one-vs-rest", "pairwise"],
        Meta(description="category against the rest, or every pair of categories"),
    ] = "one-vs-rest"
    min_tokens: Annotated[int, Meta(ge=20, le=1_000_000, description="skip categories with fewer tokens")] = (
        500
    )
    folds: Annotated[int, Meta(ge=2, le=20, description="cross-validation folds")] = 10
    seed: Seed = 0
    categories: (
        Annotated[
            Names, Meta(description="categories (default: all eligible); ISO 639 codes for scheme=language")
        ]
        | None
    ) = None
    within: (
        Annotated[
            str,
            Meta(
                max_length=100,
                description="scheme=language only: use tokens of this Unicode script only",
            ),
        ]
        | None
    ) = None


class DiversityRequest(Request):
    k: Annotated[int, Meta(ge=1, le=100, description="neighbors per query")] = 50
    sample: Sample = 0.01
    seed: Seed = 0
    scheme: AnalysisScheme = "paper"
    include_self: Annotated[bool, Meta(description="count the query itself (the paper does)")] = True
    count: Annotated[
        Literal["all", "scripts-only"],
        Meta(
            description="count every category, or writing systems only (scheme=language: languages only, "
            "not 'ambiguous' or 'unlabelled')"
        ),
    ] = "all"


class CompareSpacesRequest(Request):
    """The input and encoder spaces of one model over the same words (the encoded lexicon words)."""

    sample: Annotated[int, Meta(ge=10, le=5000, description="words sampled as queries (seeded)")] = 500
    k: Annotated[int, Meta(ge=1, le=50, description="neighbors compared per word (overlap@k)")] = 10
    seed: Seed = 0
    separability_words: Annotated[
        int,
        Meta(ge=0, le=50_000, description="words sampled for the script classifiers (0: leave them out)"),
    ] = 20_000


class RelationsRequest(Request):
    k: Annotated[int, Meta(ge=1, le=100, description="neighbors per sampled token")] = 10
    sample: Annotated[
        int, Meta(ge=1, le=100_000, description="tokens sampled per language (all when fewer)")
    ] = 1000
    seed: Seed = 0
    min_tokens: Annotated[
        int, Meta(ge=1, le=1_000_000, description="leave out languages with fewer labelled tokens")
    ] = 200
    languages: (
        Annotated[Names, Meta(description="ISO 639 codes (default: every language with min_tokens tokens)")]
        | None
    ) = None


class CompareRequest(Request):
    models: Annotated[list[str], Meta(min_length=2, max_length=2, description="two model names")]
    k: Annotated[int, Meta(ge=1, le=1000, description="neighbors compared per token")] = 100
    sample: Annotated[float, Meta(gt=0, le=1, description="share of shared tokens used as queries")] = 0.05
    seed: Seed = 0

    def canonical(self) -> CompareRequest:
        return self  # the order of the two models is the order of the answer


class ExportRequest(Request):
    """The vocabulary as a file: Parquet (every token: id, forms, kind, labels, map position) or the
    Embedding Projector's vectors and metadata TSV in a zip (a seeded sample of the chosen subset)."""

    format: Annotated[
        Literal["parquet", "projector"],
        Meta(description="parquet: the whole vocabulary; projector: vectors.tsv + metadata.tsv (zip)"),
    ] = "parquet"
    limit: Annotated[
        int,
        Meta(
            ge=1,
            le=100_000,
            description="projector: points at most (a seeded sample when more match); points x dimensions"
            " is capped at 8,000,000",
        ),
    ] = 10_000
    kinds: (
        Annotated[
            list[Literal["special", "byte", "word-initial", "continuation", "unused"]],
            Meta(max_length=5, description="projector: token kinds (default: word-initial,continuation)"),
        ]
        | None
    ) = None
    scripts: Annotated[Names, Meta(description="projector: Unicode scripts to keep")] | None = None
    languages: Annotated[Names, Meta(description="projector: ISO 639 language labels to keep")] | None = None
    seed: Seed = 0


class NoParams(Request):
    """Endpoints without query parameters (an unknown one is still a 400)."""
