#!/usr/bin/env sh
# Validate the deployment files without a Docker engine:
#   - docker-compose.yml parses (Debian's docker-compose reads it without an engine);
#   - the Kubernetes manifests validate against their schemas (kubernetes-validate);
#   - the Dockerfile passes hadolint. Its build steps are deploy/build-artifacts.sh, which
#     `make artifacts` (and so CI) runs outside Docker.
set -eu
python="${1:-python}"
bin="$(dirname "$python")"
if command -v docker-compose >/dev/null 2>&1; then
    REDIS_PASSWORD=checked docker-compose -f docker-compose.yml config -q
    echo "docker-compose.yml: OK"
else
    echo "docker-compose not installed: skipping the compose check" >&2
fi
"$bin/kubernetes-validate" --strict --kubernetes-version 1.30 deploy/kubernetes/*.yaml
"$bin/hadolint" --failure-threshold warning Dockerfile
echo "Dockerfile: OK"
"$python" -c "import json, sys; json.load(open('deploy/grafana/polyglot-geometry.json')); print('Grafana dashboard: OK')"
