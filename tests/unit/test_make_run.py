"""`make run` on a fresh machine: what it builds behind serving, in which order."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from service.__main__ import start_builds

pytestmark = pytest.mark.real  # the packaged models' sources (their fingerprints)


def test_every_first_build_comes_before_the_full_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda args, **_: started.append(args))
    monkeypatch.setenv("POLYGLOT_BUILDING", "")  # start_builds names the pending models there
    start_builds(tmp_path / "artifacts", tmp_path / "cache")  # nothing built, nothing cached
    steps = started[0][-1].split(" && ")
    first = [i for i, step in enumerate(steps) if " build " in step and step.endswith("--first")]
    full = [i for i, step in enumerate(steps) if " build " in step and not step.endswith("--first")]
    assert len(first) == len(full) == 3 and max(first) < min(full)  # every model answers before any is whole
    assert ["llama2" in steps[first[0]], "use-" in steps[first[1]], "e5" in steps[first[2]]] == [True] * 3
    # the full builds: the model of the README's CSLS examples first
    assert ["use-" in steps[full[0]], "llama2" in steps[full[1]], "e5" in steps[full[2]]] == [True] * 3
