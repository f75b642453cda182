"""source -> artifact: extract, check, label, index, and write atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from geometry.neighbors import Space
from geometry.translation import neighborhood_means, table_means
from loaders import LOADER_VERSION, artifact
from loaders.artifact import (
    PAPER_UNICODE_VERSION,
    ArtifactError,
    IndexParams,
    LabelScheme,
    Manifest,
    Segmenter,
    SourceError,
    check_texts,
    compact_unigram,
    display_forms,
    encode_labels,
    fonttools_unicode_version,
    label_tokens,
    language_scripts,
    looks_byte_level,
    return_freed_memory,
    segmenter_from,
    token_kinds,
)
from loaders.build import lexicon as lx
from loaders.build.index import build_index, unit_rows
from loaders.build.language_guesses import LanguageLabels, label_languages
from loaders.build.neighbor_table import Table, UnitRows, choose, exact_table, hnsw_table
from loaders.build.reachability import reachability
from loaders.build.rows import MappedRows
from loaders.build.sources import Extracted, Source, parse_source
from loaders.build.vocabulary_map import LayoutRun

# A table may carry padding rows past the tokenizer (mT5: 250,112 rows for 250,100 pieces), but
# not more than this: beyond it the vocabulary and the matrix belong to different models.
MAX_PADDING_SHARE = 0.05
MAX_PADDING_ROWS = 256

PAPER_DESCRIPTION = "seed paper: first word of the Unicode name for letters, general category otherwise"
UNICODE_DESCRIPTION = "Unicode Script property with Script_Extensions; Common/Inherited ignored"
LANGUAGE_DESCRIPTION = (
    "top language of word-initial tokens by wordfreq frequency x writing population;"
    " 'ambiguous' below the share threshold, 'unlabelled' when not a word in any list"
)
# The files that depend only on the stored rows and the index parameters: a rebuild for new labels
# takes them from an earlier artifact of the same rows instead of recomputing (~15 min on e5).
TABLE_FILES = (artifact.KNN_IDS, artifact.KNN_SIMS)
GEOMETRY_FILES = (artifact.INDEX, *TABLE_FILES)
RECORD_EVERY = 1.0  # seconds between writes of a recorded build's progress
WHOLE_UNIT_BYTES = 1 << 30  # the exact table holds float32 unit rows whole up to this (e5: 384 MB)


@dataclass(frozen=True)
class BuildOptions:
    dtype: str = "f16"  # stored matrix: f16 | f32
    index: IndexParams = field(default_factory=IndexParams)
    knn: int = 100  # neighbors per token in the table; 0 skips the table
    table: str = "auto"  # one of neighbor_table.METHODS: auto | exact | hnsw
    candidates: int = 0  # hnsw: candidates per row before the re-rank (0: twice knn)
    workers: int = 1  # threads sharing the exact table (same result: not part of the key)
    tensor: str | None = None  # hf: override the embedding tensor name
    # the lexicon (needs a tokenizer): the languages of lists (empty: every wordfreq list, and the
    # scripts no list covers), words per list language (0: no lexicon), users' lists (language, file)
    lexicon_languages: tuple[str, ...] = ()
    lexicon_size: int | None = None  # None: lexicon.default_size (a budget of bytes); 0: no lexicon
    lexicon_words: tuple[tuple[str, str], ...] = ()
    layout: str = "umap"  # the vocabulary map (loaders/build/vocabulary_map.py): umap | pca | none
    layout_seed: int = 0
    layout_epochs: int = 0  # umap optimisation epochs; 0: umap-learn's default for the size
    # a first build: rows, vocabulary, labels and tokenizer only (artifact.LATER_STAGES left out),
    # which the service serves from exact scans while the full build makes the rest
    first: bool = False

    def key(self, fingerprint: str) -> str:
        params = {**asdict(self), "index": msgspec.to_builtins(self.index), "loader": LOADER_VERSION}
        # a user's word list counts by its content, not its path
        params["lexicon_words"] = [
            (lang, hashlib.sha256(Path(path).read_bytes()).hexdigest()) for lang, path in self.lexicon_words
        ]
        params.pop("workers")
        payload = msgspec.json.encode({"source": fingerprint, "params": params})
        return hashlib.sha256(payload).hexdigest()


Stage = Callable[[str, int], "StageBar"]


class StageBar:
    """Progress of one stage; the CLI substitutes a tqdm bar, tests and the library run silent."""

    def update(self, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


def silent(_name: str, _total: int) -> StageBar:
    return StageBar()


class RecordedBar(StageBar):
    """A stage's bar that also writes where the build is to a file (at most every RECORD_EVERY s),
    which the service reads while it serves the first build."""

    def __init__(self, inner: StageBar, path: Path, name: str, total: int) -> None:
        self.inner, self.path, self.name, self.written = inner, path, name, 0.0
        self.update(0, total)

    def update(self, done: int, total: int) -> None:
        self.inner.update(done, total)
        now = time.monotonic()
        if now - self.written >= RECORD_EVERY or done >= total:
            self.written = now
            state = {"stage": self.name, "done": done, "total": total}
            with contextlib.suppress(OSError):  # progress is shown, never needed
                self.path.write_bytes(msgspec.json.encode(state))

    def close(self) -> None:
        self.inner.close()


def recorded(progress: Stage, path: Path) -> Stage:
    """`progress`, also recorded to `path` (artifact.BUILD_PROGRESS of the first build being served)."""
    return lambda name, total: RecordedBar(progress(name, total), path, name, total)


@contextmanager
def stage(progress: Stage, name: str, total: int) -> Iterator[StageBar]:
    bar = progress(name, total)
    try:
        yield bar
    finally:
        bar.close()


def check_existing(out: Path, fingerprint: str, key: str) -> Manifest | None:
    """The existing artifact when it is already this build; None when `out` may be (re)written."""
    if not out.exists():
        return None
    if not (out / artifact.MANIFEST).exists():
        if out.is_dir() and not any(out.iterdir()):
            return None
        raise ArtifactError(f"{out} exists and is not an artifact; choose another --out or remove it")
    try:
        manifest = artifact.read_manifest(out)
    except ArtifactError:
        return None  # an artifact of another format version: rebuild it in place
    if manifest.source.fingerprint != fingerprint:
        raise ArtifactError(
            f"{out} holds an artifact of another source ({manifest.source.kind}:{manifest.source.location});"
            " choose another --out or remove it"
        )
    if manifest.build_key == key:
        artifact.verify(out, manifest, checksums=False)
        return manifest
    return None


def checked_matrix(extracted: Extracted, where: str) -> Any:
    """The table, after shape checks (values are checked as `_write_rows` streams them); rows past
    the vocabulary are padding and never read."""
    matrix = extracted.matrix
    tokens = len(extracted.tokens)
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise SourceError(f"{where}: embedding table has shape {matrix.shape}")
    if tokens > matrix.shape[0]:
        raise SourceError(
            f"{where}: vocabulary has {tokens} tokens but the table only {matrix.shape[0]} rows"
        )
    if matrix.shape[0] - tokens > max(MAX_PADDING_ROWS, MAX_PADDING_SHARE * matrix.shape[0]):
        raise SourceError(
            f"{where}: table has {matrix.shape[0]} rows for {tokens} tokens: more than padding,"
            " the vocabulary does not belong to this table"
        )
    return matrix


def build_cached(
    spec: str,
    out: Path,
    cache: Path,
    options: BuildOptions,
    progress: Stage = silent,
    drop_older: bool = False,
) -> tuple[Manifest, bool]:
    """Build into `cache/<name>-<key>` (reused when present) and point the symlink `out` at it. With
    `drop_older`, the source's other builds in the cache go once this one is in: they were offered
    as donors, and what was reused from them is hard-linked (each is ~1-2 GB, one a code change)."""
    source = parse_source(spec, tensor=options.tensor)
    fingerprint = source.fingerprint()
    key = options.key(fingerprint)
    target = _cache_target(cache, source, key)
    if out.exists() and not out.is_symlink():
        raise ArtifactError(f"{out} exists and is not a symlink into the cache; remove it or drop --cache")
    donors = _builds_of(cache, source)

    def early(writer: artifact.ArtifactWriter, fields: dict[str, Any]) -> None:
        place = _cache_target(cache, source, fields["build_key"])
        writer.snapshot(place, fields, artifact.Manifest)
        _point(out, place)

    others = [d for d in donors if d != target]
    result = _build(source, fingerprint, key, target, options, progress, others, early)
    _point(out, target)
    # the early artifact is done with (a service still reading it holds its files open)
    shutil.rmtree(_cache_target(cache, source, early_key(key)), ignore_errors=True)
    if drop_older:
        for other in others:
            shutil.rmtree(other, ignore_errors=True)
    return result


def _point(out: Path, target: Path) -> None:
    """Make the symlink `out` point at `target`: atomic, readers see the old or the new artifact."""
    out.parent.mkdir(parents=True, exist_ok=True)
    link = out.with_name(f".{out.name}.link")
    link.unlink(missing_ok=True)
    link.symlink_to(target, target_is_directory=True)
    link.replace(out)


def _cache_target(cache: Path, source: Source, key: str) -> Path:
    return cache.expanduser().resolve() / f"{Path(source.location).name}-{key[:16]}"


def _builds_of(cache: Path, source: Source) -> list[Path]:
    """The cache's builds of `source` (folders named as `_cache_target` names them), sorted."""
    folder, name = cache.expanduser().resolve(), Path(source.location).name
    if not folder.is_dir():
        return []
    named = re.compile(re.escape(name) + r"-[0-9a-f]{16}")
    return sorted(p for p in folder.iterdir() if named.fullmatch(p.name))


