"""A loaded model built in memory, for the fast tests of the query path (no artifact, no server).

A vocabulary of four languages in three scripts: twelve concepts, each a word-initial token in
English, German, Russian and Greek whose rows sit close together (the concept's direction plus a
little seeded noise), a continuation piece "s", 240 filler tokens far from every concept, and three
special rows. It has everything the routes read: the exact neighbor table, an HNSW index, CSLS
means, script and language labels, a unigram tokenizer, a lexicon (the concept words, and "waters"
composed of two pieces) and an encoder space whose encoder maps a word to its concept's direction.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import numpy as np
from usearch.index import Index

from geometry.neighbors import Space
from geometry.pooling import pool
from geometry.topk import top_k_rows
from geometry.translation import Composed, neighborhood_means
from loaders import artifact
from loaders.artifact import (
    EncoderSpaceManifest,
    EncoderSpec,
    LanguageLabelling,
    Manifest,
    UnigramSegmenter,
    UnigramTable,
    encode_labels,
    label_tokens,
    pack,
    tables,
)
from service.encoder_spaces import EncoderSpace
from service.language_labels import LanguageTable
from service.lexicons import Lexicon
from service.registry import Labels, LoadedModel

CONCEPTS = {  # English: German, Russian, Greek
    line.split()[0]: tuple(line.split()[1:])
    for line in """
    water Wasser вода νερό
    house Haus дом σπίτι
    bread Brot хлеб ψωμί
    dog Hund собака σκύλος
    fire Feuer огонь φωτιά
    tree Baum дерево δέντρο
    sun Sonne солнце ήλιος
    moon Mond луна φεγγάρι
    book Buch книга βιβλίο
    city Stadt город πόλη
    milk Milch молоко γάλα
    salt Salz соль αλάτι
    """.strip().splitlines()
}
LANGUAGES = ["en", "de", "ru", "el"]
SPECIALS = ["<unk>", "<s>", "</s>"]
FILLERS = 240
DIM = 16
TABLE_K = 20
NOISE = 0.08


def _vocabulary() -> tuple[list[str], list[str], list[int]]:
    """(pieces, the language of each, the concept of each: -1 for none)."""
    pieces, languages, concepts = list(SPECIALS), ["unlabelled"] * 3, [-1] * 3
    for concept, (english, *others) in enumerate(CONCEPTS.items()):
        for language, word in zip(LANGUAGES, [english, *others[0]], strict=True):
            pieces.append("\u2581" + word)
            languages.append(language)
            concepts.append(concept)
    pieces.append("s")  # a continuation piece: "waters" is ▁water + s
    languages.append("unlabelled")
    concepts.append(-1)
    for i in range(FILLERS):
        pieces.append(f"\u2581zq{i:03d}")
        languages.append("unlabelled")
        concepts.append(-1)
    return pieces, languages, concepts


def _rows(concepts: list[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(the table's rows, each concept's direction): a concept's words near its direction."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((len(CONCEPTS), DIM)).astype(np.float32)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    rows = rng.standard_normal((len(concepts), DIM)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)  # every row about as long as a concept's
    for row, concept in enumerate(concepts):
        if concept >= 0:
            rows[row] = directions[concept] + NOISE * np.sqrt(DIM) * rows[row]
    rows[: len(SPECIALS)] = 0.0
    return rows, directions


def _table(matrix: np.ndarray, norms: np.ndarray, indexed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact top-TABLE_K neighbor table (the query excluded, -1 rows where not indexed)."""
    unit = np.zeros_like(matrix)
    unit[indexed] = matrix[indexed] / norms[indexed, None]
    scores = unit[indexed] @ unit[indexed].T
    np.fill_diagonal(scores, -np.inf)
    order, sims = top_k_rows(scores, TABLE_K)
    ids = np.full((len(matrix), TABLE_K), -1, dtype=np.int32)
    table = np.zeros((len(matrix), TABLE_K), dtype=np.float32)
    ids[indexed], table[indexed] = indexed[order], sims
    return ids, table


def _manifest(vocab: int, labels: dict[str, list[str]]) -> Manifest:
    info = {"names": [], "unicode_version": "", "description": ""}
    return msgspec.convert(
        {
            "format_version": artifact.FORMAT_VERSION,
            "name": "tiny",
            "family": "tiny",
            "source": {"kind": "vec", "location": "memory", "fingerprint": "0"},
            "vocab_size": vocab,
            "source_rows": vocab,
            "dim": DIM,
            "dtype": "float32",
            "original_dtype": "float32",
            "byte_level": False,
            "special_ids": {"unk": 0, "bos": 1, "eos": 2},
            "labels": {scheme: {**info, "names": names} for scheme, names in labels.items()},
            "index": {"count": vocab - len(SPECIALS)},
            "knn_k": TABLE_K,
            "loader_version": "test",
            "build_key": "tiny",
            "files": {},
            "vocabulary": "sentencepiece-unigram",
            "tokenizer": "unigram",
        },
        Manifest,
    )


