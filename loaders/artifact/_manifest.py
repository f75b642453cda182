"""The artifact's manifest types (what loaders/artifact.py writes and reads): the manifest of an
artifact and of its encoder space, with the build records they carry."""

from __future__ import annotations

import hashlib

import msgspec

from loaders.artifact._encoders import EncoderSpec


class SourceInfo(msgspec.Struct, frozen=True):
    kind: str
    location: str
    fingerprint: str  # sha256 over the source bytes that the artifact was made from


class IndexParams(msgspec.Struct, frozen=True):
    metric: str = "cos"
    dtype: str = "f16"
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 128
    count: int = 0  # vectors in the index (vocabulary minus special and zero rows)


class TableInfo(msgspec.Struct, frozen=True):
    """How the neighbor table was made (loaders/neighbor_table.py)."""

    method: str  # exact | hnsw (the index's candidates re-ranked by exact cosine)
    backend: str  # numpy | torch:<device> | usearch
    candidates: int = 0  # hnsw: candidates per row before the re-rank
    recall: float = 1.0  # recall@knn_k against exact brute force on `sample` seeded rows (exact: 1.0)
    sample: int = 0
    workers: int = 1
    seconds: float = 0.0  # build time of the table alone


class LayoutInfo(msgspec.Struct, frozen=True):
    """How the vocabulary map was made (geometry/layout.py)."""

    method: str  # umap (over the neighbor table, started from PCA) | pca
    seed: int = 0
    n_neighbors: int = 0  # umap: neighbors per token in its graph (self included)
    epochs: int = 0  # umap: optimisation epochs (0: umap-learn's default for the size)
    placed: int = 0  # tokens with a position (the indexed ones)
    seconds: float = 0.0


class LabelScheme(msgspec.Struct, frozen=True):
    names: list[str]
    unicode_version: str  # "" for the language scheme (see Manifest.languages)
    description: str


class LanguageLabelling(msgspec.Struct, frozen=True):
    """How the language scheme was made (artifacts without it have no language labels)."""

    languages: list[str]  # ISO 639 codes of the word lists, the index space of language_guess
    names: dict[str, str]  # code -> English name
    wordfreq_version: str
    wordlist: str
    prior: str
    min_share: float  # a token is labelled with its top language from this share of its distribution


class LexiconWords(msgspec.Struct, frozen=True):
    """lexicon.json: row i of the lexicon is words[i] of languages[language[i]]."""

    languages: list[str]
    words: list[str]  # as people write them (Haus, not haus): loaders/build/lexicon.py
    language: list[int]
    pieces: list[int]  # pieces each word was composed from (1: a token of the vocabulary)
    lemma: list[int] = msgspec.field(default_factory=list)  # each row's dictionary form's row (-1: none)


class LexiconLanguage(msgspec.Struct, frozen=True, kw_only=True):
    """One language of the lexicon: where its entries come from and what composing them cost."""

    origin: str  # "wordfreq best", "vocabulary" (the script's own word-initial pieces), "user list"...
    entries: int  # entries taken from the source
    words: int  # of them composed (rows of the lexicon)
    one_piece: int  # words that are one token of the vocabulary
    not_composed: int  # entries with no usable piece (only unknown or special pieces): not stored
    not_composed_examples: list[str]
    pieces_mean: float  # pieces per word
    pieces_weighted: float | None  # pieces per word weighted by the word's frequency (lists only)


class LexiconInfo(msgspec.Struct, frozen=True):
    """The manifest's account of the lexicon (rows grouped by language, in this order)."""

    languages: dict[str, LexiconLanguage]
    per_language: int  # words asked of each language's list
    rows: int
    composed: int  # rows made of several pieces
    wordlist: str
    wordfreq_version: str


class FileEntry(msgspec.Struct, frozen=True):
    size: int
    sha256: str


class Manifest(msgspec.Struct, frozen=True):
    format_version: int
    name: str
    family: str
    source: SourceInfo
    vocab_size: int  # tokenizer vocabulary: the rows stored and served
    source_rows: int  # rows of the source table; rows past vocab_size are padding, not stored
    dim: int
    dtype: str  # stored: float16 | float32
    original_dtype: str
    byte_level: bool  # GPT-2 style byte-level vocabulary (display forms are decoded)
    special_ids: dict[str, int]
    labels: dict[str, LabelScheme]
    index: IndexParams
    knn_k: int  # neighbors per token in the exact table
    loader_version: str
    build_key: str  # hash of source fingerprint + build parameters: same key -> rebuilding is a no-op
    files: dict[str, FileEntry]
    languages: LanguageLabelling | None = None
    vocabulary: str = "unknown"  # a key of VOCABULARIES
    description: str = ""  # what the table is, in the source's own terms (shown by /v1/models)
    tokenizer: str = ""  # a key of TOKENIZER_FILES; "" when the artifact carries no tokenizer
    lexicon: LexiconInfo | None = None  # frequent words composed from pieces (needs the tokenizer)
    table: TableInfo | None = None  # how the neighbor table was made; None: no table, or exact (older)
    layout: LayoutInfo | None = None  # the vocabulary map (layout.npy); None: built without one
    # a first build (served early): the stages (LATER_STAGES) its full build adds; [] when whole
    stages_left: list[str] = msgspec.field(default_factory=list)

    @property
    def checksum(self) -> str:
        """One hash for the whole artifact, used to key caches."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(f"{name}:{self.files[name].sha256};".encode())
        return digest.hexdigest()[:32]


class EncoderSpaceManifest(msgspec.Struct, frozen=True, kw_only=True):
    """encoder/manifest.json: the encoder space of the artifact whose build_key it names."""

    format_version: int
    artifact_build_key: str  # a rebuilt artifact (another key) leaves this space unused
    encoder: EncoderSpec
    dim: int
    per_language: int  # words encoded per lexicon language: its lexicon's first, then more of its list
    languages: dict[str, int]  # words encoded per language (lexicon order)
    rows: int
    seconds: float  # build time
    words_per_second: float  # the encoder's rate in the build (the budget predicts query costs from it)
    threads: int
    files: dict[str, FileEntry]
    reference: int = 0  # r is taken among each language's first this many rows (0: among all)

    @property
    def checksum(self) -> str:
        return "".join(self.files[name].sha256[:8] for name in sorted(self.files))


class Vocab(msgspec.Struct, frozen=True):
    raw: list[str]
    display: list[str]