def in_cache(spec: str, cache: Path, options: BuildOptions) -> bool:
    """Whether `cache` already holds this build (building it again is a link)."""
    source = parse_source(spec, tensor=options.tensor)
    fingerprint = source.fingerprint()
    key = options.key(fingerprint)
    return check_existing(_cache_target(cache, source, key), fingerprint, key) is not None


def current_build(spec: str, out: Path, options: BuildOptions) -> tuple[str, bool]:
    """The build key of `spec` with `options`, and whether `out` already holds that build (nothing
    to build then). Cheap: the source's fingerprint and the manifest, no extraction."""
    key = options.key(parse_source(spec, tensor=options.tensor).fingerprint())
    try:
        return key, artifact.read_manifest(out).build_key == key
    except ArtifactError:
        return key, False


# An artifact of the build's early stages (artifact.ArtifactWriter.snapshot): its manifest fields.
Early = Callable[[artifact.ArtifactWriter, dict[str, Any]], None]
# What the early artifact still lacks: it holds the rows, labels, neighbor table and CSLS means.
AFTER_TABLE = (artifact.INDEX_STAGE, artifact.LEXICON_STAGE, artifact.MAP_STAGE)


def early_key(key: str) -> str:
    """The build key of a build's early artifact (served until the build with `key` lands)."""
    return hashlib.sha256(f"{key}:{artifact.MEANS_STAGE}".encode()).hexdigest()


