#!/usr/bin/env sh
# `docker compose up --scale api=2` for real, as the README's steps run it, checked, and taken down:
#   1. a Docker engine (started here when none runs, stopped again at the end);
#   2. .env: a generated Redis password and API key (deploy/env.sh; an existing .env is kept);
#   3. the base images (deploy/base-images.sh: stand-ins of their own names where no registry answers);
#   4. the API image from the prebuilt artifacts (deploy/image.sh);
#   5. `up --scale api=2`, then deploy/compose_checks.py: both replicas healthy, ports on 127.0.0.1
#      only, the key required, an answer computed on one replica a hit on the other, a job started on
#      a replica that is killed finished by the other under the same id, job records kept across a
#      Redis restart, Prometheus scraping;
#   6. `down --volumes`: what this run created goes (containers, networks, the jobs volume); images and
#      the build cache stay, so the next `make image` takes seconds. A build over changed artifacts
#      leaves the old one's layers untagged (up to ~20 GB): `docker image prune` frees them, and CI
#      does so before its tests (deploy/free-disk.sh).
#   deploy/compose-smoke.sh [ARTIFACTS_DIR]
# Uses `docker compose` (v2) where that plugin exists, else `docker-compose` (v1, Debian 12's).
set -eu
cd "$(dirname "$0")/.."
artifacts="${1:-artifacts}"
project=polyglot-smoke
export API_PORT="${API_PORT:-18000}" PROMETHEUS_PORT="${PROMETHEUS_PORT:-19090}"
started=$(date +%s)
. deploy/engine.sh

if docker compose version >/dev/null 2>&1; then compose="docker compose"; else compose="docker-compose"; fi

finish() {
    status=$?
    if [ "$status" -ne 0 ]; then
        $compose -p "$project" ps || true
        $compose -p "$project" logs --tail 40 api proxy || true
    fi
    $compose -p "$project" down --volumes --remove-orphans >/dev/null 2>&1 || true
    if [ -n "$daemon" ]; then
        engine_stop
        echo "compose smoke: stopped the Docker engine it started"
    fi
    echo "compose smoke: $([ "$status" -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - started )) s"
    exit "$status"
}
trap finish EXIT

engine_start

sh deploy/env.sh
sh deploy/base-images.sh .env
build_started=$(date +%s)
sh deploy/image.sh "$artifacts"
echo "compose smoke: image built in $(( $(date +%s) - build_started )) s," \
    "$(docker image inspect polyglot-geometry:latest --format '{{.Size}}' | awk '{printf "%.2f GB", $1 / 1e9}')"
$compose -p "$project" up -d --scale api=2
python3 deploy/compose_checks.py "$project" "http://127.0.0.1:$API_PORT" "http://127.0.0.1:$PROMETHEUS_PORT" .env
