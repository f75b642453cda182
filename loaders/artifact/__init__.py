"""THE artifact format: what the build writes and the service reads, and the only part of `loaders`
the service imports (an import contract says so). Its modules are private; this is its surface.

An artifact is a directory:

    manifest.json        Manifest below: what the files are, with sha256 and size of each
    matrix.npy           vocab_size x dim embedding rows (float16 or float32), memory-mappable
    norms.npy            float32 L2 norm of every stored row (0 for rows the index leaves out); every
                         cosine (index, table, CSLS means, lexicon) is of the stored rows
    vocab.json           {"raw": [...], "display": [...]} token strings in id order
    strings.bin          the same strings as one UTF-8 buffer (display forms only where they differ),
    string_offsets.npy   int64 2 x (vocab_size + 1): raw and display offsets into it, and
    string_order.npy     int64 id * 2 + from_display per distinct string, in string order
                         (loaders/artifact/_strings.py; mapped by the service instead of building lists)
    labels_paper.npy     uint16 code per token into manifest.labels["paper"].names
    labels_unicode.npy   uint16 code per token into manifest.labels["unicode"].names
    labels_language.npy  uint16 code per token into manifest.labels["language"].names (optional)
    language_guess.npy   int16 vocab_size x 2: top and runner-up language (index into
                         manifest.languages.languages), -1 where the token is in no word list
    language_scores.npy  float16 vocab_size x 3: top share, runner-up share, entropy (bits); NaN likewise
    kinds.npy            uint8 code per token into TOKEN_KINDS
    index.usearch        USearch HNSW index over L2-normalized rows; key = token id
    knn_ids.npy          int32 vocab_size x knn_k cosine neighbors (query excluded; -1 where the
    knn_sims.npy         float32 cosine of each        token is not indexed), best first; exact or
                         HNSW candidates re-ranked exactly, as manifest.table says
    csls_r.npy           float32 CSLS neighborhood mean of every row: mean cosine to its 10 nearest
                         neighbors (NaN where not indexed); from the table, or all pairs without one
    tokenizer.json | tokenizer.model | tokenizer_unigram.json
                         the model's own tokenizer (optional; TOKENIZER_FILES, _segmenter.py)
    reachable.npy        int8 per token: can the tokenizer produce it (build/reachability.py; optional)
    lexicon.npy        float16 unit rows of frequent words composed from their pieces (optional,
    lexicon.json       LexiconWords: each row's word and language;   loaders/build/lexicon.py)
    lexicon_r.npy      float32 CSLS neighborhood mean of each row
    layout.npy           float16 vocab_size x 2: the vocabulary map's position of each token in [-1, 1]
                         (NaN outside the index), as manifest.layout says (geometry/layout.py; optional)

    encoder/             the encoder space (optional, built on demand: `python -m loaders encoder-space`),
                         a sub-artifact with its own manifest.json (EncoderSpaceManifest):
      rows.npy           float16 unit rows: the model's encoder output for each word below
      words.npy          int32 lexicon row of each encoded word (the lexicon's first words per language)
      r.npy              float32 CSLS neighborhood mean of each row among the encoded words

Writes go to a sibling temporary directory that is renamed into place at the end, so a crash
never leaves a half-written artifact behind.
"""

from __future__ import annotations

from loaders.artifact._encoders import (
    E5_PREFIX,
    PACKAGE_PREFIXES,
    PACKAGES,
    Encoder,
    EncoderSpec,
    NoEncoder,
    encode_all,
    load_encoder,
    missing_package,
    reference_rows,
    unit_rows,
)
from loaders.artifact._errors import (
    ArtifactError,
    LoaderError,
    SourceError,
)
from loaders.artifact._files import (
    ArtifactWriter,
    BuildProgress,
    link_or_copy,
    open_array,
    open_strings,
    read_build_progress,
    read_encoder_manifest,
    read_manifest,
    read_vocab,
    record_build_failure,
    sha256_file,
    verify,
    writing,
)
from loaders.artifact._labels import (
    PAPER_UNICODE_VERSION,
    encode_labels,
    fonttools_unicode_version,
    label_tokens,
    language_scripts,
    paper_char_label,
    paper_label,
    piece_kind,
    script_name,
    token_kinds,
    unicode_label,
)
from loaders.artifact._manifest import (
    EncoderSpaceManifest,
    FileEntry,
    IndexParams,
    LabelScheme,
    LanguageLabelling,
    LayoutInfo,
    LexiconInfo,
    LexiconLanguage,
    LexiconWords,
    Manifest,
    SourceInfo,
    TableInfo,
    Vocab,
)
from loaders.artifact._memory import (
    limit_arenas,
    return_freed_memory,
    trim_heap,
)
from loaders.artifact._names import (
    AMBIGUOUS,
    BUILD_PROGRESS,
    CSLS_R,
    ENCODER_DIR,
    ENCODER_LEXICON,
    ENCODER_PROGRESS,
    ENCODER_R,
    ENCODER_ROWS,
    ENCODER_WORDS,
    FORMAT_VERSION,
    INDEX,
    INDEX_STAGE,
    KINDS,
    KNN_IDS,
    KNN_SIMS,
    LANGUAGE_GUESS,
    LANGUAGE_SCORES,
    LATER_STAGES,
    LAYOUT,
    LEXICON,
    LEXICON_R,
    LEXICON_STAGE,
    LEXICON_WORDS,
    MANIFEST,
    MAP_STAGE,
    MATRIX,
    MEANS_STAGE,
    NORMS,
    NOT_TEXT_KINDS,
    REACHABLE,
    STRING_OFFSETS,
    STRING_ORDER,
    STRINGS,
    TABLE_STAGE,
    TOKEN_KINDS,
    TOKEN_NOT_CHECKED,
    TOKEN_REACHABLE,
    TOKEN_UNREACHABLE,
    TOKENIZER_FILES,
    UNLABELLED,
    VOCAB,
    VOCABULARIES,
    labels_file,
)
from loaders.artifact._segmenter import (
    EDGE_CHECKS,
    PieceLookup,
    Segmenter,
    SentencePieceSegmenter,
    TokenizersSegmenter,
    UnigramSegmenter,
    UnigramTable,
    check_texts,
    compact_unigram,
    load_segmenter,
    poolable,
    segmenter_from,
)
from loaders.artifact._strings import (
    ENCODING,
    StringIndex,
    TokenStrings,
    mapped,
    pack,
    sort_order,
    strings_at,
    tables,
)
from loaders.artifact._vocab import (
    BYTE_PIECE,
    WORD_MARK,
    byte_decoder,
    decode_byte_level,
    display_forms,
    looks_byte_level,
)
from loaders.artifact._word_forms import (
    match_key,
)

