#!/usr/bin/env bash
# Fault drill of generated services (Gin; FRAMEWORK=echo for Echo), against a PostgreSQL cluster
# and a Redis server of its own, so that stopping and SIGSTOPping them disturbs nobody else's
# tests, and a Kafka of its own (scripts/drill/broker: hung, then kfake, on one port).
#
# It generates and builds two services and runs scripts/drill (a Go program, a module of its own):
# - pg+redis+prometheus: load on item reads and writes; Redis stopped, then PostgreSQL, both
#   brought back, then SIGTERM under load. Bounds: /healthz 200 throughout; /readyz 200 naming the
#   dependency failing within 2 s of each stop and 200 throughout until SIGTERM (readiness is the
#   instance's own state), 503 within 1 s of SIGTERM; no request outlives REQUEST_TIMEOUT (+200 ms of client-side grace); each breaker
#   opens and closes within 5 s of the return; no acknowledged write (201) lost; SIGTERM drains
#   with zero failed in-flight requests.
# - pg+redis+kafka+prometheus, its broker accepting TCP and never answering: every POST 201 within
#   1 s; 2000 writes queued, then the broker becomes real and the outbox drains (events/s); every
#   201 id is a record key on the topic within 30 s; kill -9 under load and a restart lose no
#   event and no write; PostgreSQL, then Redis, SIGSTOPped (postmaster and every backend: hung,
#   not refused) under load: every request ends within REQUEST_TIMEOUT + grace, the breaker opens
#   and closes again, reads are served from PostgreSQL while Redis hangs.
# It prints a table of the bounds and exits non-zero when one fails. Whatever happens, every
# stopped server is resumed and the drill's own servers are removed on exit.
# Usage: scripts/drill.sh   (root: the cluster runs as the postgres user; needs postgresql and
# redis-server installed, as scripts/services.sh does)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
framework=${FRAMEWORK:-gin}
log() { echo "drill.sh: $*" >&2; }

if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  scripts/services.sh >/dev/null # installs them
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
chmod 755 "$work"
pgdata=$work/pg
pgport=$(freeport)
redis_port=$(freeport)
drill_pid=
# postmaster prints the cluster's postmaster PID (empty when it is not running); children the PIDs
# of a process's children (from /proc: procps may not be installed).
postmaster() { head -1 "$pgdata/postmaster.pid" 2>/dev/null || true; }
children() {
  local f stat
  for f in /proc/[0-9]*/stat; do
    read -r stat <"$f" 2>/dev/null || continue
    read -r _ ppid _ <<<"${stat##*) }"
    if [ "$ppid" = "$1" ]; then f=${f#/proc/}; echo "${f%/stat}"; fi
  done
}
# Hanging PostgreSQL stops the postmaster first (then it forks no new backend), then every process
# it started; resuming goes the other way. The drill runs them through bash -c.
pg_hang() { local pm; pm=$(postmaster); kill -STOP "$pm"; kill -STOP $(children "$pm") 2>/dev/null || true; }
pg_resume() { local pm; pm=$(postmaster); kill -CONT $(children "$pm") 2>/dev/null || true; kill -CONT "$pm"; }
export pgdata
export -f postmaster children pg_hang pg_resume
restore() {
  local code=$?
  if [ -n "$drill_pid" ]; then kill "$drill_pid" 2>/dev/null || true; fi
  for f in service.pid events-service.pid; do
    if [ -s "$work/$f" ]; then kill -9 "$(cat "$work/$f")" 2>/dev/null || true; fi
  done
  if [ -n "$(postmaster)" ]; then
    pg_resume 2>/dev/null || true
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" stop -m immediate >/dev/null 2>&1 || true
  fi
  if [ -s "$work/redis.pid" ]; then
    kill -CONT "$(cat "$work/redis.pid")" 2>/dev/null || true
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ "$code" -ne 0 ]; then
    local keep; keep=$(mktemp -d /tmp/drill-logs.XXXXXX)
    for f in service.log events-service.log; do
      if [ -s "$work/$f" ]; then
        log "last lines of $f:"; tail -20 "$work/$f" >&2
        cp "$work/$f" "$keep/"
      fi
    done
    log "the services' logs are kept in $keep"
  fi
  rm -rf "$work"
  exit "$code"
}
trap restore EXIT
trap 'exit 130' INT TERM

