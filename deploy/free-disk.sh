#!/usr/bin/env sh
# What earlier runs on this machine left that the next one does not need, removed before CI's tests
# (a CI machine is reused: one compose smoke leaves ~20 GB of image layers, a test session ~3 GB):
#   - the API image and every untagged layer (each `make image` makes a new one); the base images
#     stay (debootstrap takes minutes);
#   - earlier pytest sessions' tmp_path dirs.
# Artifacts in the cache stay: a build drops its model's older ones itself (--drop-older).
#   deploy/free-disk.sh
set -eu
cd "$(dirname "$0")/.."
before=$(df -Pk / | awk 'NR == 2 {print $4}')
rm -rf "${TMPDIR:-/tmp}/pytest-of-$(id -un)"
if command -v dockerd >/dev/null 2>&1; then
    . deploy/engine.sh
    if engine_start; then
        docker image rm polyglot-geometry:latest >/dev/null 2>&1 || true
        docker image prune -f >/dev/null
        engine_stop
    fi
fi
after=$(df -Pk / | awk 'NR == 2 {print $4}')
echo "free disk: $(( after / 1048576 )) GB (freed $(( (after - before) / 1048576 )) GB)"
