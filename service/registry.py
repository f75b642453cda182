"""The loaded-model registry: artifacts opened read-only (matrix memory-mapped, index as a view).

Everything a request needs that can be derived once per model is derived here at start-up: token
lookup tables, per-label id lists, the CSLS neighborhood means.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from geometry.neighbors import Space
from geometry.translation import neighborhood_means
from loaders import artifact
from loaders.artifact import (
    ArtifactError,
    Manifest,
    Segmenter,
    StringIndex,
    TokenStrings,
    load_segmenter,
    open_strings,
    return_freed_memory,
)
from service.encoder_spaces import EncoderSpace, open_encoder_space
from service.errors import (
    InvalidInput,
    MissingLabels,
    OutOfRange,
    StillBuilding,
    UnknownLabel,
    UnknownModel,
    UnknownToken,
)
from service.language_labels import LanguageTable
from service.lexicons import Lexicon
from service.response_types import LanguageDetail
from service.settings import Settings

WORD_MARK = "\u2581"
BUILDING_RETRY = 15  # seconds a client is asked to wait for a model still being built
T = TypeVar("T")


@dataclass(frozen=True)
class Labels:
    codes: np.ndarray  # uint16 per token
    names: list[str]

    def counts(self) -> dict[str, int]:
        per_code = np.bincount(self.codes, minlength=len(self.names))
        return {name: int(per_code[i]) for i, name in enumerate(self.names)}


@dataclass
class LoadedModel:
    name: str
    directory: Path
    manifest: Manifest
    space: Space
    raw: TokenStrings
    display: TokenStrings  # the same object as raw where the forms are equal (SentencePiece)
    strings: StringIndex  # ids by raw or display form (loaders/artifact/_strings.py)
    kinds: np.ndarray
    labels: dict[str, Labels]
    means: np.ndarray | None  # each token's CSLS neighborhood mean; None: a first build's, still building
    load_seconds: float
    languages: LanguageTable | None = None  # None: an artifact built before language labels
    segmenter: Segmenter | None = None  # the model's tokenizer (None: the artifact carries none)
    lexicon: Lexicon | None = None
    encoder_space: EncoderSpace | None = None  # the encoded lexicon words (None: see encoder_missing)
    encoder_missing: str = ""  # why space=encoder is not available
    encoder_seen: str = ""  # the checksum of the encoder manifest last looked at ("": none)
    reachable: np.ndarray | None = None  # int8 per token (loaders/build/reachability.py); None: not checked
    layout: np.ndarray | None = None  # float16 vocab x 2, the vocabulary map (mapped); None: not built
    derived: dict[str, Any] = field(default_factory=dict)  # computed on first use: `derive`
    label_combination: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    label_sets: dict[int, dict[str, str]] = field(default_factory=dict)
    _deriving: threading.Lock = field(default_factory=threading.Lock, repr=False)
    checksum: str = ""  # the manifest's (a hash over the file list: computed once, keys every request)

    def __post_init__(self) -> None:
        self._keyed()
        # one integer per token naming its labels in every scheme (mixed radix over the schemes)
        combination = np.zeros(len(self.raw), dtype=np.int64)
        for labels in self.labels.values():
            combination = combination * len(labels.names) + labels.codes
        self.label_combination = combination

    def _keyed(self) -> None:
        self.checksum = self.manifest.checksum
        if self.encoder_space is not None:  # answers in either space change when it is rebuilt
            self.checksum += self.encoder_space.info.checksum

    def refresh_encoder_space(self) -> bool:
        """Pick up an encoder space built (or rebuilt) since the model was loaded, without a restart:
        True when the space that answers changed (the cache keys with it)."""
        info = artifact.read_encoder_manifest(self.directory)
        seen = "" if info is None else info.checksum
        if seen == self.encoder_seen:
            return False
        space, missing = open_encoder_space(self.directory, self.manifest, self.lexicon)
        self.encoder_space, self.encoder_missing, self.encoder_seen = space, missing, seen
        self._keyed()
        return True

    # ------------------------------------------------------------- tokens

    def derive(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()` once per model, kept: requests arriving together wait for the one computation."""
        if name not in self.derived:
            with self._deriving:
                if name not in self.derived:
                    self.derived[name] = compute()
        found: T = self.derived[name]
        return found

    def check_id(self, ident: int) -> int:
        if not 0 <= ident < len(self.raw):
            raise OutOfRange(f"token id {ident} is outside 0..{len(self.raw) - 1}")
        return ident

    def lookup(self, text: str, prefer_word: bool = False) -> tuple[int, str] | None:
        """A token by its raw or display form, else by the word-initial form '▁' + text.

        `prefer_word` tries '▁' + text first: dictionary words are words, not word pieces.
        """
        tries = [(text, "exact")]
        if not text.startswith(WORD_MARK):
            tries.insert(1 if not prefer_word else 0, (WORD_MARK + text, "word-initial"))
        for form, how in tries:
            ident = self.strings.get(form)
            if ident is not None:
                return ident, how
        return None

    def resolve(self, text: str) -> tuple[int, str]:
        found = self.lookup(text)
        if found is None:
            raise UnknownToken(f"{text!r} is not a token of {self.name}", suggestions=self.suggest(text))
        return found

    def segment(self, text: str) -> list[int]:
        """The text's pieces by the model's own tokenizer."""
        if self.segmenter is None:
            raise InvalidInput(
                f"{self.name}'s artifact carries no tokenizer, so text queries are not possible"
                " (GGUF and word-vector sources have none; rebuild hf: sources to add it)"
            )
        return self.segmenter.ids(text)

    @property
    def first_build(self) -> bool:
        """Served from an early build (its first: rows, vocabulary, labels; then with the neighbor table
        and CSLS means) while the full build makes the rest."""
        return bool(self.manifest.stages_left)

    def needs(self, stage: str, field: str | None = None) -> None:
        """A 503 naming `stage` when it is still being built (served from an early build until then), or
        when the build stopped before it (and why)."""
        if stage in self.manifest.stages_left:
            found = artifact.read_build_progress(self.directory)  # read only on the way to a 503
            why = found.failed if found is not None else ""
            raise StillBuilding(
                f"{self.name} is served from an early build: its build stopped before its {stage} ({why});"
                " it is built again when the service restarts"
                if why
                else f"{self.name} is served from an early build while the rest is built; what needs its "
                f"{stage} answers once that stage lands (no restart needed)",
                field=field,
                retry_after=BUILDING_RETRY,
                stage=stage,
                building=list(self.manifest.stages_left),
                **({"failed": why} if why else {}),
            )

    @property
    def csls_r(self) -> np.ndarray:
        """Each token's CSLS neighborhood mean (a 503 while a first build's means are being built)."""
        self.needs(artifact.MEANS_STAGE, field="method")
        if self.means is None:
            raise StillBuilding(f"{self.name} has no CSLS means", retry_after=BUILDING_RETRY, field="method")
        return self.means

    def pool(self) -> Lexicon:
        self.needs(artifact.LEXICON_STAGE, field="pool")
        if self.lexicon is None:
            raise InvalidInput(
                f"{self.name}'s artifact has no lexicon (it needs a tokenizer and a build with"
                " --lexicon-size > 0)",
                field="pool",
            )
        return self.lexicon

    def encoded(self) -> EncoderSpace:
        """The encoder space, or a 400 that says why there is none (no network, not built yet)."""
        self.needs(artifact.LEXICON_STAGE, field="space")
        if self.encoder_space is None:
            raise InvalidInput(self.encoder_missing, field="space")
        return self.encoder_space

    def words_in(self, space: str) -> Lexicon:
        """The lexicon's words in the input space, or the encoded ones."""
        return self.pool() if space == "input" else self.encoded().words

    def prefix(self, text: str) -> np.ndarray:
        """Ids of tokens whose raw/display form starts with `text`, in string order: one slice of the
        sorted strings (two binary searches), whatever the number of matches."""
        return self.strings.prefix(text)

    def suggest(self, text: str, n: int = 5) -> list[str]:
        """Close matches from tokens sharing the first characters (cheap on 250k tokens)."""
        stem = text.removeprefix(WORD_MARK)
        pool: set[str] = set()
        for length in (3, 2, 1):
            for start in (stem[:length], WORD_MARK + stem[:length]):
                if start:
                    pool.update(self.raw[i] for i in self.prefix(start)[:5000].tolist())
            if len(pool) >= n:
                break
        return difflib.get_close_matches(text, sorted(pool), n=n, cutoff=0.5)

    def label_of(self, ident: int) -> dict[str, str]:
        return {scheme: labels.names[int(labels.codes[ident])] for scheme, labels in self.labels.items()}

    def labels_of(self, ids: np.ndarray) -> list[dict[str, str]]:
        """`label_of` for many tokens. Tokens with the same labels in every scheme share one dict
        (a few thousand combinations): read-only values for the encoder."""
        shared = self.label_sets
        out = []
        for ident, combination in zip(ids.tolist(), self.label_combination[ids].tolist(), strict=True):
            labels = shared.get(combination)
            if labels is None:
                labels = shared[combination] = self.label_of(ident)
            out.append(labels)
        return out

    def languages_of(self, ids: np.ndarray) -> list[LanguageDetail] | None:
        """Language label and evidence of each token (None: the artifact has no language labels)."""
        if self.languages is None:
            return None
        labels = self.labels["language"]
        names = [labels.names[code] for code in labels.codes[ids].tolist()]
        return self.languages.details(ids, names)

    def language_table(self) -> LanguageTable:
        if self.languages is None:
            raise MissingLabels(
                f"{self.name} has no language labels: its artifact predates them; rebuild it"
                " with `python -m loaders build`"
            )
        return self.languages

    def kind_of(self, ident: int) -> str:
        return artifact.TOKEN_KINDS[int(self.kinds[ident])]

    @property
    def kind_counts(self) -> dict[str, int]:
        """Tokens per kind, every kind named (0 where none)."""
        per_code = np.bincount(self.kinds, minlength=len(artifact.TOKEN_KINDS))
        return {kind: int(per_code[i]) for i, kind in enumerate(artifact.TOKEN_KINDS)}

    # ------------------------------------------------------------- filters

    def scheme(self, scheme: str) -> Labels:
        if scheme not in self.labels:
            raise UnknownLabel(f"unknown label scheme {scheme!r}; known: {', '.join(self.labels)}")
        return self.labels[scheme]

    def label_mask(self, scheme: str, names: list[str]) -> np.ndarray:
        """Boolean mask over the vocabulary: tokens carrying any of `names` (case-insensitive)."""
        labels = self.scheme(scheme)
        folded = {name.casefold(): code for code, name in enumerate(labels.names)}
        codes = []
        for name in names:
            if name.casefold() not in folded:
                raise UnknownLabel(f"unknown {scheme} label {name!r}", known=labels.names)
            codes.append(folded[name.casefold()])
        # a lookup table over the few label codes: one vectorised pass over the vocabulary
        table = np.zeros(len(labels.names), dtype=bool)
        table[codes] = True
        mask: np.ndarray = table[labels.codes]
        return mask

    def label_ids(self, scheme: str, names: list[str]) -> np.ndarray:
        """Sorted ids of tokens carrying any of `names` (case-insensitive) in `scheme`."""
        return np.flatnonzero(self.label_mask(scheme, names))

    def language_mask(self, codes: list[str]) -> np.ndarray:
        """Tokens labelled with any of the ISO 639 `codes` (unknown or unsupported codes raise)."""
        return self.label_mask("language", self.language_table().check_codes(codes))