def serves_early(out: Path, key: str) -> bool:
    """Whether `out` holds the early artifact of the build with `key` (one stopped after its table):
    served as it is while that build resumes, no first build needed."""
    try:
        return artifact.read_manifest(out).build_key == early_key(key)
    except ArtifactError:
        return False


def build(spec: str, out: Path, options: BuildOptions, progress: Stage = silent) -> tuple[Manifest, bool]:
    """Build the artifact of `spec` into `out` (its early stages put in place first, served while it
    makes the rest). Returns (manifest, False) when it was already built."""
    source = parse_source(spec, tensor=options.tensor)
    with stage(progress, "fingerprint", 1) as bar:
        fingerprint = source.fingerprint()
        bar.update(1, 1)

    def early(writer: artifact.ArtifactWriter, fields: dict[str, Any]) -> None:
        writer.snapshot(out, fields, artifact.Manifest)

    return _build(source, fingerprint, options.key(fingerprint), out, options, progress, [out], early)


def _matching_donors(
    donors: list[Path], files: dict[str, str], names: tuple[str, ...], options: BuildOptions
) -> Iterator[tuple[Path, dict[str, Any], artifact.TableInfo]]:
    """Earlier artifacts with the same stored rows (`files`' hashes), holding `names`, whose table is
    exact or made the way asked: (its dir, its manifest as read, how its table was made)."""
    for donor in donors:
        try:
            raw = msgspec.json.decode((donor / artifact.MANIFEST).read_bytes(), type=dict[str, Any])
            same_rows = all(raw["files"][name]["sha256"] == sha for name, sha in files.items())
            present = all(name in raw["files"] and (donor / name).is_file() for name in names)
            table = _donor_table(raw)
        except (OSError, KeyError, TypeError, ValueError, msgspec.DecodeError, msgspec.ValidationError):
            continue
        fits = table.method == "exact" or options.table in ("auto", table.method)
        if same_rows and present and fits:
            yield donor, raw, table


