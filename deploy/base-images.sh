#!/usr/bin/env sh
# The base images docker-compose.yml and the Dockerfile name, made locally from Debian's packages when
# no registry can be reached: `debootstrap --variant=minbase bookworm`, imported as local/debian, and
# three small images on it tagged with the names the files use. An image that is present or can be
# pulled is left alone (the real ones win wherever a registry answers).
#   deploy/base-images.sh [WORKDIR]
# DEBIAN_MIRROR overrides the mirror (default: the first of this machine's apt sources). The host's
# extra CA certificates (a TLS proxy in front of PyPI and the mirror) are trusted inside the images.
set -eu
work="${1:-${TMPDIR:-/tmp}/polyglot-base-images}"
default_mirror=$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
    | grep -o -m1 'http[s]*://[^ ]*/debian/*$' | head -1)
mirror="${DEBIAN_MIRROR:-${default_mirror:-http://deb.debian.org/debian}}"

present() { docker image inspect "$1" >/dev/null 2>&1; }
pulled() { present "$1" || timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

missing=""
for image in python:3.11-slim redis:7-alpine prom/prometheus:v2.53.0; do
    pulled "$image" || missing="$missing $image"
done
[ -n "$missing" ] || { echo "base images: present or pulled"; exit 0; }
echo "base images: no registry for$missing; making stand-ins from Debian packages ($mirror)"

mkdir -p "$work"
if ! present local/debian:bookworm; then
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    tar -C "$work/rootfs" -c . | docker import - local/debian:bookworm >/dev/null
    rm -rf "$work/rootfs"
fi

context="$work/context"
rm -rf "$context" && mkdir -p "$context/certs"
cp /usr/local/share/ca-certificates/*.crt "$context/certs/" 2>/dev/null || true

# stand_in TAG PACKAGES [DOCKERFILE LINES...]: one image of Debian packages on local/debian
stand_in() {
    tag=$1 packages=$2
    shift 2
    present "$tag" && return 0
    {
        echo "FROM local/debian:bookworm"
        echo "COPY certs/ /usr/local/share/ca-certificates/"
        echo "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates $packages >/dev/null && update-ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*"
        for line in "$@"; do echo "$line"; done
    } >"$context/Dockerfile"
    docker build -q -t "$tag" "$context" >/dev/null
    echo "  $tag: $packages"
}

# pip trusts its own bundle unless told: the system store holds the host's extra certificates
stand_in python:3.11-slim "python3 python3-venv python3-pip python-is-python3" \
    "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt"
stand_in redis:7-alpine "redis-server" 'CMD ["redis-server"]'
stand_in prom/prometheus:v2.53.0 "prometheus" \
    'ENTRYPOINT ["/usr/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
