#!/usr/bin/env sh
# The first `make run` on this machine as a fresh one sees it: a clean clone, a new virtual
# environment and an empty artifact cache. `make run` builds each packaged model's first build (rows,
# vocabulary, labels: served from exact scans), then the full builds behind it, which replace them
# without a restart. This prints, from the start of `make run` (install included), when each model
# first answered a neighbors query, when its README translation example answered (CSLS: it needs the
# CSLS means stage), when every README "Try it" example of it answered (an analysis: its job done),
# and when it was whole (every stage in), then the build log's times.
#   sh bench/first_run.sh [WORKDIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work="${1:-$(mktemp -d)}"
git clone -q "$root" "$work/clone"
cd "$work/clone"
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
t0=$(date +%s.%N)
# A job store of its own too: analyses an earlier run finished (~/.cache/polyglot-geometry/jobs.sqlite,
# keyed by artifact checksums, which a first build repeats) would answer the README's analyses at once.
POLYGLOT_JOBS_DB="$work/jobs.sqlite" make run PORT="$port" CACHE="$work/cache" >"$work/run.log" 2>&1 &
run=$!
python3 - "$port" "$t0" "$run" <<'EOF'
import json, os, re, subprocess, sys, time, urllib.error, urllib.request
from urllib.parse import urlsplit

port, t0, run = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
models = ["llama2-vocab-wordllama", "use-multilingual-v3", "multilingual-e5-small"]
events = {m: {} for m in models}  # model -> event -> seconds since make run started
probes = {
    "neighbors": "neighbors?id=1000&k=5",
    "CSLS translation": "translations?token=%E2%96%81water&k=5&method=csls",
}


def status(path: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except (OSError, ValueError):
        return 0, None


def readme_examples() -> dict[str, list[str]]:
    """The README's "Try it" curl lines of each model (continued lines joined), aimed at this port."""
    text = open("README.md", encoding="utf-8").read()
    block = re.search(r"```sh\n(.*?)```", text[text.index("## Try it") :], re.S).group(1)
    joined = re.sub(r"\\\n\s*|\n\s*\|", lambda m: " " if m.group(0).startswith("\\") else " |", block)
    out: dict[str, list[str]] = {m: [] for m in models}
    for line in joined.splitlines():
        found = re.search(r"/v1/models/([^/?]+)/", line)
        if found and not line.lstrip().startswith("#"):
            aimed = line.replace("localhost:8000", f"127.0.0.1:{port}")
            out[found.group(1)].append(aimed.replace("curl -s", "curl -s -w '\\n%{http_code}'", 1))
    return out


def answered(line: str, jobs: dict[str, str]) -> bool:
    """Whether a README line answers 200 (a 202 job: once the job is done)."""
    if line in jobs:
        code, job = status(jobs[line])
        return code == 200 and isinstance(job, dict) and job.get("status") == "done"
    run = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=60)
    body, _, code = run.stdout.rstrip().rpartition("\n")
    if code == "202":
        jobs[line] = urlsplit(json.loads(body)["url"]).path
    return code == "200"


def note(model: str, event: str) -> None:
    if event not in events[model]:
        events[model][event] = time.time() - t0
        took = events[model][event]
        print(f"{model}: {event} after {took:.0f} s ({took / 60:.1f} min)", flush=True)


examples, jobs = readme_examples(), {}
waiting = {m: list(lines) for m, lines in examples.items()}
while any(len(e) < len(probes) + 2 for e in events.values()):
    try:
        os.kill(run, 0)
    except OSError:
        sys.exit("make run stopped; see the run log")
    code, listed = status("/v1/models")
    whole = {m["name"] for m in listed["models"] if not m.get("stages_building")} if code == 200 else set()
    for model in models:
        for event, path in probes.items():
            if event not in events[model] and status(f"/v1/models/{model}/{path}")[0] == 200:
                note(model, event)
        waiting[model] = [line for line in waiting[model] if not answered(line, jobs)]
        if not waiting[model]:
            note(model, f"all {len(examples[model])} of its README examples")
        if model in whole:
            note(model, "whole (every stage)")
    time.sleep(1)
EOF
pkill -TERM -P "$run" 2>/dev/null || true
kill "$run" 2>/dev/null || true
wait "$run" 2>/dev/null || true
# the builds behind serving run in their own process group (the encoder spaces last): stop them too
pkill -TERM -f "$work/clone/.venv/bin/python -m loaders" 2>/dev/null || true
grep -E "built in|no-op" "$work/run.log" | sed 's/^/  /'