def reusable_geometry(
    donors: list[Path], files: dict[str, str], options: BuildOptions
) -> tuple[Path, int, artifact.TableInfo] | None:
    """An earlier artifact with the same stored rows and index parameters whose table is exact or
    made the way asked: (its dir, index count, how its table was made)."""
    wanted = {k: v for k, v in msgspec.to_builtins(options.index).items() if k != "count"}
    for donor, raw, table in _matching_donors(donors, files, GEOMETRY_FILES, options):
        try:
            index = dict(raw["index"])
            count = int(index.pop("count"))
        except (KeyError, TypeError, ValueError):
            continue
        table_k = min(options.knn, count - 1) if options.knn > 0 else 0  # the table caps k likewise
        if index == wanted and raw.get("knn_k") == table_k:
            return donor, count, table
    return None


def resumable_table(
    donors: list[Path], files: dict[str, str], options: BuildOptions, rows: int
) -> tuple[Path, int, artifact.TableInfo] | None:
    """An earlier build's early artifact (its table and means in, its index not) with the same stored
    rows and a table made as asked: a build stopped after its table resumes from it (its dir, the
    table's k, how the table was made)."""
    table_k = min(options.knn, rows - 1)
    for donor, raw, table in _matching_donors(donors, files, TABLE_FILES, options):
        if raw.get("knn_k") == table_k > 0:
            return donor, table_k, table
    return None


def _drop_word_lists() -> None:
    """wordfreq keeps every list it read for the life of the process: ~1 GB after labelling with 42
    languages, which a 256k x 4,096 build needs for the index (issue 17: peak RSS)."""
    import wordfreq

    wordfreq.get_frequency_dict.cache_clear()
    wordfreq.get_frequency_list.cache_clear()
    wordfreq.top_n_list.cache_clear()
    wordfreq._wf_cache.clear()
    return_freed_memory()


@dataclass(frozen=True)
class Labelled:
    """A source's table and vocabulary with everything derived from the tokens alone."""

    extracted: Extracted
    rows: (
        Any  # the source table: an array or loaders.build.rows.MappedRows (padding rows past the vocabulary)
    )
    display: list[str]
    vocabulary: str  # a key of artifact.VOCABULARIES
    kinds: np.ndarray
    labels: dict[str, list[str]]
    languages: LanguageLabels


def _extract_and_label(source: Source, spec: str, progress: Stage) -> Labelled:
    with stage(progress, "extract", 1) as bar:
        extracted = source.extract()
        rows = checked_matrix(extracted, spec)
        bar.update(1, 1)
    vocabulary = extracted.vocabulary
    if vocabulary == "unknown" and looks_byte_level(extracted.tokens):
        vocabulary = "byte-level-bpe"
    display = display_forms(extracted.tokens, vocabulary == "byte-level-bpe")
    with stage(progress, "label", 1) as bar:
        specials = sorted(set(extracted.special_ids.values()))
        kinds = token_kinds(extracted.tokens, display, specials, vocabulary, extracted.declared_kinds)
        labels = label_tokens(display, kinds)
        languages = label_languages(display, kinds, labels["unicode"])
        labels["language"] = languages.labels
        bar.update(1, 1)
    _drop_word_lists()
    return Labelled(extracted, rows, display, vocabulary, kinds, labels, languages)


ROW_BLOCK = 8192


