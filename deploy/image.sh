#!/usr/bin/env sh
# Build the API image from the packaged artifacts `make artifacts` built: they are linked (hard links:
# no copy, no extra disk) into deploy/artifacts/, which the Dockerfile copies instead of building
# them again. Without them the image builds them itself (~10 minutes on 2 cores).
#   deploy/image.sh [ARTIFACTS_DIR] [COMPOSE_FILE]
set -eu
artifacts="${1:-artifacts}"
compose="${2:-docker-compose.yml}"
for model in multilingual-e5-small use-multilingual-v3 llama2-vocab-wordllama; do
    rm -rf "deploy/artifacts/$model"
    if [ -f "$artifacts/$model/manifest.json" ]; then
        cp -rL --link "$artifacts/$model" deploy/artifacts/ 2>/dev/null \
            || { rm -rf "deploy/artifacts/$model"; cp -rL "$artifacts/$model" deploy/artifacts/; }
        # the image serves the input space: its encoders (the encoders extra) are not installed there
        rm -rf "deploy/artifacts/$model/encoder"
    fi
done
# `docker compose` (v2) where the plugin exists, else `docker-compose` (v1, Debian 12's); either reads .env
if docker compose version >/dev/null 2>&1; then
    docker compose -f "$compose" build api
else
    docker-compose -f "$compose" build api
fi