class Registry:
    """The loaded models by name, and the models still being built (name -> the build key their
    artifact will carry), which `add` moves over as they arrive."""

    def __init__(self, models: list[LoadedModel], building: dict[str, str] | None = None) -> None:
        self.models = {m.name: m for m in models}
        self.building = {k: v for k, v in (building or {}).items() if k not in self.models}

    def get(self, name: str) -> LoadedModel:
        if name in self.models:
            return self.models[name]
        if name in self.building:
            raise StillBuilding(
                f"{name}'s artifact is still being built ({len(self.building)} of the models are); it is "
                "served as soon as it is ready",
                retry_after=BUILDING_RETRY,
                building=sorted(self.building),
            )
        raise UnknownModel(f"no model {name!r} is loaded", known=sorted(self.models))

    def add(self, model: LoadedModel) -> None:
        """Serve `model` (replacing its first build when it is the full one)."""
        self.models[model.name] = model
        if not model.first_build:
            self.building.pop(model.name, None)


def building(settings: Settings) -> dict[str, str]:
    """The models being built (name -> build key), from settings.building."""
    pairs = [item.split(":", 1) for item in settings.building.split(",") if ":" in item]
    return {name: key for name, key in pairs}


def artifact_dirs(entries: tuple[Path, ...], pending: Iterable[str] = ()) -> list[Path]:
    """The artifact directories of `entries` (an artifact, or a folder of them), less the models still
    being built (their folder may hold an older artifact); none found is an error unless some are."""
    pending = set(pending)
    found: list[Path] = []
    for entry in entries:
        if (entry / artifact.MANIFEST).is_file():
            found.append(entry)
        elif entry.is_dir():
            found.extend(sorted(p for p in entry.iterdir() if p.is_dir() and not p.name.startswith(".")))
        elif pending:  # the first artifact being built will create the folder
            continue
        else:
            raise ArtifactError(
                f"{entry}: artifact directory does not exist (build it with `python -m loaders build`)"
            )
    found = [p for p in found if p.name not in pending]
    if not found and not pending:
        raise ArtifactError(f"no artifacts found in {', '.join(map(str, entries))}")
    return found