def _write_rows(writer: artifact.ArtifactWriter, rows: Any, count: int, dtype: str, spec: str) -> np.ndarray:
    """Stream the vocabulary's `count` rows into the stored matrix, one float32 block at a time;
    returns every stored row's float32 norm (of the rows as stored: the service divides the stored
    rows by them, so a norm of the source rows would put every cosine off by up to 3e-4)."""
    norms = np.empty(count, dtype=np.float32)
    stored = np.float16 if dtype == "f16" else np.float32

    def blocks() -> Iterator[np.ndarray]:
        for lo in range(0, count, ROW_BLOCK):
            block = np.asarray(rows[lo : min(lo + ROW_BLOCK, count)], dtype=np.float32)
            if not np.isfinite(block).all():
                raise SourceError(f"{spec}: embedding table holds NaN or infinite values (corrupted?)")
            as_stored = block.astype(stored).astype(np.float32)
            if not np.isfinite(as_stored).all():
                raise SourceError(f"{spec}: embedding values overflow {dtype} (build with --dtype f32)")
            norms[lo : lo + len(block)] = np.linalg.norm(as_stored, axis=1)
            yield block

    writer.save_blocks(artifact.MATRIX, (count, int(rows.shape[1])), stored, blocks())
    return norms


def _indexed_keys(norms: np.ndarray, kinds: np.ndarray, spec: str) -> np.ndarray:
    """Keys of the indexed rows; `norms` set to 0 for rows never returned (special and unused
    tokens are stored but never indexed)."""
    never = [artifact.TOKEN_KINDS.index(k) for k in ("special", "unused")]
    indexed = ~np.isin(kinds, never) & (norms > 0)
    norms[~indexed] = 0.0
    keys = np.flatnonzero(indexed).astype(np.uint64)
    if len(keys) < 2:
        raise SourceError(f"{spec}: fewer than two non-special, non-zero rows to index")
    return keys


def _write_labels(writer: artifact.ArtifactWriter, labels: dict[str, list[str]]) -> dict[str, LabelScheme]:
    versions = {"paper": PAPER_UNICODE_VERSION, "unicode": fonttools_unicode_version(), "language": ""}
    descriptions = {
        "paper": PAPER_DESCRIPTION,
        "unicode": UNICODE_DESCRIPTION,
        "language": LANGUAGE_DESCRIPTION,
    }
    schemes: dict[str, LabelScheme] = {}
    for scheme, values in labels.items():
        codes, names = encode_labels(values)
        writer.save_array(artifact.labels_file(scheme), codes)
        schemes[scheme] = LabelScheme(names, versions[scheme], descriptions[scheme])
    return schemes


def _donor_table(raw: dict[str, Any]) -> artifact.TableInfo:
    if raw.get("table"):
        return msgspec.convert(raw["table"], artifact.TableInfo)
    return artifact.TableInfo("exact", "numpy")  # every artifact before TableInfo has an exact table


def _table(method: str, writer: artifact.ArtifactWriter, rows: Any, norms: np.ndarray, keys: np.ndarray,
           options: BuildOptions, update: Callable[[int, int], None]) -> Table:  # fmt: skip
    """The neighbor table by loaders/build/neighbor_table.py: exact over float32 unit rows, or the
    index's candidates re-ranked over the stored matrix read in blocks."""
    if method == "exact":
        if len(keys) * int(rows.shape[1]) * 4 <= WHOLE_UNIT_BYTES:  # held whole: no per-chunk gather
            unit: Any = unit_rows(rows, norms, keys.astype(np.int64))
        else:  # read from the written matrix a chunk at a time (one float32 copy of a chunk)
            mapped = UnitRows(MappedRows.npy(writer.path(artifact.MATRIX), scattered=True), norms)
            unit = lambda positions: mapped.unit(keys[positions].astype(np.int64))  # noqa: E731
        return exact_table(unit, keys, options.knn, workers=options.workers, progress=update)
    from usearch.index import Index

    index = Index.restore(str(writer.path(artifact.INDEX)), view=True)
    stored = UnitRows(MappedRows.npy(writer.path(artifact.MATRIX), scattered=True), norms)
    return hnsw_table(index, stored, keys, options.knn, candidates=options.candidates, progress=update)


