"""The reproduction report for both packaged models, small samples (`--quick`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.report.__main__ import main
from tests.conftest import E5, USE

pytestmark = pytest.mark.e2e


def test_report_for_both_packaged_models(packaged: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    artifacts = packaged[E5].parent
    assert (
        main(["--model", E5, "--model", USE, "--out", str(out), "--artifacts", str(artifacts), "--quick"])
        == 0
    )
    page = (out / "index.html").read_text(encoding="utf-8")
    for model in (E5, USE):
        for figure in (
            "map",
            "diversity",
            "mix",
            "separability",
            "languages",
            "languages-separability",
            "latin",
        ):
            path = out / f"{model}-{figure}.png"
            assert path.stat().st_size > 5_000, path
        assert model in page
    assert (out / "compare-canonical.png").stat().st_size > 5_000
    assert "canonical correlation" in page and "seed 0" in page and "18.0.0" in page
    assert "First merges" in page and "within Latin" in page


def test_report_refuses_an_unknown_model(
    packaged: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", "nope", "--out", str(tmp_path), "--artifacts", str(packaged[E5].parent)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