__all__ = [
    "AMBIGUOUS",
    "ArtifactError",
    "ArtifactWriter",
    "BuildProgress",
    "BYTE_PIECE",
    "CSLS_R",
    "E5_PREFIX",
    "BUILD_PROGRESS",
    "EDGE_CHECKS",
    "ENCODER_DIR",
    "ENCODER_LEXICON",
    "ENCODER_PROGRESS",
    "ENCODER_R",
    "ENCODER_ROWS",
    "ENCODER_WORDS",
    "ENCODING",
    "Encoder",
    "EncoderSpaceManifest",
    "EncoderSpec",
    "FORMAT_VERSION",
    "FileEntry",
    "INDEX",
    "INDEX_STAGE",
    "IndexParams",
    "LATER_STAGES",
    "LEXICON_STAGE",
    "link_or_copy",
    "MAP_STAGE",
    "MEANS_STAGE",
    "TABLE_STAGE",
    "KINDS",
    "KNN_IDS",
    "KNN_SIMS",
    "LANGUAGE_GUESS",
    "LANGUAGE_SCORES",
    "LAYOUT",
    "LEXICON",
    "LEXICON_R",
    "LEXICON_WORDS",
    "LabelScheme",
    "LanguageLabelling",
    "LayoutInfo",
    "LexiconInfo",
    "LexiconLanguage",
    "LexiconWords",
    "LoaderError",
    "MANIFEST",
    "MATRIX",
    "Manifest",
    "NORMS",
    "NOT_TEXT_KINDS",
    "NoEncoder",
    "PACKAGES",
    "PACKAGE_PREFIXES",
    "PAPER_UNICODE_VERSION",
    "PieceLookup",
    "REACHABLE",
    "STRINGS",
    "STRING_OFFSETS",
    "STRING_ORDER",
    "Segmenter",
    "SentencePieceSegmenter",
    "SourceError",
    "SourceInfo",
    "StringIndex",
    "TOKENIZER_FILES",
    "TOKEN_KINDS",
    "TOKEN_NOT_CHECKED",
    "TOKEN_REACHABLE",
    "TOKEN_UNREACHABLE",
    "TableInfo",
    "TokenStrings",
    "TokenizersSegmenter",
    "UNLABELLED",
    "UnigramSegmenter",
    "UnigramTable",
    "VOCAB",
    "VOCABULARIES",
    "Vocab",
    "WORD_MARK",
    "byte_decoder",
    "check_texts",
    "compact_unigram",
    "decode_byte_level",
    "display_forms",
    "encode_all",
    "encode_labels",
    "fonttools_unicode_version",
    "label_tokens",
    "labels_file",
    "language_scripts",
    "limit_arenas",
    "load_encoder",
    "load_segmenter",
    "looks_byte_level",
    "mapped",
    "match_key",
    "missing_package",
    "open_array",
    "open_strings",
    "pack",
    "paper_char_label",
    "paper_label",
    "piece_kind",
    "poolable",
    "read_build_progress",
    "record_build_failure",
    "read_encoder_manifest",
    "read_manifest",
    "read_vocab",
    "return_freed_memory",
    "script_name",
    "segmenter_from",
    "sha256_file",
    "sort_order",
    "strings_at",
    "tables",
    "token_kinds",
    "trim_heap",
    "unicode_label",
    "reference_rows",
    "unit_rows",
    "verify",
    "writing",
]