def _write_geometry(
    writer: artifact.ArtifactWriter,
    made: Labelled,
    norms: np.ndarray,
    keys: np.ndarray,
    options: BuildOptions,
    progress: Stage,
    donors: list[Path],
    on_table: Callable[[int, artifact.TableInfo | None], None],
) -> tuple[IndexParams, int, artifact.TableInfo | None]:
    """The HNSW index and the neighbor table: linked from an earlier artifact whose rows hash the
    same (relabelling is cheap), or the table alone from the early artifact of a build that stopped
    after it, else built; an exact table first, so that `on_table` (the map, in a
    child process) runs beside the index build. Returns the index parameters, the table's k and how
    the table was made."""
    rows_sha = {n: writer.sha256(n) for n in (artifact.MATRIX, artifact.NORMS)}
    reuse = reusable_geometry(donors, rows_sha, options)
    if reuse is not None:
        donor, count, table = reuse
        for name in GEOMETRY_FILES:
            artifact.link_or_copy(donor / name, writer.path(name))
        k = min(options.knn, count - 1) if options.knn > 0 else 0
        on_table(k, table if k else None)
        return msgspec.structs.replace(options.index, count=count), k, table if k else None

    def index() -> IndexParams:
        with stage(progress, "index", len(keys)) as bar:
            return build_index(
                lambda ids: unit_rows(made.rows, norms, ids),
                keys,
                options.index,
                writer.path(artifact.INDEX),
                bar.update,
            )

    if options.knn <= 0:
        on_table(0, None)
        return index(), 0, None
    resumed = resumable_table(donors, rows_sha, options, len(keys))
    if resumed is not None:  # restarted after its table: linked from the early artifact, not rebuilt
        donor, k, info = resumed
        for name in TABLE_FILES:
            artifact.link_or_copy(donor / name, writer.path(name))
        on_table(k, info)
        return index(), k, info
    method = choose(options.table, len(keys), int(made.rows.shape[1]))
    built = index() if method == "hnsw" else None  # its candidates are the table's
    with stage(progress, f"neighbor table ({method})", len(keys)) as bar:
        t = _table(method, writer, made.rows, norms, keys, options, bar.update)
    ids, sims, k = t.ids, t.sims, int(t.ids.shape[1])
    info = artifact.TableInfo(
        t.method, t.backend, t.candidates, round(t.recall, 4), t.sample, t.workers, round(t.seconds, 1)
    )
    full_ids = np.full((len(norms), ids.shape[1]), -1, dtype=np.int32)
    full_sims = np.full((len(norms), ids.shape[1]), np.nan, dtype=np.float32)
    full_ids[keys.astype(np.int64)], full_sims[keys.astype(np.int64)] = ids, sims
    writer.save_array(artifact.KNN_IDS, full_ids)
    writer.save_array(artifact.KNN_SIMS, full_sims)
    del t, ids, sims, full_ids, full_sims
    return_freed_memory()  # the kernel's candidate arrays: ~0.2 GB of USE's table stage stayed otherwise
    on_table(k, info)
    return built or index(), k, info


def _write_csls_means(
    writer: artifact.ArtifactWriter, norms: np.ndarray, knn_k: int, progress: Stage
) -> None:
    """Every row's CSLS neighborhood mean, stored so that no service start computes it: from the
    table when it holds 10 neighbors, else over all pairs (minutes at 100k+ rows, once, here)."""
    stored = np.load(writer.path(artifact.MATRIX), mmap_mode="r")
    ids = np.load(writer.path(artifact.KNN_IDS), mmap_mode="r") if knn_k else None
    sims = np.load(writer.path(artifact.KNN_SIMS), mmap_mode="r") if knn_k else None
    space = Space(stored, norms, None, ids, sims, np.flatnonzero(norms > 0))
    with stage(progress, "CSLS means", 1) as bar:
        writer.save_array(artifact.CSLS_R, neighborhood_means(space))
        bar.update(1, 1)


def _write_tokenizer_checks(
    writer: artifact.ArtifactWriter, made: Labelled, progress: Stage
) -> Segmenter | None:
    """The tokenizer file and which tokens it can produce (loaders/build/reachability.py); the segmenter."""
    if made.extracted.tokenizer is None:
        return None
    kind, data = made.extracted.tokenizer
    if kind == "tokenizers":  # a plain Unigram model: the compact form, if it segments the same
        compact = compact_unigram(data, made.extracted.tokens, check_texts(made.display, made.kinds))
        kind, data = ("unigram", compact) if compact is not None else (kind, data)
    writer.path(artifact.TOKENIZER_FILES[kind]).write_bytes(data)
    segmenter = segmenter_from(kind, data, made.extracted.tokens)
    with stage(progress, "reachability", len(made.display)) as bar:
        checked = reachability(
            segmenter, made.extracted.tokens, made.display, made.kinds, made.vocabulary, bar.update
        )
    writer.save_array(artifact.REACHABLE, checked)
    return segmenter


