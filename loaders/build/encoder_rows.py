"""The encoder space of an artifact: the model's forward pass over each lexicon language's words,
stored beside the input table (artifact.ENCODER_DIR) and built after it, behind serving, since it
takes minutes (e5 encodes ~400 words/s on 2 cores, USE ~3,000-7,000/s). `make run` builds it after
the artifacts; the service picks it up when it lands, without a restart.

    python -m loaders encoder-space artifacts/multilingual-e5-small [--per-language N]

Its words: each lexicon language's first PER_LANGUAGE words, the lexicon's own first and then, for a
language whose words come from a wordfreq list, more of that list (`encoded_words`): the lexicon
stays small enough for the first run (8,300 words a language on e5), while a word lookup's default
space reaches the targets of a dictionary's everyday words. The words are stored with it
(ENCODER_LEXICON), with each one's lexicon row (-1 for the added ones).

Rows are unit vectors in float16, like the lexicon's; r is each row's CSLS neighborhood mean among
the reference rows, each language's first REFERENCE words (exact; queries take theirs among the
same rows), so the cost of the means grows with the words, not with their square. While it runs,
ENCODER_PROGRESS in the artifact says how far it is. The space is tied to its artifact's build_key:
a rebuilt artifact has no encoder space until this runs again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np

from geometry.topk import top_k_rows
from loaders import artifact
from loaders.artifact import (
    ArtifactError,
    Encoder,
    EncoderSpec,
    encode_all,
    load_encoder,
    match_key,
    poolable,
    reference_rows,
)
from loaders.build.lexicon import further_words, lemma_rows
from loaders.build.pipeline import Stage, silent, stage

PER_LANGUAGE = 25_000  # words per lexicon language: its lexicon's, then more of its word list
REFERENCE = 2_000  # each language's first words: the rows every CSLS mean is taken among
REPORT_EVERY = 4096  # words between progress reports
CSLS_K = 10
BLOCK = 1024  # rows whose means are taken at a time (x the reference: ~370 MB of float32 scores)


def chosen_rows(words: artifact.LexiconWords, per_language: int) -> np.ndarray:
    """The lexicon rows encoded: each language's first `per_language` (its most frequent words), or
    every row (0)."""
    if per_language <= 0:
        return np.arange(len(words.words), dtype=np.int32)
    language = np.asarray(words.language)
    return np.concatenate(
        [np.flatnonzero(language == code)[:per_language] for code in range(len(words.languages))]
    ).astype(np.int32)


def encoded_words(
    directory: Path, manifest: artifact.Manifest, words: artifact.LexiconWords, per_language: int
) -> tuple[artifact.LexiconWords, np.ndarray]:
    """(the encoder space's words, grouped by language in the lexicon's order, and each one's
    lexicon row, -1 for a word the lexicon lacks): each language's first `per_language` lexicon
    words and, where its lexicon holds fewer and comes from a word list, more of that list's words
    (the encoder space is built behind serving, so it can hold more than the lexicon: e5's lexicon
    keeps 8,300 words a language within its first run)."""
    assert manifest.lexicon is not None
    rows = chosen_rows(words, per_language)
    language = np.asarray(words.language)[rows]
    extend = None
    out = artifact.LexiconWords(words.languages, [], [], [], [])
    lexicon_rows: list[int] = []
    for code, lang in enumerate(words.languages):
        mine = rows[language == code]
        texts, pieces = [words.words[row] for row in mine], [words.pieces[row] for row in mine]
        wanted = per_language - len(mine) if per_language > 0 and len(mine) else 0
        if wanted > 0 and manifest.lexicon.languages[lang].origin.startswith("wordfreq"):
            extend = extend or _further(directory, manifest)
            more, counts = extend(lang, {match_key(text) for text in texts}, wanted)
            texts, pieces = texts + more, pieces + counts
            mine = np.concatenate([mine, np.full(len(more), -1, dtype=np.int32)])
        first = len(out.words)
        out.lemma.extend(row if row < 0 else first + row for row in lemma_rows(lang, texts))
        out.words.extend(texts)
        out.language.extend([code] * len(texts))
        out.pieces.extend(pieces)
        lexicon_rows.extend(mine.tolist())
    return out, np.asarray(lexicon_rows, dtype=np.int32)


def _further(
    directory: Path, manifest: artifact.Manifest
) -> Callable[[str, set[str], int], tuple[list[str], list[int]]]:
    """More words of a language's list, those the tokenizer gives a usable piece (as the lexicon
    keeps them), with their counts of usable pieces."""
    vocab = artifact.read_vocab(directory, manifest)
    segmenter = artifact.load_segmenter(directory, manifest, vocab.raw)
    assert segmenter is not None  # an artifact with a lexicon has a tokenizer
    norms = np.load(directory / artifact.NORMS, mmap_mode="r")

    def extend(language: str, known: set[str], count: int) -> tuple[list[str], list[int]]:
        more, split = further_words(language, segmenter, known, count)
        usable = [len(poolable(ids, vocab.display, norms)) for ids in split]
        kept = [i for i, n in enumerate(usable) if n]
        return [more[i] for i in kept], [usable[i] for i in kept]

    return extend


def neighborhood_means(stored: np.ndarray, reference: np.ndarray, threads: int) -> np.ndarray:
    """Each row's mean cosine to its CSLS_K nearest `reference` rows (itself left out), exact: a
    block of rows against the whole reference at a time, the blocks on `threads` threads."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    k = min(CSLS_K, len(reference) - 1)
    if k <= 0:
        return np.full(len(stored), np.nan, dtype=np.float32)
    columns = np.asarray(stored[reference], dtype=np.float32).T.copy()  # stored rows are unit vectors
    position = np.full(len(stored), -1, dtype=np.int64)
    position[reference] = np.arange(len(reference))
    means = np.empty(len(stored), dtype=np.float32)

    def block(lo: int) -> None:
        hi = min(lo + BLOCK, len(stored))
        scores = np.asarray(stored[lo:hi], dtype=np.float32) @ columns
        own = position[lo:hi]
        mine = np.flatnonzero(own >= 0)
        scores[mine, own[mine]] = -np.inf  # never its own neighbor
        _, sims = top_k_rows(scores, k)
        means[lo:hi] = sims.mean(axis=1)

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max(1, threads)) as pool:
        list(pool.map(block, range(0, len(stored), BLOCK)))
    return means


