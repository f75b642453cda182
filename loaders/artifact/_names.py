"""The artifact's file names, token kinds and vocabulary kinds: what every reader and writer of the
format agrees on (the package docstring draws the directory)."""

from __future__ import annotations

FORMAT_VERSION = 1

MANIFEST = "manifest.json"
MATRIX = "matrix.npy"
NORMS = "norms.npy"
VOCAB = "vocab.json"
KINDS = "kinds.npy"
INDEX = "index.usearch"
KNN_IDS = "knn_ids.npy"
KNN_SIMS = "knn_sims.npy"
LANGUAGE_GUESS = "language_guess.npy"
LANGUAGE_SCORES = "language_scores.npy"
REACHABLE = (
    "reachable.npy"  # int8 per token: TOKEN_REACHABLE, TOKEN_UNREACHABLE or TOKEN_NOT_CHECKED (optional)
)
TOKEN_REACHABLE, TOKEN_UNREACHABLE, TOKEN_NOT_CHECKED = 1, 0, -1
LEXICON = "lexicon.npy"
STRINGS = "strings.bin"
STRING_OFFSETS = "string_offsets.npy"
STRING_ORDER = "string_order.npy"
LEXICON_WORDS = "lexicon.json"
LEXICON_R = "lexicon_r.npy"
CSLS_R = "csls_r.npy"  # optional: artifacts of loader 0.8 and earlier compute it at load
LAYOUT = "layout.npy"
# What a full build adds to a first one (BuildOptions.first: rows, vocabulary, labels and tokenizer,
# served from exact scans while these are built); Manifest.stages_left names those still missing.
TABLE_STAGE, INDEX_STAGE, MEANS_STAGE, LEXICON_STAGE, MAP_STAGE = (
    "neighbor table",
    "index",
    "CSLS means",
    "lexicon",
    "map",
)
LATER_STAGES = (TABLE_STAGE, INDEX_STAGE, MEANS_STAGE, LEXICON_STAGE, MAP_STAGE)
BUILD_PROGRESS = (
    "build.progress.json"  # in a first build while its full build runs: {"stage", "done", "total"}
)
# The model's tokenizer, by kind (Manifest.tokenizer); read by loaders/segmenter.py.
TOKENIZER_FILES = {
    "tokenizers": "tokenizer.json",
    "sentencepiece": "tokenizer.model",
    "unigram": "tokenizer_unigram.json",
}
# The language scheme's two labels that are not languages (every other label is an ISO 639 code).
AMBIGUOUS, UNLABELLED = "ambiguous", "unlabelled"
# Codes are positions: append, never reorder. "unused" is a reserved slot a source declares as such
# (GGUF token type UNUSED); like "special" it is stored but never indexed or returned.
TOKEN_KINDS = ("special", "byte", "word-initial", "continuation", "unused")
NOT_TEXT_KINDS = ("special", "byte", "unused")
# How a vocabulary segments text; decides which pieces are bytes and how they are displayed.
VOCABULARIES = {
    "sentencepiece-unigram": "SentencePiece unigram pieces, '▁' marks a word start (XLM-R, mT5, USE)",
    "byte-fallback-bpe": (
        "SentencePiece-style BPE with '▁' word starts and <0x00>..<0xFF> byte pieces for what the"
        " merges do not cover (Llama 1/2, Mistral)"
    ),
    "byte-level-bpe": "GPT-2 byte-level BPE; pieces decoded from bytes, 'Ġ' (space) shown as '▁'",
    "sentencepiece": "SentencePiece pieces of unknown model type, '▁' marks a word start",
    "wordpiece": "WordPiece: '##' marks a continuation",
    "whole-words": "static word vectors: every entry is a whole word",
    "unknown": "the source does not say",
}


ENCODER_DIR = "encoder"
ENCODER_PROGRESS = "encoder.progress.json"  # beside it while it is built: {"done", "total", "seconds"}
ENCODER_ROWS = "rows.npy"
ENCODER_WORDS = "words.npy"  # each encoded word's lexicon row (-1: a word the lexicon lacks)
ENCODER_LEXICON = "words.json"  # the encoded words (artifact.LexiconWords); absent: the lexicon's rows
ENCODER_R = "r.npy"


def labels_file(scheme: str) -> str:
    return f"labels_{scheme}.npy"