def _lexicon_sources(made: Labelled, options: BuildOptions) -> tuple[list[lx.Source], int]:
    """Users' lists first (merged with the language's wordfreq list), then the lists, then the scripts
    no list covers (from the vocabulary's own word-initial pieces)."""
    import wordfreq

    listed = sorted(wordfreq.available_languages(lx.WORDLIST))
    chosen = list(options.lexicon_languages) or listed
    size = options.lexicon_size or lx.default_size(int(made.rows.shape[1]), len(chosen))
    user = {lang: lx.user_source(lang, Path(path).read_text(encoding="utf-8").splitlines())
            for lang, path in options.lexicon_words}  # fmt: skip
    sources = []
    for source in lx.list_sources([lang for lang in chosen if lang in listed], size):
        if source.language in user:
            own = user.pop(source.language)
            words = own.words + [w for w in source.words if w not in set(own.words)]
            source = lx.Source(source.language, words, f"user list + {source.origin}")
        sources.append(source)
    if not options.lexicon_languages:
        covered = {name for lang in listed for name in language_scripts(lang)}
        word_initial = made.kinds == artifact.TOKEN_KINDS.index("word-initial")
        sources += lx.script_sources(made.display, made.labels["unicode"], word_initial, covered, size)
    return [*user.values(), *sources], size


def _write_lexicon(
    writer: artifact.ArtifactWriter,
    made: Labelled,
    segmenter: Segmenter | None,
    norms: np.ndarray,
    knn_k: int,
    options: BuildOptions,
    progress: Stage,
) -> artifact.LexiconInfo | None:
    """The words of every language the model serves, composed from their pieces (loaders/build/lexicon.py),
    grouped by language; None without a tokenizer or with lexicon_size 0."""
    if segmenter is None or options.lexicon_size == 0:
        return None
    from importlib.metadata import version

    sources, size = _lexicon_sources(made, options)
    knn = np.load(writer.path(artifact.KNN_IDS), mmap_mode="r") if knn_k else None
    csls_r = np.load(writer.path(artifact.CSLS_R))
    composed: list[tuple[str, lx.Composed]] = []
    stats: dict[str, artifact.LexiconLanguage] = {}
    means: list[np.ndarray] = []
    with stage(progress, "lexicon", len(sources)) as bar:
        for i, source in enumerate(sources):  # a language at a time: float32 rows of one language at most
            if "wordfreq" in source.origin:  # lower-cased lists: each word as people write it
                forms, pieces = lx.written_forms(segmenter, source.words)
                source = lx.Source(source.language, forms, source.origin, source.frequencies, pieces)
            made_words = lx.compose(made.rows, norms, made.display, segmenter, source)
            unit = lambda ids: unit_rows(made.rows, norms, ids)  # noqa: E731
            means.append(table_means(unit, knn, csls_r, made_words.rows, made_words.pieces))
            composed.append((source.language, made_words))
            stats[source.language] = lx.language_stats(source, made_words)
            bar.update(i + 1, len(sources))
    words = lx.words_of(composed)
    parts = [c.rows.astype(np.float16) for _, c in composed]
    writer.save_blocks(artifact.LEXICON, (len(words.words), int(made.rows.shape[1])), np.float16, parts)
    writer.save_array(artifact.LEXICON_R, np.concatenate(means) if means else np.empty(0, np.float32))
    writer.path(artifact.LEXICON_WORDS).write_bytes(msgspec.json.encode(words))
    return artifact.LexiconInfo(
        stats,
        size,
        len(words.words),
        sum(1 for n in words.pieces if n > 1),
        lx.WORDLIST,
        version("wordfreq"),
    )


