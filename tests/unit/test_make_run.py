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


def test_a_build_stopped_after_its_table_is_served_as_it_is_while_it_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the artifacts folder serves a stopped build's early artifact (its table and CSLS means),
    `make run` builds no first build in its place: the full build resumes behind it."""
    import loaders.build

    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda args, **_: started.append(args))
    monkeypatch.setenv("POLYGLOT_BUILDING", "")
    monkeypatch.setattr(loaders.build, "serves_early", lambda out, key: out.name == "multilingual-e5-small")
    start_builds(tmp_path / "artifacts", tmp_path / "cache")
    steps = started[0][-1].split(" && ")
    first = [step for step in steps if " build " in step and step.endswith("--first")]
    full = [step for step in steps if " build " in step and not step.endswith("--first")]
    assert len(first) == 2 and not [step for step in first if "e5" in step] and len(full) == 3
