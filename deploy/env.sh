#!/usr/bin/env sh
# Write .env for docker compose (never committed: .gitignore): a generated Redis password and API key,
# kept when .env already has them. `sh deploy/env.sh --open` leaves the API without a key (anyone who
# reaches the port may ask; the port is bound to 127.0.0.1 unless BIND_ADDRESS says otherwise).
#   deploy/env.sh [--open] [ENV_FILE]
set -eu
open=""
if [ "${1:-}" = "--open" ]; then open=1; shift; fi
file="${1:-.env}"
touch "$file"
chmod 600 "$file"
secret() { python3 -c "import secrets; print(secrets.token_urlsafe(24))"; }
has() { grep -q "^$1=" "$file"; }
has REDIS_PASSWORD || echo "REDIS_PASSWORD=$(secret)" >>"$file"
if [ -z "$open" ] && ! has POLYGLOT_API_KEYS; then
    key=$(secret)
    echo "POLYGLOT_API_KEYS=$key" >>"$file"
    echo "API key (send it as Authorization: Bearer KEY, or set POLYGLOT_API_KEY for the client): $key"
fi
echo "$file: REDIS_PASSWORD set$(has POLYGLOT_API_KEYS && echo ', POLYGLOT_API_KEYS set' || echo ', no API key')"