def _manifest_fields(
    made: Labelled,
    source: Source,
    fingerprint: str,
    key: str,
    options: BuildOptions,
    segmenter: Segmenter | None,
    schemes: dict[str, LabelScheme],
) -> dict[str, Any]:
    """The manifest's fields that a first build and a full one share."""
    return {
        "format_version": artifact.FORMAT_VERSION,
        "name": made.extracted.name,
        "family": made.extracted.family,
        "source": artifact.SourceInfo(source.kind, source.location, fingerprint),
        "vocab_size": len(made.extracted.tokens),
        "source_rows": int(made.extracted.matrix.shape[0]),
        "dim": int(made.rows.shape[1]),
        "dtype": "float16" if options.dtype == "f16" else "float32",
        "original_dtype": made.extracted.original_dtype,
        "byte_level": made.vocabulary == "byte-level-bpe",
        "vocabulary": made.vocabulary,
        "description": made.extracted.description,
        "tokenizer": segmenter.kind if segmenter is not None else "",  # as stored (compact_unigram)
        "special_ids": made.extracted.special_ids,
        "labels": schemes,
        "loader_version": LOADER_VERSION,
        "build_key": key,
        "languages": made.languages.info,
    }


def _build(
    source: Source,
    fingerprint: str,
    key: str,
    out: Path,
    options: BuildOptions,
    progress: Stage,
    donors: list[Path] | None = None,
    early: Early | None = None,
) -> tuple[Manifest, bool]:
    spec = f"{source.kind}:{source.location}"
    existing = check_existing(out, fingerprint, key)
    if existing is not None:
        return existing, False
    made = _extract_and_label(source, spec, progress)
    count = len(made.extracted.tokens)
    with artifact.writing(out) as writer:
        with stage(progress, "rows", 1) as bar:
            norms = _write_rows(writer, made.rows, count, options.dtype, spec)
            keys = _indexed_keys(norms, made.kinds, spec)
            # every later stage reads the rows as stored, so that its cosines are the service's
            made = dataclasses.replace(made, rows=MappedRows.npy(writer.path(artifact.MATRIX)))
            bar.update(1, 1)
        writer.save_array(artifact.NORMS, norms)
        writer.save_vocab(artifact.Vocab(raw=made.extracted.tokens, display=made.display))
        writer.save_array(artifact.KINDS, made.kinds)
        writer.save_array(artifact.LANGUAGE_GUESS, made.languages.guess)
        writer.save_array(artifact.LANGUAGE_SCORES, made.languages.scores)
        schemes = _write_labels(writer, made.labels)
        segmenter = _write_tokenizer_checks(writer, made, progress)
        shared = _manifest_fields(made, source, fingerprint, key, options, segmenter, schemes)
        if options.first:  # served from exact scans while the full build makes the rest
            index_params = msgspec.structs.replace(options.index, count=0)
            first = {**shared, "index": index_params, "knn_k": 0, "stages_left": list(artifact.LATER_STAGES)}
            return writer.finish(first, artifact.Manifest), True
        mapping = LayoutRun(
            writer,
            keys,
            options.layout,
            options.layout_seed,
            options.layout_epochs,
            donors or [],
            artifact.link_or_copy,
        )

        def table_done(knn_k: int, table: artifact.TableInfo | None) -> None:
            mapping.start()  # in a child process, beside the index build
            _write_csls_means(writer, norms, knn_k, progress)
            if early is not None:  # table lookups and CSLS served while the index, lexicon and map build
                no_index = msgspec.structs.replace(options.index, count=0)
                fields = {**shared, "index": no_index, "knn_k": knn_k, "table": table}
                early(writer, {**fields, "build_key": early_key(key), "stages_left": list(AFTER_TABLE)})

        try:
            index, knn_k, table = _write_geometry(
                writer, made, norms, keys, options, progress, donors or [], table_done
            )
            lexicon = _write_lexicon(writer, made, segmenter, norms, knn_k, options, progress)
            with stage(progress, f"map layout ({options.layout})", 1) as bar:
                layout = mapping.result()  # the rest of its time, when it ran beside the index
                bar.update(1, 1)
        except BaseException:
            mapping.cancel()
            raise
        fields = {
            **shared,
            "lexicon": lexicon,
            "index": index,
            "knn_k": knn_k,
            "table": table,
            "layout": layout,
        }
        manifest = writer.finish(fields, artifact.Manifest)
    return manifest, True
