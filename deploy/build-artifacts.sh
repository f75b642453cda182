#!/usr/bin/env sh
# Build the packaged real-model artifacts. Used by `make artifacts`, the Dockerfile and the
# Kubernetes init container, so that CI exercises the same build steps the image runs.
#   deploy/build-artifacts.sh PYTHON ARTIFACTS_DIR [CACHE_DIR]
set -eu
python="${1:-python}"
out="${2:-artifacts}"
cache="${3:-}"
MODELS="llama2-vocab-wordllama use-multilingual-v3 multilingual-e5-small"  # smallest first
for name in $MODELS; do
    if [ -n "$cache" ]; then
        "$python" -m loaders build "packaged:$name" --out "$out/$name" --cache "$cache" --drop-older
    else
        "$python" -m loaders build "packaged:$name" --out "$out/$name"
    fi
done
for name in $MODELS; do
    "$python" -m loaders verify "$out/$name"
done
