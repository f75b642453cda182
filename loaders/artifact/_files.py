"""Writing an artifact (into a temporary sibling renamed into place) and reading one back: manifest,
file checks, memory-mapped arrays, the vocabulary."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import msgspec
import numpy as np

from loaders.artifact._errors import ArtifactError
from loaders.artifact._manifest import EncoderSpaceManifest, FileEntry, Manifest, Vocab
from loaders.artifact._names import (
    BUILD_PROGRESS,
    ENCODER_DIR,
    FORMAT_VERSION,
    MANIFEST,
    STRING_OFFSETS,
    STRING_ORDER,
    STRINGS,
    VOCAB,
)
from loaders.artifact._strings import StringIndex, TokenStrings, mapped, pack, tables

M = TypeVar("M")


_manifest_decoder = msgspec.json.Decoder(Manifest)
_vocab_decoder = msgspec.json.Decoder(Vocab)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- writing


class ArtifactWriter:
    """Collects the files of one artifact in a temporary directory; `commit` renames it into place."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self._sha256: dict[str, str] = {}

    def path(self, name: str) -> Path:
        return self.dir / name

    def sha256(self, name: str) -> str:
        """A written file's hash, computed once: the build compares the matrix with earlier artifacts'
        before the manifest records it (2 GB read once, not three times, at LLM sizes). Each file is
        written once, before it is hashed."""
        if name not in self._sha256:
            self._sha256[name] = sha256_file(self.dir / name)
        return self._sha256[name]

    def save_array(self, name: str, array: np.ndarray[Any, Any]) -> None:
        np.save(self.dir / name, array, allow_pickle=False)

    def save_blocks(
        self, name: str, shape: tuple[int, ...], dtype: Any, blocks: Iterable[np.ndarray[Any, Any]]
    ) -> None:
        """An array written block by block (the bytes np.save writes for their concatenation), so the
        whole array is never in memory."""
        dtype = np.dtype(dtype)
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        written = 0
        with open(self.dir / name, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            for block in blocks:
                fh.write(np.ascontiguousarray(block, dtype=dtype).tobytes())
                written += block.size
        if written != int(np.prod(shape)):
            raise ArtifactError(f"{name}: wrote {written} values for shape {shape}")

    def save_vocab(self, vocab: Vocab) -> None:
        (self.dir / VOCAB).write_bytes(msgspec.json.encode(vocab))
        buffer, offsets, order = pack(vocab.raw, vocab.display)
        (self.dir / STRINGS).write_bytes(buffer)
        self.save_array(STRING_OFFSETS, offsets)
        self.save_array(STRING_ORDER, order)

    def snapshot(self, target: Path, manifest_without_files: dict[str, Any], kind: type[M]) -> M:
        """What is written so far, as a whole artifact of its own at `target` (hard links: no more
        disk), replacing what is there: a build's early stages, served while it makes the rest."""
        with writing(target) as early:
            for entry in sorted(self.dir.iterdir()):
                if entry.is_file() and entry.name != MANIFEST:
                    link_or_copy(entry, early.path(entry.name))
                    early._sha256[entry.name] = self.sha256(entry.name)
            return early.finish(manifest_without_files, kind)

    def finish(self, manifest_without_files: dict[str, Any], kind: type[M]) -> M:
        files = {
            entry.name: FileEntry(size=entry.stat().st_size, sha256=self.sha256(entry.name))
            for entry in sorted(self.dir.iterdir())
            if entry.name != MANIFEST and entry.is_file()
        }
        manifest = msgspec.convert({**manifest_without_files, "files": files}, kind)
        (self.dir / MANIFEST).write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
        return manifest


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # same filesystem (the cache, a sibling): no extra disk
    except OSError:
        shutil.copyfile(source, target)


@contextmanager
def writing(out: Path) -> Iterator[ArtifactWriter]:
    """Yield a writer on a temporary sibling of `out`; on success replace `out` with it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; artifacts are read by other users (containers)
    try:
        yield ArtifactWriter(tmp)
        if not (tmp / MANIFEST).exists():
            raise ArtifactError(f"{out}: internal error, no manifest was written")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- reading


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise ArtifactError(f"{directory}: not an artifact directory (it does not exist)")
    if not path.is_file():
        raise ArtifactError(f"{directory}: no {MANIFEST} (not an artifact, or an interrupted build)")
    raw = path.read_bytes()
    try:
        version = msgspec.json.decode(raw, type=dict[str, Any]).get("format_version")
    except msgspec.DecodeError as exc:
        raise ArtifactError(f"{directory}: {MANIFEST} is not valid JSON ({exc})") from exc
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{directory}: artifact format version {version!r}, this program reads version {FORMAT_VERSION};"
            " rebuild it with `python -m loaders build`"
        )
    try:
        return _manifest_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ArtifactError(f"{directory}: {MANIFEST} does not match the format: {exc}") from exc


def read_encoder_manifest(directory: Path) -> EncoderSpaceManifest | None:
    """The artifact's encoder space (None: not built)."""
    path = directory / ENCODER_DIR / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=EncoderSpaceManifest)
    except msgspec.DecodeError as exc:
        raise ArtifactError(f"{path}: not an encoder space manifest ({exc})") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise ArtifactError(f"{path}: format version {manifest.format_version}, rebuild the encoder space")
    return manifest


