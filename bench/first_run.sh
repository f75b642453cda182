#!/usr/bin/env sh
# The first `make run` on this machine as a fresh one sees it: a clean clone, a new virtual
# environment and an empty artifact cache. Prints the wall time of each step and the total until
# the service answers /ready (issue 17: target 8 minutes on 2 cores).
#   sh bench/first_run.sh [WORKDIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work="${1:-$(mktemp -d)}"
git clone -q "$root" "$work/clone"
cd "$work/clone"
now() { date +%s.%N; }
t0=$(now)
make -s setup >/dev/null
t1=$(now)
make -s artifacts CACHE="$work/cache" >"$work/artifacts.log" 2>&1
t2=$(now)
port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
.venv/bin/python -m service --port "$port" --artifacts artifacts >"$work/service.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do sleep 0.05; done
t3=$(now)
kill "$pid"
grep -E "built in|no-op" "$work/artifacts.log" | sed 's/^/  /'
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
    printf "install (venv + pip): %.0f s\nartifacts (3 models, empty cache): %.0f s\n", b - a, c - b
    printf "service start -> /ready: %.1f s\nfirst make run, total: %.0f s (%.1f min)\n", d - c, d - a, (d - a) / 60
}'