def check_artifacts(settings: Settings) -> list[Manifest]:
    """Cheap start-up checks before any worker starts: manifests, format versions, file sizes."""
    manifests = []
    for directory in artifact_dirs(settings.artifacts, building(settings)):
        manifest = artifact.read_manifest(directory)
        artifact.verify(directory, manifest, checksums=settings.verify_checksums)
        manifests.append(manifest)
    return manifests


def load_model(directory: Path, verify_checksums: bool) -> LoadedModel:

    started = time.perf_counter()
    manifest = artifact.read_manifest(directory)
    artifact.verify(directory, manifest, checksums=verify_checksums)
    rows = manifest.vocab_size
    matrix = artifact.open_array(directory, artifact.MATRIX, rows)
    if matrix.shape[1] != manifest.dim:
        raise ArtifactError(
            f"{directory}: matrix has dimension {matrix.shape[1]}, the manifest says {manifest.dim}"
        )
    norms = np.asarray(artifact.open_array(directory, artifact.NORMS, rows))
    raw, display, strings = open_strings(directory, manifest)
    knn_ids = knn_sims = None
    if manifest.knn_k:
        knn_ids = artifact.open_array(directory, artifact.KNN_IDS, rows)
        knn_sims = artifact.open_array(directory, artifact.KNN_SIMS, rows)
    index = None if artifact.INDEX_STAGE in manifest.stages_left else _index(directory, manifest)
    space = Space(matrix, norms, index, knn_ids, knn_sims, np.flatnonzero(norms > 0))
    labels = {
        scheme: Labels(
            np.asarray(artifact.open_array(directory, artifact.labels_file(scheme), rows)), info.names
        )
        for scheme, info in manifest.labels.items()
    }
    lexicon = None if manifest.lexicon is None else Lexicon.open(directory, manifest.lexicon)
    encoder_space, encoder_missing = open_encoder_space(directory, manifest, lexicon)
    encoder_info = artifact.read_encoder_manifest(directory)
    return LoadedModel(
        name=manifest.name,
        directory=directory,
        manifest=manifest,
        space=space,
        raw=raw,
        display=display,  # the same table as raw where the forms are equal (SentencePiece)
        strings=strings,
        kinds=np.asarray(artifact.open_array(directory, artifact.KINDS, rows)),
        labels=labels,
        languages=(
            LanguageTable.open(directory, manifest.languages, rows, labels["language"].names)
            if manifest.languages is not None and "language" in labels
            else None
        ),
        means=(
            np.asarray(artifact.open_array(directory, artifact.CSLS_R, rows))
            if artifact.CSLS_R in manifest.files
            else None
            if manifest.stages_left
            else neighborhood_means(space)  # an artifact of loader 0.8 or earlier: from its table
        ),
        segmenter=load_segmenter(directory, manifest, raw),
        lexicon=lexicon,
        encoder_space=encoder_space,
        encoder_missing=encoder_missing,
        encoder_seen="" if encoder_info is None else encoder_info.checksum,
        reachable=(
            np.asarray(artifact.open_array(directory, artifact.REACHABLE, rows))
            if artifact.REACHABLE in manifest.files
            else None
        ),
        layout=(
            artifact.open_array(directory, artifact.LAYOUT, rows)
            if artifact.LAYOUT in manifest.files
            else None
        ),
        load_seconds=time.perf_counter() - started,
    )