def verify(directory: Path, manifest: Manifest | EncoderSpaceManifest, checksums: bool = True) -> None:
    """Check every listed file exists with its recorded size, then (when asked) its sha256."""
    for name, entry in manifest.files.items():
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{directory}: file {name} is missing")
        size = path.stat().st_size
        if size != entry.size:
            raise ArtifactError(
                f"{directory}: {name} has {size} bytes, the manifest says {entry.size} (truncated?)"
            )
    if checksums:
        for name, entry in manifest.files.items():
            if sha256_file(directory / name) != entry.sha256:
                raise ArtifactError(f"{directory}: {name} fails its sha256 check (corrupted)")


class BuildProgress(NamedTuple):
    stage: str  # the stage the build is in (or stopped in)
    done: int
    total: int
    failed: str  # why the build stopped ("": it runs)


def read_build_progress(directory: Path) -> BuildProgress | None:
    """Where the full build behind the early build in `directory` is (or stopped), else None."""
    try:
        state = msgspec.json.decode((directory / BUILD_PROGRESS).read_bytes())
        return BuildProgress(
            str(state["stage"]), int(state["done"]), int(state["total"]), state.get("failed", "")
        )
    except (OSError, msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None


def record_build_failure(directory: Path, why: str) -> None:
    """Say, in the early build being served from `directory`, that the build behind it stopped and why."""
    found = read_build_progress(directory)
    stage, done, total = (found.stage, found.done, found.total) if found is not None else ("", 0, 0)
    state = {"stage": stage, "done": done, "total": total, "failed": why}
    (directory / BUILD_PROGRESS).write_bytes(msgspec.json.encode(state))


def open_array(directory: Path, name: str, rows: int | None) -> np.ndarray[Any, Any]:
    """Memory-map a .npy file and check its row count (None: any)."""
    try:
        array: np.ndarray[Any, Any] = np.load(directory / name, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"{directory}: {name} cannot be read ({exc})") from exc
    if rows is not None and array.shape[0] != rows:
        raise ArtifactError(f"{directory}: {name} has {array.shape[0]} rows, expected {rows}")
    return array


def read_vocab(directory: Path, manifest: Manifest) -> Vocab:
    try:
        vocab = _vocab_decoder.decode((directory / VOCAB).read_bytes())
    except (OSError, msgspec.DecodeError) as exc:
        raise ArtifactError(f"{directory}: {VOCAB} cannot be read ({exc})") from exc
    if len(vocab.raw) != manifest.vocab_size or len(vocab.display) != manifest.vocab_size:
        raise ArtifactError(f"{directory}: {VOCAB} does not hold {manifest.vocab_size} tokens")
    return vocab


def open_strings(directory: Path, manifest: Manifest) -> tuple[TokenStrings, TokenStrings, StringIndex]:
    """The vocabulary as mapped string tables (raw, display, lookup); artifacts built before them get
    the same tables from vocab.json."""
    if STRINGS not in manifest.files:
        vocab = read_vocab(directory, manifest)
        return tables(*pack(vocab.raw, vocab.display))
    offsets = open_array(directory, STRING_OFFSETS, 2)
    if offsets.shape != (2, manifest.vocab_size + 1):
        raise ArtifactError(f"{directory}: {STRING_OFFSETS} does not hold {manifest.vocab_size} tokens")
    try:
        order = open_array(directory, STRING_ORDER, None)
        return tables(mapped(directory / STRINGS), offsets, order)
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{directory}: {STRINGS} cannot be read ({exc})") from exc
