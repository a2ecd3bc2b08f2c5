#!/usr/bin/env bash
# Builds, vets and race-tests a generated service for every one of the 576 stack combinations
# (framework × database × cache × broker × metrics × tracing × ci), against real PostgreSQL (MariaDB for mysql) and Redis.
# Prints one line per combination and a closing "N passed, N failed" line.
# Usage: scripts/matrix.sh            (starts the servers with scripts/services.sh when needed)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ] || [ -z "${MYSQL_URL:-}" ]; then
  eval "$(scripts/services.sh)"
fi
log=$(mktemp)
SVCGEN_MATRIX=all go test ./e2e -run '^TestMatrix$' -count=1 -v -timeout 0 2>&1 | tee "$log" | grep -E '^    --- (PASS|FAIL)'
passed=$(grep -c '^    --- PASS' "$log")
failed=$(grep -c '^    --- FAIL' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -eq 576 ]