def _progress_file(directory: Path) -> Path:
    return directory / artifact.ENCODER_PROGRESS


def current(
    directory: Path, manifest: artifact.Manifest, spec: EncoderSpec, per_language: int
) -> artifact.EncoderSpaceManifest | None:
    """The artifact's encoder space when it is the one these parameters build (else None)."""
    found = artifact.read_encoder_manifest(directory)
    same = found is not None and (found.artifact_build_key, found.encoder, found.per_language) == (
        manifest.build_key,
        spec,
        per_language,
    )
    return found if same else None


def build_encoder_space(
    directory: Path,
    per_language: int = PER_LANGUAGE,
    threads: int = 2,
    progress: Stage = silent,
    encoder: Encoder | None = None,
) -> tuple[artifact.EncoderSpaceManifest, bool]:
    """(the encoder space of the artifact at `directory`, whether it was built now). A no-op when it
    exists for these parameters. Artifacts built with --cache are links into the cache, so the space
    is kept there with its artifact (and goes when the artifact is rebuilt)."""
    manifest = artifact.read_manifest(directory)
    if manifest.lexicon is None:
        raise ArtifactError(
            f"{directory}: no lexicon to encode (it needs a tokenizer and --lexicon-size > 0)"
        )
    spec = EncoderSpec.of(manifest.source.kind, manifest.source.location)
    found = current(directory, manifest, spec, per_language)
    if found is not None:
        return found, False
    lexicon = msgspec.json.decode(
        (directory / artifact.LEXICON_WORDS).read_bytes(), type=artifact.LexiconWords
    )
    words, rows = encoded_words(directory, manifest, lexicon, per_language)
    texts = words.words
    encode = encoder or load_encoder(spec, threads)
    started = time.perf_counter()
    report = _progress_file(directory)
    with stage(progress, "encoding words", len(texts)) as bar:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            bar.update(done, len(texts))
            if done % REPORT_EVERY < n or done == len(texts):  # the service reads it for /v1/models
                state = {"done": done, "total": len(texts), "seconds": round(time.time() - encoding_started)}
                report.write_bytes(msgspec.json.encode(state))

        encoding_started = time.time()
        try:
            stored = encode_all(encode, texts, advance, dtype=np.float16)
        finally:
            report.unlink(missing_ok=True)
    encoding = time.perf_counter() - started
    language = np.asarray(words.language)
    with stage(progress, "neighborhood means", 1) as bar:
        r = neighborhood_means(stored, reference_rows(language, REFERENCE), threads)
        bar.update(1, 1)
    counts = np.bincount(language, minlength=len(words.languages))
    with artifact.writing(directory / artifact.ENCODER_DIR) as writer:
        writer.save_array(artifact.ENCODER_ROWS, stored)
        writer.save_array(artifact.ENCODER_WORDS, rows)
        writer.save_array(artifact.ENCODER_R, r.astype(np.float32))
        writer.path(artifact.ENCODER_LEXICON).write_bytes(msgspec.json.encode(words))
        built = writer.finish(
            {
                "format_version": artifact.FORMAT_VERSION,
                "artifact_build_key": manifest.build_key,
                "encoder": spec,
                "dim": int(stored.shape[1]),
                "per_language": per_language,
                "reference": REFERENCE,
                "languages": {code: int(counts[i]) for i, code in enumerate(words.languages) if counts[i]},
                "rows": len(rows),
                "seconds": round(time.perf_counter() - started, 1),
                "words_per_second": round(len(texts) / max(encoding, 1e-9), 1),
                "threads": threads,
            },
            artifact.EncoderSpaceManifest,
        )
    return built, True
