#!/usr/bin/env sh
# The base images docker-compose.yml and the Dockerfile use: the real ones where a registry answers
# (python:3.11-slim, redis:7-alpine, prom/prometheus:v2.53.0, nginx:1.25-alpine), else stand-ins made
# from Debian's packages under names of their own (polyglot-base/...: never a real image's name, so a
# real image is never shadowed), with Redis, Prometheus and nginx running as their own users. Which
# image each service uses goes into the env file compose reads (PYTHON_IMAGE, REDIS_IMAGE,
# PROMETHEUS_IMAGE, PROXY_IMAGE), so the same files work either way.
#   deploy/base-images.sh [ENV_FILE] [WORKDIR]
# DEBIAN_MIRROR overrides the mirror (default: the first of this machine's apt sources). The host's
# extra CA certificates (a TLS proxy in front of PyPI and the mirror) are trusted inside the images.
set -eu
env_file="${1:-.env}"
work="${2:-${TMPDIR:-/tmp}/polyglot-base-images}"
default_mirror=$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
    | grep -o -m1 'http[s]*://[^ ]*/debian/*$' | head -1)
mirror="${DEBIAN_MIRROR:-${default_mirror:-http://deb.debian.org/debian}}"

present() { docker image inspect "$1" >/dev/null 2>&1; }
pulled() { present "$1" || timeout 60 docker pull -q "$1" >/dev/null 2>&1; }
use() {  # use VARIABLE IMAGE: compose (and the Dockerfile's build argument) take IMAGE
    touch "$env_file"
    grep -v "^$1=" "$env_file" >"$env_file.new" || true
    echo "$1=$2" >>"$env_file.new"
    mv "$env_file.new" "$env_file"
    echo "  $1=$2"
}

context="$work/context"
debian() {  # local/debian:bookworm, once: debootstrap from the mirror, imported
    present local/debian:bookworm && return 0
    echo "base images: making local/debian:bookworm from $mirror"
    mkdir -p "$work"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    tar -C "$work/rootfs" -c . | docker import - local/debian:bookworm >/dev/null
    rm -rf "$work/rootfs"
}

# stand_in TAG PACKAGES [DOCKERFILE LINES...]: one image of Debian packages on local/debian
stand_in() {
    tag=$1 packages=$2
    shift 2
    present "$tag" && return 0
    debian
    rm -rf "$context" && mkdir -p "$context/certs"
    cp /usr/local/share/ca-certificates/*.crt "$context/certs/" 2>/dev/null || true
    {
        echo "FROM local/debian:bookworm"
        echo "COPY certs/ /usr/local/share/ca-certificates/"
        echo "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates $packages >/dev/null && update-ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*"
        for line in "$@"; do echo "$line"; done
    } >"$context/Dockerfile"
    docker build -q -t "$tag" "$context" >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
    echo "  made $tag: $packages"
}

# choose VARIABLE REAL STAND-IN PACKAGES [DOCKERFILE LINES...]
choose() {
    variable=$1 real=$2 stand=$3
    shift 3
    if pulled "$real"; then
        use "$variable" "$real"
    else
        stand_in "$stand" "$@"
        use "$variable" "$stand"
    fi
}

echo "base images (into $env_file):"
# pip trusts its own bundle unless told: the system store holds the host's extra certificates
choose PYTHON_IMAGE python:3.11-slim polyglot-base/python:3.11-bookworm \
    "python3 python3-venv python3-pip python-is-python3" \
    "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt"
choose REDIS_IMAGE redis:7-alpine polyglot-base/redis:7.0-bookworm "redis-server" \
    "RUN mkdir -p /data && chown redis:redis /data" "WORKDIR /data" "USER redis" 'CMD ["redis-server"]'
choose PROMETHEUS_IMAGE prom/prometheus:v2.53.0 polyglot-base/prometheus:2.42-bookworm "prometheus" \
    "RUN mkdir -p /prometheus && chown prometheus:prometheus /prometheus" "USER prometheus" \
    'ENTRYPOINT ["/usr/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
choose PROXY_IMAGE nginx:1.25-alpine polyglot-base/nginx:1.22-bookworm "nginx-light" \
    "RUN chown -R www-data:www-data /var/log/nginx /var/lib/nginx" "USER www-data" \
    'CMD ["nginx", "-g", "daemon off; error_log stderr;"]'
