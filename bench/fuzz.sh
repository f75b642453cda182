#!/usr/bin/env sh
# Bad input at volume: schemathesis against the served OpenAPI spec of a running service.
#   bench/fuzz.sh [base-url] [examples-per-operation]
# Checks: no 5xx, documented status codes and content types, bodies that match the schemas, and
# 405 with an Allow header for undeclared methods. CI runs a 3-example version (tests/e2e).
set -eu
base="${1:-http://127.0.0.1:8000}"
examples="${2:-200}"
exec .venv/bin/schemathesis run "$base/schema/openapi.json" \
    -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method \
    -n "$examples" --seed 1 --phases examples,fuzzing --request-timeout 60