class ConceptEncoder:
    """The encoder space's encoder: a word of a concept (in any of its languages, any case) is that
    concept's direction; any other text a seeded direction of its own."""

    def __init__(self, directions: np.ndarray) -> None:
        self.directions = directions
        self.words = {
            word.casefold(): concept
            for concept, (english, others) in enumerate(CONCEPTS.items())
            for word in (english, *others)
        }

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = []
        for text in texts:
            concept = self.words.get(text.casefold())
            if concept is None:
                seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
                out.append(np.random.default_rng(seed).standard_normal(DIM).astype(np.float32))
            else:
                out.append(self.directions[concept])
        return np.stack(out)


def _lexicon(space: Space, pieces: list[str], languages: list[str]) -> Lexicon:
    """Every concept word of the four languages (its one piece), and "waters" (▁water + s)."""
    words, language, ids = [], [], []
    for piece, lang in zip(pieces, languages, strict=True):
        if lang in LANGUAGES:
            words.append(piece[1:])
            language.append(LANGUAGES.index(lang))
            ids.append([pieces.index(piece)])
    words.append("waters")
    language.append(0)
    ids.append([pieces.index("\u2581water"), pieces.index("s")])
    rows = np.stack([pool(space, np.array(i), "mean") for i in ids]).astype(np.float32)
    order = np.argsort(language, kind="stable")  # rows grouped by language
    rows = rows[order]
    return Lexicon.of_rows(
        rows,
        Composed.of(space, rows).r,
        [words[i] for i in order],
        np.asarray(language, dtype=np.int16)[order],
        LANGUAGES,
        np.asarray([len(ids[i]) for i in order], dtype=np.int16),
    )


def _encoder_space(lexicon: Lexicon, directions: np.ndarray, base: Manifest) -> EncoderSpace:
    encoder = ConceptEncoder(directions)
    rows = encoder(lexicon.words)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    words = Lexicon.of_rows(
        rows, Composed.of(Space.of_rows(rows), rows).r, lexicon.words, lexicon.language, LANGUAGES,
        lexicon.pieces,
    )  # fmt: skip
    info = EncoderSpaceManifest(
        format_version=artifact.FORMAT_VERSION,
        artifact_build_key=base.build_key,
        encoder=EncoderSpec("concepts"),
        dim=DIM,
        per_language=len(CONCEPTS),
        languages={lang: int((lexicon.language == i).sum()) for i, lang in enumerate(LANGUAGES)},
        rows=len(rows),
        seconds=0.01,
        words_per_second=1e6,
        threads=1,
        files={},
    )
    return EncoderSpace(info, words, np.arange(len(rows)), np.arange(len(rows)), _encoder=encoder)


def tiny_model(seed: int = 0) -> LoadedModel:
    pieces, languages, concepts = _vocabulary()
    matrix, directions = _rows(concepts, seed)
    norms = np.linalg.norm(matrix, axis=1).astype(np.float32)
    indexed = np.flatnonzero(norms > 0)
    index = Index(ndim=DIM, metric="cos", dtype="f32")
    index.add(indexed.astype(np.uint64), matrix[indexed])
    knn_ids, knn_sims = _table(matrix, norms, indexed)
    space = Space(matrix, norms, index, knn_ids, knn_sims, indexed)
    kinds = np.full(len(pieces), artifact.TOKEN_KINDS.index("word-initial"), dtype=np.uint8)
    kinds[: len(SPECIALS)] = artifact.TOKEN_KINDS.index("special")
    kinds[pieces.index("s")] = artifact.TOKEN_KINDS.index("continuation")
    labelled = {**label_tokens(pieces, kinds), "language": languages}
    labels = {scheme: Labels(*encode_labels(names)) for scheme, names in labelled.items()}
    manifest = _manifest(len(pieces), {scheme: one.names for scheme, one in labels.items()})
    codes = labels["language"]
    guess = np.full((len(pieces), 2), -1, dtype=np.int16)
    scores = np.full((len(pieces), 3), np.nan, dtype=np.float16)
    for row, lang in enumerate(languages):
        if lang in LANGUAGES:
            guess[row, 0], scores[row] = LANGUAGES.index(lang), (1.0, 0.0, 0.0)
    names = {"en": "English", "de": "German", "ru": "Russian", "el": "Greek"}
    info = LanguageLabelling(LANGUAGES, names, "test", "best", "none", 0.6)
    raw, display, strings = tables(*pack(pieces, pieces))
    scores_of = [-9.0 if piece in SPECIALS else -1.0 for piece in pieces]
    lexicon = _lexicon(space, pieces, languages)
    parts = {
        "name": "tiny",
        "directory": Path("."),
        "manifest": manifest,
        "space": space,
        "raw": raw,
        "display": display,
        "strings": strings,
        "kinds": kinds,
        "labels": labels,
        "means": neighborhood_means(space),
        "load_seconds": 0.0,
        "languages": LanguageTable.from_arrays(info, guess, scores, codes.names),
        "segmenter": UnigramSegmenter(UnigramTable(unk=0, scores=scores_of, normalization={}), pieces),
        "lexicon": lexicon,
        "encoder_space": _encoder_space(lexicon, directions, manifest),
    }
    return LoadedModel(**parts)