# The drill's own servers: a throwaway PostgreSQL cluster and Redis on free loopback ports.
mkdir -p "$pgdata"
if [ "$(id -u)" = 0 ]; then chown postgres "$pgdata"; fi
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U postgres -A trust --no-sync >/dev/null
pg_start="${as_pg[*]} $pgbin/pg_ctl -D $pgdata -l $pgdata/log -w -o '-p $pgport -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null"
redis_start="redis-server --daemonize yes --port $redis_port --bind 127.0.0.1 --save '' --appendonly no --pidfile $work/redis.pid >/dev/null && for i in \$(seq 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done"
bash -c "$pg_start"
bash -c "$redis_start"
export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"

go build -o "$work/svcgen" ./cmd/svcgen
common=(--module example.com/drill-svc --framework "$framework" --database postgres --cache redis
  --metrics prometheus --ci none --deploy none)
"$work/svcgen" new drill-svc "${common[@]}" --broker none -o "$work/svc" >/dev/null
"$work/svcgen" new drill-svc "${common[@]}" --broker kafka -o "$work/svc-kafka" >/dev/null
(cd "$work/svc" && go build -o "$work/drill-svc" ./cmd/drill-svc)
(cd "$work/svc-kafka" && go build -o "$work/drill-svc-kafka" ./cmd/drill-svc)
(cd "$root/scripts/drill" && go build -o "$work/drill" .)

# The services' settings for the drill, printed so the table can be read against them.
export LOG_LEVEL=warn RATE_LIMIT_RPS=0 REQUEST_TIMEOUT=2s SHUTDOWN_TIMEOUT=10s \
  DB_CONNECT_TIMEOUT=1s DB_QUERY_TIMEOUT=1s REDIS_TIMEOUT=250ms \
  DB_BREAKER_FAILURES=5 DB_BREAKER_OPEN_TIMEOUT=2s DB_BREAKER_HALF_OPEN_REQUESTS=1 \
  REDIS_BREAKER_FAILURES=5 REDIS_BREAKER_OPEN_TIMEOUT=2s REDIS_BREAKER_HALF_OPEN_REQUESTS=1 \
  KAFKA_BREAKER_FAILURES=5 KAFKA_BREAKER_OPEN_TIMEOUT=1s KAFKA_BREAKER_HALF_OPEN_REQUESTS=1 \
  REDIS_KEY_PREFIX="drill-$(date +%s)-$$:"
echo "services: $framework, postgres+redis+prometheus (kafka off) and postgres+redis+kafka+prometheus"
echo "settings: REQUEST_TIMEOUT=$REQUEST_TIMEOUT SHUTDOWN_TIMEOUT=$SHUTDOWN_TIMEOUT DB_QUERY_TIMEOUT=$DB_QUERY_TIMEOUT REDIS_TIMEOUT=$REDIS_TIMEOUT KAFKA_PUBLISH_TIMEOUT=${KAFKA_PUBLISH_TIMEOUT:-2s (default)}"
echo "breakers: open after 5 consecutive failures, half-open after 2s (DB_, REDIS_) or 1s (KAFKA_); RATE_LIMIT_RPS=0 (one client IP)"
echo "servers: the drill's own PostgreSQL ($pgbin, port $pgport) and Redis (port $redis_port); load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$work/drill" -bin "$work/drill-svc" -kafka-bin "$work/drill-svc-kafka" -dir "$work" \
  -redis-stop "redis-cli -p $redis_port shutdown nosave" \
  -redis-start "$redis_start" \
  -redis-hang "kill -STOP \$(cat $work/redis.pid)" \
  -redis-resume "kill -CONT \$(cat $work/redis.pid)" \
  -pg-stop "${as_pg[*]} $pgbin/pg_ctl -D $pgdata -w stop -m fast >/dev/null" \
  -pg-start "$pg_start" \
  -pg-hang pg_hang -pg-resume pg_resume &
drill_pid=$!
wait "$drill_pid"
