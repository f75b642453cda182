"""The reproduction report for the three packaged models side by side, small samples (`--quick`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.analyses.token_sets import labelled_share
from service.registry import load_model
from service.report.__main__ import main
from tests.conftest import E5, LLAMA, USE

pytestmark = pytest.mark.e2e


def test_report_for_the_packaged_models_side_by_side(packaged: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    artifacts = packaged[E5].parent
    models = [arg for name in (E5, USE, LLAMA) for arg in ("--model", name)]
    assert main([*models, "--out", str(out), "--artifacts", str(artifacts), "--quick"]) == 0
    page = (out / "index.html").read_text(encoding="utf-8")
    for model in (E5, USE, LLAMA):
        for figure in (
            "map",
            "vocabulary-map",
            "diversity",
            "mix",
            "separability",
            "languages",
            "languages-separability",
            "latin",
            "norms-kind",
            "norms-script",
            "footprint",
        ):
            path = out / f"{model}-{figure}.png"
            assert path.stat().st_size > 5_000, path
        assert model in page
    for a, b in ((E5, USE), (E5, LLAMA), (USE, LLAMA)):
        assert (out / f"compare-canonical-{a}-{b}.png").stat().st_size > 5_000
        assert f"{a} vs {b}" in page
    assert "Vocabulary health" in page and "candidates, not verified" in page
    assert "Side by side" in page and "byte-fallback-bpe" in page
    for name in (E5, USE, LLAMA):  # each model's share of word-initial tokens with a language label
        assert f"{labelled_share(load_model(packaged[name], verify_checksums=False)):.1%}" in page
    assert "canonical correlation" in page and "seed 0" in page and "18.0.0" in page
    assert "First merges" in page and "within Latin" in page
    assert "The vocabulary map: every token (umap, seed 0, 15 neighbors from the table)" in page


def test_report_refuses_an_unknown_model(
    packaged: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", "nope", "--out", str(tmp_path), "--artifacts", str(packaged[E5].parent)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
