"""The build: a model's source -> an artifact, written through `loaders.artifact` (the format).

Sources (`sources/`), labels and language guesses, the exact neighbor table (`neighbor_table`,
`table_kernel`), the HNSW index, reachability, the lexicon, the vocabulary map and the encoder space
(`encoder_rows`, built on demand) are stages of `pipeline.build`. The service never imports this
package (an import contract says so); `python -m loaders build` and `make run --build-missing` run it.
"""

from __future__ import annotations

from loaders.build.pipeline import (
    AFTER_TABLE,
    BuildOptions,
    Stage,
    StageBar,
    build,
    build_cached,
    current_build,
    early_key,
    in_cache,
    recorded,
    serves_early,
    silent,
    stage,
)

__all__ = [
    "AFTER_TABLE",
    "BuildOptions",
    "Stage",
    "StageBar",
    "build",
    "build_cached",
    "current_build",
    "early_key",
    "in_cache",
    "recorded",
    "serves_early",
    "silent",
    "stage",
]
