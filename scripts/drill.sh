#!/usr/bin/env bash
# Fault drill for a generated service (PostgreSQL + Redis + Prometheus, Gin; FRAMEWORK=echo for Echo).
#
# Starts the local Debian PostgreSQL and Redis when they are not running (scripts/services.sh),
# generates and builds the service, and runs scripts/drill (a small Go program, a module of its own)
# which puts load on item reads and writes, stops Redis, then PostgreSQL, brings both back, then
# sends SIGTERM under load. It prints a table of the bounds and exits non-zero when one fails:
# /healthz 200 throughout; /readyz 503 within 2 s of each stop; no request outlives REQUEST_TIMEOUT
# (+200 ms of client-side grace); each breaker opens (metric) and closes within 5 s of the return;
# no acknowledged write (201) lost; SIGTERM drains with zero failed in-flight requests.
# The servers are stopped and started locally (redis-cli shutdown / redis-server, pg_ctlcluster), so
# DATABASE_URL and REDIS_URL, when set, must point at those local servers. Whatever happens, both
# servers are running again when the script exits.
# Usage: scripts/drill.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
framework=${FRAMEWORK:-gin}
log() { echo "drill.sh: $*" >&2; }

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  eval "$(scripts/services.sh)"
fi
pgver=$(ls /etc/postgresql | sort -n | tail -1)
redis_port=6379

work=$(mktemp -d)
drill_pid=
restore() {
  local code=$?
  if [ -n "$drill_pid" ]; then kill "$drill_pid" 2>/dev/null || true; fi
  if [ -s "$work/service.pid" ]; then kill "$(cat "$work/service.pid")" 2>/dev/null || true; fi
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "restoring Redis"
    redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$pgver" '$1==v && $2=="main" {print $4}' | grep -q online; then
    log "restoring PostgreSQL"
    pg_ctlcluster "$pgver" main start || true
  fi
  if [ "$code" -ne 0 ] && [ -s "$work/service.log" ]; then
    log "last service log lines:"; tail -20 "$work/service.log" >&2
  fi
  rm -rf "$work"
  exit "$code"
}
trap restore EXIT
trap 'exit 130' INT TERM

go build -o "$work/svcgen" ./cmd/svcgen
"$work/svcgen" new drill-svc --module example.com/drill-svc --framework "$framework" --database postgres \
  --cache redis --broker none --metrics prometheus --ci none --deploy none -o "$work/svc" >/dev/null
(cd "$work/svc" && go build -o "$work/drill-svc" ./cmd/drill-svc)
(cd "$root/scripts/drill" && go build -o "$work/drill" .)

# The service's settings for the drill, printed so the table can be read against them.
export LOG_LEVEL=warn RATE_LIMIT_RPS=0 REQUEST_TIMEOUT=2s SHUTDOWN_TIMEOUT=10s \
  DB_CONNECT_TIMEOUT=1s DB_QUERY_TIMEOUT=1s REDIS_TIMEOUT=250ms \
  DB_BREAKER_FAILURES=5 DB_BREAKER_OPEN_TIMEOUT=2s DB_BREAKER_HALF_OPEN_REQUESTS=1 \
  REDIS_BREAKER_FAILURES=5 REDIS_BREAKER_OPEN_TIMEOUT=2s REDIS_BREAKER_HALF_OPEN_REQUESTS=1 \
  REDIS_KEY_PREFIX="drill-$(date +%s)-$$:"
export DATABASE_URL REDIS_URL
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "service: $framework, postgres+redis+prometheus (kafka off), port $port"
echo "settings: REQUEST_TIMEOUT=$REQUEST_TIMEOUT SHUTDOWN_TIMEOUT=$SHUTDOWN_TIMEOUT DB_QUERY_TIMEOUT=$DB_QUERY_TIMEOUT REDIS_TIMEOUT=$REDIS_TIMEOUT"
echo "breakers: open after 5 consecutive failures, half-open after 2s (DB_ and REDIS_BREAKER_*); RATE_LIMIT_RPS=0 (one client IP)"
echo "servers: PostgreSQL $pgver (pg_ctlcluster), Redis on port $redis_port; load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$work/drill" -bin "$work/drill-svc" -port "$port" -pidfile "$work/service.pid" -log "$work/service.log" \
  -redis-stop "redis-cli -p $redis_port shutdown nosave" \
  -redis-start "redis-server --daemonize yes --port $redis_port --bind 127.0.0.1 --save '' --appendonly no >/dev/null && for i in \$(seq 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done" \
  -pg-stop "pg_ctlcluster $pgver main stop -m fast" \
  -pg-start "pg_ctlcluster $pgver main start && for i in \$(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.1; done" &
drill_pid=$!
wait "$drill_pid"
