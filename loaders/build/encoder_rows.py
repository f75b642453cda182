"""The encoder space of an artifact: the model's forward pass over every lexicon word (or each
language's first words), stored beside the input table (artifact.ENCODER_DIR) and built after it,
behind serving, since it takes minutes (e5 encodes ~400 words/s on 2 cores: its 367,542 lexicon words
in ~15 minutes; USE ~5,000/s). `make run` builds it after the artifacts; the service picks it up
when it lands, without a restart.

    python -m loaders encoder-space artifacts/multilingual-e5-small [--per-language N]

Rows are unit vectors in float16, like the lexicon's; r is each row's CSLS neighborhood mean among
the encoded words (exact: the symmetric kernel of the neighbor table). While it runs, ENCODER_PROGRESS in the
artifact says how far it is. The space is tied to its artifact's build_key: a rebuilt artifact has no
encoder space until this runs again.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import numpy as np

from loaders import artifact
from loaders.artifact import ArtifactError, Encoder, EncoderSpec, encode_all, load_encoder
from loaders.build.pipeline import Stage, silent, stage
from loaders.build.table_kernel import symmetric_table

PER_LANGUAGE = 0  # every lexicon word (N: each language's first N, its most frequent)
REPORT_EVERY = 4096  # words between progress reports
CSLS_K = 10


def chosen_rows(words: artifact.LexiconWords, per_language: int) -> np.ndarray:
    """The lexicon rows encoded: each language's first `per_language` (its most frequent words), or
    every row (0)."""
    if per_language <= 0:
        return np.arange(len(words.words), dtype=np.int32)
    language = np.asarray(words.language)
    return np.concatenate(
        [np.flatnonzero(language == code)[:per_language] for code in range(len(words.languages))]
    ).astype(np.int32)


def neighborhood_means(stored: np.ndarray, threads: int) -> np.ndarray:
    """Each row's mean cosine to its CSLS_K nearest rows (itself left out), exact."""
    if len(stored) <= CSLS_K:
        return np.full(len(stored), np.nan, dtype=np.float32)

    def unit_of(ids: np.ndarray) -> np.ndarray:
        return np.asarray(stored[ids], dtype=np.float32)  # stored rows are unit vectors

    _, sims = symmetric_table(unit_of, len(stored), CSLS_K, threads=threads)
    means: np.ndarray = sims.mean(axis=1).astype(np.float32)
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
    words = msgspec.json.decode((directory / artifact.LEXICON_WORDS).read_bytes(), type=artifact.LexiconWords)
    rows = chosen_rows(words, per_language)
    texts = [words.words[row] for row in rows]
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
            unit = encode_all(encode, texts, advance)
        finally:
            report.unlink(missing_ok=True)
    encoding = time.perf_counter() - started
    stored = unit.astype(np.float16)
    with stage(progress, "neighborhood means", 1) as bar:
        r = neighborhood_means(stored, threads)
        bar.update(1, 1)
    counts = np.bincount(np.asarray(words.language)[rows], minlength=len(words.languages))
    with artifact.writing(directory / artifact.ENCODER_DIR) as writer:
        writer.save_array(artifact.ENCODER_ROWS, stored)
        writer.save_array(artifact.ENCODER_WORDS, rows)
        writer.save_array(artifact.ENCODER_R, r.astype(np.float32))
        built = writer.finish(
            {
                "format_version": artifact.FORMAT_VERSION,
                "artifact_build_key": manifest.build_key,
                "encoder": spec,
                "dim": int(stored.shape[1]),
                "per_language": per_language,
                "languages": {code: int(counts[i]) for i, code in enumerate(words.languages) if counts[i]},
                "rows": len(rows),
                "seconds": round(time.perf_counter() - started, 1),
                "words_per_second": round(len(texts) / max(encoding, 1e-9), 1),
                "threads": threads,
            },
            artifact.EncoderSpaceManifest,
        )
    return built, True
