"""The README's curl examples, their Python twins and their shell twins give the same answers: each
block is read from README.md, line i of each is the same request."""

from __future__ import annotations

import ast
import json
import re
import shlex
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest
from litestar.testing import TestClient

from polyglot_client import Client
from polyglot_client.cli import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
VOLATILE = {"cached", "took_seconds"}  # when and how an analysis was computed, not what it found


def block(heading: str, language: str) -> list[str]:
    """The commands of the first `language` code block after `heading` (continued lines joined)."""
    after = README[README.index(heading) :]
    body = re.search(rf"```{language}\n(.*?)```", after, re.S)
    assert body is not None, heading
    joined = re.sub(r"\\\n\s*|\n\s*\|", lambda m: " " if m.group(0).startswith("\\") else " |", body.group(1))
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def python_calls(heading: str) -> list[str]:
    """The top-level `client.` expressions of the Python block after `heading` (a call may span lines)."""
    after = README[README.index(heading) :]
    body = re.search(r"```python\n(.*?)```", after, re.S)
    assert body is not None, heading
    source = body.group(1)
    found = [ast.get_source_segment(source, node) or "" for node in ast.parse(source).body]
    return [call for call in found if call.startswith("client.")]


def curl_answer(client: TestClient[Any], line: str) -> Any:
    """What a README curl line asks, sent through the test client; a 202 is polled to its result."""
    words = shlex.split(line.split("|")[0] if "printf" not in line else line.split("|", 2)[2])
    url = next(w for w in words if "localhost:8000" in w)
    parts = urlsplit("http://" + url.split("://")[-1])
    if "printf" in line:  # the dictionary piped into evaluate
        text = re.search(r"printf '(.*?)'", line)
        assert text is not None
        response = client.post(parts.path, json={"dictionary": text.group(1).replace("\\n", "\n")})
    elif "-d" in words:
        body = words[words.index("-d") + 1].encode()
        response = client.post(parts.path, content=body, headers={"content-type": "application/json"})
    else:
        response = client.get(parts.path, params=parse_qsl(parts.query))
    # a 202 is polled until the job ends (the poll answers 200 with the job's status while it runs)
    while response.status_code == 202 or response.json().get("status") == "running":
        time.sleep(0.05 if response.status_code == 200 else 0)
        response = client.get(response.json()["url"])
    assert response.status_code == 200, (line, response.text)
    job = response.json()
    return job["result"] if "/jobs/" in str(response.url) else job


def comparable(answer: Any) -> Any:
    data = json.loads(msgspec.json.encode(answer))
    return {k: v for k, v in data.items() if k not in VOLATILE} if isinstance(data, dict) else data


def test_the_readme_has_a_python_and_a_shell_twin_for_every_curl_line(
    client: TestClient[Any], tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    curls = [line for line in block("## Try it", "sh") if "curl" in line]
    python = python_calls("### From Python")
    shell = [line for line in block("### From the shell", "sh") if "polyglot " in line]
    assert len(curls) == len(python) == len(shell) == 14
    polyglot = Client(http=client)
    monkeypatch.chdir(tmp_path)
    for curl, call, command in zip(curls, python, shell, strict=True):
        expected = comparable(curl_answer(client, curl))
        assert comparable(eval(call, {"client": polyglot})) == expected, call
        if command.startswith("printf"):
            written, command = command.split(" && ")
            text = re.search(r"printf '(.*?)'", written)
            assert text is not None
            Path(written.rsplit("> ", 1)[1]).write_text(text.group(1).replace("\\n", "\n"), encoding="utf-8")
        argv = shlex.split(command)[1:]
        assert main(["--json", *argv], client=polyglot) == 0, command
        assert comparable(json.loads(capsys.readouterr().out)) == expected, command
