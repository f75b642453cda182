# Sourced (`. deploy/engine.sh`): a Docker engine for a script that needs one.
#   engine_start   starts dockerd when none answers (sets $daemon to its pid; empty when one ran)
#   engine_stop    stops the engine engine_start started, and only that one
daemon=""

engine_start() {
    docker info >/dev/null 2>&1 && return 0
    dockerd >"${TMPDIR:-/tmp}/polyglot-dockerd.log" 2>&1 &
    daemon=$!
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
    tail -20 "${TMPDIR:-/tmp}/polyglot-dockerd.log" >&2
    return 1
}

engine_stop() {
    [ -n "$daemon" ] || return 0
    kill "$daemon" 2>/dev/null || true
    while kill -0 "$daemon" 2>/dev/null; do sleep 0.5; done
    ip link delete docker0 2>/dev/null || true
    daemon=""
}