def _index(directory: Path, manifest: Manifest) -> Any:
    from usearch.index import Index

    try:
        index = Index.restore(str(directory / artifact.INDEX), view=True)
    except (RuntimeError, ValueError) as exc:
        raise ArtifactError(f"{directory}: {artifact.INDEX} cannot be restored ({exc})") from exc
    if index is None or len(index) != manifest.index.count or index.ndim != manifest.dim:
        raise ArtifactError(f"{directory}: {artifact.INDEX} does not match the manifest (count or dimension)")
    index.expansion_search = manifest.index.expansion_search  # type: ignore[misc]
    return index


def load_registry(settings: Settings) -> Registry:
    pending = building(settings)
    models = [load_model(d, settings.verify_checksums) for d in artifact_dirs(settings.artifacts, pending)]
    names = [m.name for m in models]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ArtifactError(f"two artifacts are both named {', '.join(sorted(duplicated))}")
    return_freed_memory()  # what decoding the vocabularies freed
    return Registry(models, pending)


def built_artifact(settings: Settings, name: str, key: str) -> tuple[Path, Manifest] | None:
    """The folder of `name`'s artifact (and its manifest) once the build with `key` has put it in
    place, or while that build runs, the first build before it (served until then); else None."""
    for entry in settings.artifacts:
        folder = entry / name
        try:
            manifest = artifact.read_manifest(folder)
        except ArtifactError:
            continue
        if manifest.build_key == key or manifest.stages_left:
            return folder, manifest
    return None
