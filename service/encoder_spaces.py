"""A model's encoder space as the service holds it: the encoded lexicon words (a Lexicon whose rows
are the encoder's outputs) and the encoder itself, which encodes queries at request time.

The encoder is loaded on the first query that needs it (e5's engine maps ~100 MB), in the worker
thread that runs the computation, never on the event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np

from geometry.translation import Composed
from loaders import artifact
from loaders.artifact import (
    ArtifactError,
    Encoder,
    EncoderSpec,
    NoEncoder,
    load_encoder,
    missing_package,
    unit_rows,
)
from service.errors import InvalidInput
from service.lexicons import Lexicon

PAD = 8  # characters a text costs beyond its own (the prefix, the special pieces)
LEARNING = 0.3  # weight of the newest measurement in the running rate
MEASURED_FROM = 256  # characters: smaller calls are too short to time


BOUND = 4.0  # the measured rate stays within this factor of the build's


@dataclass
class EncoderCost:
    """Seconds of encoding per character (each text counting PAD more), from the build's rate at
    first and then from what each encode call measures here, so the prediction follows this
    machine and the lengths of the texts asked for. A call that ran beside others is divided by how
    many ran at once: the budget predicts one request's own work (a request is refused for its
    size, never for the load: the admission gate answers load with a 503), and within BOUND of
    the build's rate, so no run of slow measurements can refuse every request for good."""

    seconds_per_char: float
    build: float = 0.0  # the build's rate
    running: int = 0  # encode calls in progress in this process

    def __post_init__(self) -> None:
        self.build = self.build or self.seconds_per_char
        self._lock = threading.Lock()

    @classmethod
    def of_build(cls, words_per_second: float, mean_chars: float) -> EncoderCost:
        return cls(1.0 / (max(words_per_second, 1.0) * (mean_chars + PAD)))

    def predict(self, texts: int, characters: int) -> float:
        return (characters + PAD * texts) * self.seconds_per_char

    def observe(self, texts: int, characters: int, seconds: float, alongside: int = 1) -> None:
        """One call's time; `alongside`: how many calls ran at once (itself included)."""
        size = characters + PAD * texts
        if size < MEASURED_FROM:
            return
        measured = seconds / max(alongside, 1) / size
        updated = self.seconds_per_char + LEARNING * (measured - self.seconds_per_char)
        self.seconds_per_char = min(max(updated, self.build / BOUND), self.build * BOUND)

    def timed(self, texts: Sequence[str], encode: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            self.running += 1
            alongside = self.running
        started = time.perf_counter()
        try:
            return encode()
        finally:
            took = time.perf_counter() - started
            with self._lock:
                alongside = max(alongside, self.running)
                self.running -= 1
            self.observe(len(texts), sum(map(len, texts)), took, alongside)


@dataclass
class EncoderSpace:
    info: artifact.EncoderSpaceManifest
    words: Lexicon  # rows: the encoder's unit output for each encoded lexicon word
    lexicon_rows: np.ndarray  # the input lexicon's row of each encoded word
    _encoder: Encoder | None = None
    _loading: threading.Lock = field(default_factory=threading.Lock, repr=False)
    cost: EncoderCost = field(init=False)

    def __post_init__(self) -> None:
        mean_chars = float(np.mean([len(word) for word in self.words.words])) if self.words.words else 8.0
        self.cost = EncoderCost.of_build(self.info.words_per_second, mean_chars)

    @property
    def spec(self) -> EncoderSpec:
        return self.info.encoder

    def encoder(self) -> Encoder:
        with self._loading:
            if self._encoder is None:
                try:
                    self._encoder = load_encoder(self.spec)
                except NoEncoder as exc:
                    raise InvalidInput(str(exc), field="space") from exc
            return self._encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit rows (float32) of the texts as the encoder space's words were made."""
        encoder = self.encoder()  # loading it is not encoding: not timed
        return self.cost.timed(texts, lambda: unit_rows(encoder(list(texts))))

    def r_of(self, vectors: np.ndarray) -> np.ndarray:
        """CSLS neighborhood means of query vectors among the encoded words."""
        return Composed.of(self.words.space, vectors).r


def open_encoder_space(
    directory: Path, manifest: artifact.Manifest, lexicon: Lexicon | None
) -> tuple[EncoderSpace | None, str]:
    """(the artifact's encoder space, or None with the reason a request for it is told)."""
    try:
        spec = EncoderSpec.of(manifest.source.kind, manifest.source.location)
    except NoEncoder as exc:
        return None, str(exc)
    build = (
        f"python -m loaders encoder-space ARTIFACTS/{directory.name} (make encoder-spaces; make run "
        "builds it behind serving)"
    )
    info = artifact.read_encoder_manifest(directory)
    if lexicon is None:
        return None, f"{manifest.name}'s artifact has no lexicon, so no encoder space"
    if info is None:
        return None, f"{manifest.name}'s encoder space ({spec.describe()}) is not built: {build}"
    if info.artifact_build_key != manifest.build_key:
        return None, f"{manifest.name}'s encoder space belongs to an earlier build of the artifact: {build}"
    absent = missing_package(info.encoder)
    if absent is not None:
        return None, f"{manifest.name}'s encoder space is built, but {absent}"
    folder = directory / artifact.ENCODER_DIR
    artifact.verify(folder, info, checksums=False)
    rows = artifact.open_array(folder, artifact.ENCODER_ROWS, info.rows)
    if rows.shape[1] != info.dim:
        raise ArtifactError(f"{folder}: rows have dimension {rows.shape[1]}, the manifest says {info.dim}")
    chosen = np.asarray(artifact.open_array(folder, artifact.ENCODER_WORDS, info.rows), dtype=np.int64)
    encoded_row = np.full(len(lexicon.words), -1, dtype=np.int32)  # input lexicon row -> encoded row
    encoded_row[chosen] = np.arange(len(chosen), dtype=np.int32)
    lemma = lexicon.lemma[chosen]
    encoded = Lexicon.of_rows(
        rows,
        np.asarray(artifact.open_array(folder, artifact.ENCODER_R, info.rows)),
        [lexicon.words[int(i)] for i in chosen],
        lexicon.language[chosen],
        lexicon.languages,
        lexicon.pieces[chosen],
        np.where(lemma >= 0, encoded_row[np.maximum(lemma, 0)], -1).astype(np.int32),
    )
    return EncoderSpace(info, encoded, chosen), ""


def build_progress(directory: Path) -> tuple[int, int] | None:
    """(words encoded, words in all) while the artifact's encoder space is being built, else None."""
    try:
        state = msgspec.json.decode((directory / artifact.ENCODER_PROGRESS).read_bytes())
        return int(state["done"]), int(state["total"])
    except (OSError, msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None
