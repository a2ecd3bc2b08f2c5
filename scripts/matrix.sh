#!/usr/bin/env bash
# Builds, vets and race-tests a generated service for every stack combination (the product of
# e2e/matrix_test.go's stackFactors), against the real servers; a combination whose build inputs
# equal one already checked (it differs only in CI files) passes by that check.
# Prints one line per combination and a closing "N passed, N failed of N combinations" line.
# Usage: scripts/matrix.sh            (starts the servers with scripts/services.sh when needed)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ] || [ -z "${MYSQL_URL:-}" ] || [ -z "${AMQP_URL:-}" ] || [ -z "${MEMCACHED_SERVERS:-}" ]; then
  eval "$(scripts/services.sh)"
fi
log=$(mktemp)
SVCGEN_MATRIX=all go test ./e2e -run '^TestMatrix$' -count=1 -v -timeout 0 2>&1 | tee "$log" | grep -E '^    --- (PASS|FAIL)'
passed=$(grep -c '^    --- PASS' "$log")
failed=$(grep -c '^    --- FAIL' "$log")
total=$(grep -c '^=== RUN   TestMatrix/' "$log")
echo "$passed passed, $failed failed of $total combinations"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ] && [ "$passed" -eq "$total" ]
