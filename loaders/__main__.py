"""CLI: `python -m loaders build SOURCE --out DIR`, `inspect DIR`, `verify DIR`.

Every user error is one line on stderr and exit code 2; nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from loaders import artifact
from loaders.artifact import IndexParams, LoaderError
from loaders.build import BuildOptions, Stage, StageBar, build, build_cached, recorded, silent
from loaders.build.encoder_rows import PER_LANGUAGE
from loaders.build.neighbor_table import METHODS
from loaders.build.vocabulary_map import CHOICES as LAYOUTS


class TqdmBar(StageBar):
    def __init__(self, name: str, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=f"{name:>16}", unit="row" if total > 1 else "step", leave=True)

    def update(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def _at_least(low: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}")
        return value

    return check


_positive, _non_negative = _at_least(1), _at_least(0)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m loaders", description=__doc__)
    sub = cli.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build an artifact from a source")
    b.add_argument("source", help="packaged:NAME | hf:DIR_OR_ID | gguf:FILE | vec:FILE")
    b.add_argument("--out", required=True, type=Path, help="artifact directory to write")
    b.add_argument("--dtype", choices=["f16", "f32"], default="f16", help="stored matrix dtype")
    b.add_argument("--index-dtype", choices=["f16", "i8"], default="f16")
    b.add_argument("--connectivity", type=_positive, default=IndexParams().connectivity)
    b.add_argument("--expansion-add", type=_positive, default=IndexParams().expansion_add)
    b.add_argument("--expansion-search", type=_positive, default=IndexParams().expansion_search)
    b.add_argument(
        "--knn",
        type=_non_negative,
        default=BuildOptions().knn,
        help="neighbors per token in the exact table (default 100). 0 builds none: token queries then "
        "search the index or brute force, and the build computes the CSLS means over all pairs once "
        "(minutes at 100k+ rows); at least 10 keeps CSLS a table read",
    )
    b.add_argument(
        "--table",
        choices=METHODS,
        default="auto",
        help="neighbor table: exact brute force, or the index's candidates re-ranked exactly (recall"
        " measured and recorded); auto: exact up to 3e14 rows^2 x dim, or with an accelerator",
    )
    b.add_argument("--candidates", type=int, default=0, help="hnsw table: candidates per row (0: 2 x knn)")
    b.add_argument(
        "--workers",
        type=_positive,
        default=min(os.cpu_count() or 1, 4),
        help="threads sharing the exact table, one BLAS thread each (default: the cores, at most 4)",
    )
    b.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=BuildOptions().layout,
        help="the vocabulary map: UMAP over the neighbor table (seeded; PCA without a table), PCA"
        " of the unit rows (seconds), or none",
    )
    b.add_argument("--layout-seed", type=int, default=0, help="the map's seed (same seed, same map)")
    b.add_argument(
        "--layout-epochs", type=int, default=0, help="umap optimisation epochs (0: umap-learn's default)"
    )
    b.add_argument("--tensor", help="hf: name of the input-embedding tensor")
    b.add_argument(
        "--lexicon-languages",
        default="",
        help="languages (ISO 639, wordfreq's) whose word lists make the lexicon (default: every list,"
        " and the scripts no list covers, from the vocabulary's own pieces)",
    )
    b.add_argument(
        "--lexicon-size",
        type=_non_negative,
        default=None,
        help="most frequent words of each language's list (default: as many as 256 MB of float16 rows"
        " allow, at most 20,000; 0: no lexicon)",
    )
    b.add_argument(
        "--lexicon-words",
        action="append",
        default=[],
        metavar="LANG=FILE",
        help="add a word list (one word per line, UTF-8) to a language's lexicon; repeatable",
    )
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    b.add_argument(
        "--first",
        action="store_true",
        help="a first build: rows, vocabulary, labels and tokenizer only, served from exact scans until"
        " the full build (the same command without --first) adds the table, index, means, lexicon and map",
    )
    b.add_argument(
        "--cache",
        type=Path,
        help="build into this cache folder (keyed by source and parameters)"
        " and make --out a symlink to the cached artifact",
    )
    b.add_argument(
        "--drop-older",
        action="store_true",
        help="with --cache: remove the source's other builds from the cache once this one is in",
    )
    e = sub.add_parser(
        "encoder-space",
        help="encode the lexicon's words with the model's whole encoder (the encoder space)",
    )
    e.add_argument("dir", type=Path, help="the artifact")
    e.add_argument(
        "--per-language",
        type=_non_negative,
        default=PER_LANGUAGE,
        help="words encoded per lexicon language: its lexicon's, then more of its list (0: the lexicon's)",
    )
    e.add_argument("--threads", type=_positive, default=2)
    e.add_argument("--quiet", action="store_true")
    i = sub.add_parser("inspect", help="summary of an artifact")
    i.add_argument("dir", type=Path)
    v = sub.add_parser("verify", help="check an artifact's files, checksums, shapes and index")
    v.add_argument("dir", type=Path)
    return cli


def _lexicon_languages(text: str) -> tuple[str, ...]:
    import wordfreq

    codes = tuple(sorted({c.strip() for c in text.split(",") if c.strip()}))
    unknown = [c for c in codes if c not in wordfreq.available_languages("best")]
    if unknown:
        raise LoaderError(f"--lexicon-languages: wordfreq has no list for {', '.join(unknown)}")
    return codes


def _lexicon_words(items: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        lang, _, path = item.partition("=")
        if not lang or not path or not Path(path).is_file():
            raise LoaderError(f"--lexicon-words {item!r}: give LANG=FILE with an existing file")
        out.append((lang.strip(), str(Path(path).resolve())))
    return tuple(out)


def _first_build_in(out: Path) -> Path | None:
    """The directory of the first build `out` holds (served while the full build runs), else None."""
    try:
        return out.resolve() if artifact.read_manifest(out).stages_left else None
    except artifact.ArtifactError:
        return None


def cmd_build(args: argparse.Namespace) -> None:
    options = BuildOptions(
        dtype=args.dtype,
        index=IndexParams(
            dtype=args.index_dtype,
            connectivity=args.connectivity,
            expansion_add=args.expansion_add,
            expansion_search=args.expansion_search,
        ),
        knn=args.knn,
        tensor=args.tensor,
        lexicon_languages=_lexicon_languages(args.lexicon_languages),
        lexicon_size=args.lexicon_size,
        lexicon_words=_lexicon_words(args.lexicon_words),
        table=args.table,
        candidates=max(0, args.candidates),
        workers=args.workers,
        layout=args.layout,
        layout_seed=args.layout_seed,
        layout_epochs=max(0, args.layout_epochs),
        first=args.first,
    )
    started = time.perf_counter()
    progress: Stage = silent if args.quiet else TqdmBar
    served = _first_build_in(args.out)
    if served is not None and not args.first:  # the service shows where the full build is
        # in the artifact `out` holds: the first build, then the build's early artifact
        progress = recorded(progress, args.out / artifact.BUILD_PROGRESS)
    failed = ""
    try:
        if args.cache:
            manifest, built = build_cached(
                args.source, args.out, args.cache, options, progress, drop_older=args.drop_older
            )
        else:
            manifest, built = build(args.source, args.out, options, progress)
    except Exception as exc:  # the early build stays served; /v1/models says the rest will not come
        failed = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        now = _first_build_in(args.out)  # what `out` serves now: the first or early build, None once whole
        if served is not None and served != now:
            (served / artifact.BUILD_PROGRESS).unlink(missing_ok=True)
        if now is not None and failed and not args.first:
            artifact.record_build_failure(now, failed)  # said where it is served, not in a build left behind
        elif now is not None:
            (now / artifact.BUILD_PROGRESS).unlink(missing_ok=True)
    took = time.perf_counter() - started
    size = sum(f.size for f in manifest.files.values())
    verb = f"built in {took:.1f} s" if built else "already built (no-op)"
    print(f"{args.out}: {manifest.name} {manifest.vocab_size} x {manifest.dim}, {size / 1e6:.1f} MB, {verb}")


def cmd_encoder_space(args: argparse.Namespace) -> None:
    from loaders.build.encoder_rows import build_encoder_space

    progress = silent if args.quiet else TqdmBar
    built, now = build_encoder_space(args.dir, args.per_language, args.threads, progress)
    size = sum(f.size for f in built.files.values())
    verb = (
        f"built in {built.seconds:.1f} s ({built.words_per_second:.0f} words/s)" if now else "already built"
    )
    print(f"{args.dir}: encoder space {built.rows:,} words x {built.dim}, {size / 1e6:.1f} MB, {verb}")


def cmd_inspect(args: argparse.Namespace) -> None:
    manifest = artifact.read_manifest(args.dir)
    print(f"{manifest.name} ({manifest.family}) from {manifest.source.kind}:{manifest.source.location}")
    print(
        f"  tokens {manifest.vocab_size} (source rows {manifest.source_rows}), dim {manifest.dim}, "
        f"stored {manifest.dtype} (original {manifest.original_dtype}), byte-level {manifest.byte_level}"
    )
    ix = manifest.index
    print(
        f"  index {ix.metric}/{ix.dtype} M={ix.connectivity} ef_add={ix.expansion_add} "
        f"ef_search={ix.expansion_search} count={ix.count}; neighbor table k={manifest.knn_k}"
    )
    if manifest.table is not None:
        t = manifest.table
        how = (
            f"{t.candidates} HNSW candidates re-ranked, recall@{manifest.knn_k} {t.recall} on {t.sample} rows"
        )
        print(f"  table: {t.method} ({t.backend}), {how if t.method == 'hnsw' else 'exact'}, {t.seconds} s")
    if manifest.layout is not None:
        m = manifest.layout
        graph = f", {m.n_neighbors} neighbors, epochs {m.epochs or 'default'}" if m.method == "umap" else ""
        print(f"  map: {m.method} (seed {m.seed}{graph}), {m.placed} tokens placed, {m.seconds} s")
    for scheme, info in manifest.labels.items():
        codes = artifact.open_array(args.dir, artifact.labels_file(scheme), manifest.vocab_size)
        counts = np.bincount(codes, minlength=len(info.names))
        top = ", ".join(f"{info.names[c]} {counts[c]}" for c in np.argsort(-counts)[:14])
        origin = f"Unicode {info.unicode_version}" if info.unicode_version else "word lists"
        print(f"  {scheme} ({origin}, {len(info.names)} labels): {top}")
    if manifest.languages is not None:
        lang = manifest.languages
        print(
            f"  language labels: wordfreq {lang.wordfreq_version} '{lang.wordlist}' lists for "
            f"{len(lang.languages)} languages, prior {lang.prior}, labelled from share {lang.min_share}"
        )
    if manifest.lexicon is not None:
        lexicon = manifest.lexicon
        print(
            f"  lexicon: {lexicon.rows} words ({lexicon.composed} composed of several pieces) of "
            f"{len(lexicon.languages)} languages: {', '.join(lexicon.languages)}"
        )
    print("  files:")
    for name, entry in sorted(manifest.files.items()):
        print(f"    {name:<20} {entry.size / 1e6:10.1f} MB  sha256 {entry.sha256[:16]}")


def cmd_verify(args: argparse.Namespace) -> None:
    manifest = artifact.read_manifest(args.dir)
    artifact.verify(args.dir, manifest, checksums=True)
    matrix = artifact.open_array(args.dir, artifact.MATRIX, manifest.vocab_size)
    if matrix.shape[1] != manifest.dim:
        raise LoaderError(f"{args.dir}: matrix has dim {matrix.shape[1]}, manifest says {manifest.dim}")
    artifact.read_vocab(args.dir, manifest)
    extra = (artifact.LANGUAGE_GUESS, artifact.LANGUAGE_SCORES) if manifest.languages is not None else ()
    for name in (artifact.NORMS, artifact.KINDS, *map(artifact.labels_file, manifest.labels), *extra):
        artifact.open_array(args.dir, name, manifest.vocab_size)
    if artifact.INDEX_STAGE in manifest.stages_left:
        print(f"{args.dir}: OK ({len(manifest.files)} files, checksums, shapes; a first build, without "
              f"{', '.join(manifest.stages_left)})")  # fmt: skip
        return
    from usearch.index import Index

    index = Index.restore(str(args.dir / artifact.INDEX), view=True)
    if index is None or len(index) != manifest.index.count or index.ndim != manifest.dim:
        raise LoaderError(f"{args.dir}: index does not match the manifest (count or dimension)")
    print(f"{args.dir}: OK ({len(manifest.files)} files, checksums, shapes, {len(index)} indexed vectors)")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        commands = {"build": cmd_build, "encoder-space": cmd_encoder_space, "inspect": cmd_inspect}
        {**commands, "verify": cmd_verify}[args.command](args)
    except LoaderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
