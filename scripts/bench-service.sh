#!/usr/bin/env bash
# What the generated stack costs over the code a team would write by hand for the same work.
#
# For each framework (Gin, Echo, net/http ServeMux, chi): generates a service with PostgreSQL,
# Redis, Kafka and Prometheus (CI and deploy files off), builds it and the hand-written server of
# the same framework (scripts/testdata/handwritten: store.go and <fw>/main.go, built in a
# temporary module with the service's go.mod/go.sum, so every library version is the same), and
# measures both on three endpoints:
#   healthz   GET /healthz (the liveness probe; no I/O)
#   read-hit  GET /v1/items/{id} of a cached item: one Redis GET, the cached JSON written back
#   write     POST /v1/items: decode, validate, INSERT the item and its outbox row through
#             pgx as one batch (one round trip, one implicit transaction), answer 201
# The hand-written server does exactly that work and nothing else (no logging, metrics,
# breakers, timeouts); it uses the same pgx pool size (DB_MAX_CONNS) and Redis client defaults.
# The service runs as in production (LOG_LEVEL=info, access log on, metrics on, real PostgreSQL
# and Redis from scripts/services.sh) except RATE_LIMIT_RPS=0: all load comes from one client
# IP, which the per-IP limiter would otherwise cap at 100 req/s. Kafka is configured but absent
# (a closed port): writes store their events in the outbox and the relay backs off, as it does
# while a broker is down; READINESS_CHECKS leaves the broker out so that the service is ready.
# Each framework gets a fresh database (migrated by the service; the hand-written server writes
# to the same tables) and a Redis key prefix of its own; both are removed at the end.
#
# Load: scripts/hitload, on CPU 1 with GOMAXPROCS=1 (servers on CPU 0; taskset). Peak
# throughput is a closed loop of CONNS connections; the constant-rate runs are hitload -rate
# with CONNS connections (latency counted from when a request is sent, as vegeta counts it; the
# report says how many were sent over 1 ms late). The load generator shares the machine, so
# it must cost little: hitload speaks HTTP/1.1 itself (19-21 µs of CPU per read hit, where
# net/http's client took 30-37 and vegeta, whose results pipeline encodes and decodes every
# response's headers and body, about 42); what the client takes, the servers, PostgreSQL and
# Redis lose, and the more so the more headers a response has.
# Throughput on a shared machine drifts, so every run measures the service and the hand-written
# server back to back on each endpoint, in alternating order (hand-written first in odd runs),
# and a ratio is the median of the runs' paired ratios. This VM's speed swings by a quarter
# within seconds (the same binary's CPU time per read hit from 27 to 46 µs in consecutive
# runs), so many short pairs tell more than a few long ones: nine pairs of 1 s by default.
# Beside throughput it reports each server's CPU time per request (from /proc), which other
# load on the machine disturbs less.
# Then a constant-rate run at 80 % of the service's own peak gives the service's p99, and
# one of the hand-written server at the same rate gives what the machine itself allows
# there (load generator, PostgreSQL and Redis share its CPUs): printed beside, for reading.
#
# It ends with, per framework and endpoint:
#   ratio <framework> <endpoint> vs handwritten: X.XX
#   p99 <framework> <endpoint> at 80%: N.NN ms
# and exits 1 when a read-hit or write ratio is below MIN_RATIO or a p99 above MAX_P99_MS.
# Usage: scripts/bench-service.sh      env: RUNS (default 9), DURATION (peak runs, default 1s),
#        RATE_DURATION (constant-rate runs, default 4s), CONNS (default 32), FRAMEWORKS (default
#        "gin echo stdlib chi"), MIN_RATIO (default 0.85), MAX_P99_MS (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${RUNS:-9}
duration=${DURATION:-1s}
rate_duration=${RATE_DURATION:-4s}
conns=${CONNS:-32}
frameworks=${FRAMEWORKS:-gin echo stdlib chi}
min_ratio=${MIN_RATIO:-0.85}
max_p99=${MAX_P99_MS:-5}
endpoints="healthz read-hit write"
log() { echo "bench-service: $*" >&2; }

command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux; } >&2
eval "$(scripts/services.sh)"

work=$(mktemp -d)
pids=()
dbs=()
prefix="bench-service-$(date +%s)-$$:"
psql_run() { psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qc "$1" >/dev/null; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do psql_run "DROP DATABASE IF EXISTS $d WITH (FORCE)" || true; done
  redis-cli -u "$REDIS_URL" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cpus=$(nproc)
server_cpu=0 load_cpu=1
[ "$cpus" -ge 2 ] || load_cpu=0
log "building svcgen and hitload"
go build -o "$work/svcgen" ./cmd/svcgen
go build -o "$work/hitload" ./scripts/hitload

. scripts/lib.sh # free_port, wait_http, cpu_ticks, field

body=$work/item.json
echo '{"name":"bench item","price":100}' >"$body"
closed_port=$(free_port) # nothing listens there: the broker is down
declare -A base pid
for fw in $frameworks; do
  svc=$work/svc-$fw
  log "generating and building the $fw service and its hand-written server"
  "$work/svcgen" new bench-svc --module example.com/bench-svc --framework "$fw" --database postgres \
    --cache redis --broker kafka --metrics prometheus --tracing none --ci none --deploy none -o "$svc" >/dev/null
  (cd "$svc" && go build -o "$work/service-$fw" ./cmd/bench-svc)
  hand=$work/hand-$fw
  mkdir -p "$hand"
  cp "$svc/go.mod" "$svc/go.sum" "$hand/"
  cp "$root/scripts/testdata/handwritten/store.go" "$root/scripts/testdata/handwritten/$fw/main.go" "$hand/"
  (cd "$hand" && go build -o "$work/handwritten-$fw" .)

  db="bench_service_${fw}_$$"
  psql_run "CREATE DATABASE $db"
  dbs+=("$db")
  db_url=$(python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$DATABASE_URL" "$db")
  common=(DATABASE_URL="$db_url" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$prefix$fw:" DB_MAX_CONNS=10)

  port=$(free_port)
  env "${common[@]}" PORT="$port" ADMIN_PORT="$(free_port)" KAFKA_BROKERS="127.0.0.1:$closed_port" \
    READINESS_CHECKS=postgres,redis LOG_LEVEL=info RATE_LIMIT_RPS=0 \
    taskset -c "$server_cpu" "$work/service-$fw" >"$work/service-$fw.log" 2>&1 &
  pids+=($!)
  pid[service-$fw]=$!
  base[service-$fw]=http://127.0.0.1:$port
  wait_http "http://127.0.0.1:$port/readyz" 200

  port=$(free_port)
  env "${common[@]}" PORT="$port" EVENTS=1 taskset -c "$server_cpu" "$work/handwritten-$fw" >"$work/handwritten-$fw.log" 2>&1 &
  pids+=($!)
  pid[handwritten-$fw]=$!
  base[handwritten-$fw]=http://127.0.0.1:$port
  wait_http "http://127.0.0.1:$port/healthz" 200

  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d @"$body" "${base[service-$fw]}/v1/items" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -o /dev/null "${base[service-$fw]}/v1/items/$id" # fills the cache both read
  wait_http "${base[handwritten-$fw]}/v1/items/$id" 200
  echo "$id" >"$work/id-$fw"
done

# attack LABEL ENDPOINT RATE DURATION: one hitload run (RATE 0: closed loop) of CONNS
# connections; prints its line, "requests N rps R p50_ms A p99_ms B errors E late L".
attack() {
  local fw=${1#*-} url opts=(-c "$conns" -d "$4")
  url=${base[$1]}
  case $2 in
  healthz) url=$url/healthz ;;
  read-hit) url=$url/v1/items/$(cat "$work/id-$fw") ;;
  write) url=$url/v1/items opts+=(-body "$body") ;;
  esac
  [ "$3" = 0 ] || opts+=(-rate "$3")
  taskset -c "$load_cpu" env GOMAXPROCS=1 "$work/hitload" "${opts[@]}" -url "$url"
}

# measure LABEL ENDPOINT: one peak run; appends "run label endpoint rps p99_ms cpu_us errors".
results=$work/results
measure() {
  local before after out
  before=$(cpu_ticks "${pid[$1]}")
  out=$(attack "$1" "$2" 0 "$duration")
  after=$(cpu_ticks "${pid[$1]}")
  awk -v l="$run $1 $2" -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$(field requests "$out")" \
    -v rps="$(field rps "$out")" -v p99="$(field p99_ms "$out")" -v e="$(field errors "$out")" \
    'BEGIN {printf "%s %s %s %.1f %d\n", l, rps, p99, d / hz * 1e6 / (n > 0 ? n : 1), e}' >>"$results"
  log "$(tail -1 "$results")"
}

log "warming up"
run=0
for fw in $frameworks; do
  for ep in $endpoints; do for kind in handwritten service; do measure "$kind-$fw" "$ep" >/dev/null 2>&1; done; done
done
: >"$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$runs"); do
  log "run $run of $runs"
  order="handwritten service"
  [ $((run % 2)) -eq 1 ] || order="service handwritten"
  for fw in $frameworks; do
    for ep in $endpoints; do for kind in $order; do measure "$kind-$fw" "$ep"; done; done
  done
done

# The constant-rate runs: 80 % of the service's peak, measured again just before (the machine's
# other load drifts; a peak from minutes ago can be more than the service has now), with at most
# CONNS requests in flight, as in the peak runs.
rates=$work/rates
for fw in $frameworks; do
  for ep in $endpoints; do
    peak=$(field rps "$(attack "service-$fw" "$ep" 0 "$duration")")
    rate=$(awk -v p="$peak" 'BEGIN {printf "%d", p * 0.8}')
    out=$(attack "service-$fw" "$ep" "$rate" "$rate_duration")
    hand=$(attack "handwritten-$fw" "$ep" "$rate" "$rate_duration")
    # fw ep rate p99 success hand_p99 late
    awk -v l="$fw $ep $rate" -v p99="$(field p99_ms "$out")" -v n="$(field requests "$out")" -v e="$(field errors "$out")" \
      -v hand="$(field p99_ms "$hand")" -v late="$(field late "$out")" \
      'BEGIN {printf "%s %s %.3f %s %s\n", l, p99, n / (n + e > 0 ? n + e : 1), hand, late}' >>"$rates"
    log "constant rate: $(tail -1 "$rates")"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { log "a server exited during the benchmark"; exit 1; }
done
if grep -q '"level":"ERROR"' "$work"/service-*.log; then
  log "a service logged errors:"; grep -h '"level":"ERROR"' "$work"/service-*.log | head -5 >&2
fi

echo "scripts/hitload on loopback, $conns connections, closed loop for peak runs of $duration, -rate for $rate_duration; servers on CPU $server_cpu, hitload on CPU $load_cpu; $cpus CPUs"
echo "service: postgres+redis+kafka (broker down: the relay backs off)+prometheus, LOG_LEVEL=info, RATE_LIMIT_RPS=0; DB_MAX_CONNS=10 for both"
echo "load average before/after: $load_before / $load_after; medians of $runs runs; ratios: medians of the runs' paired ratios"
python3 - "$results" "$rates" "$frameworks" "$endpoints" "$min_ratio" "$max_p99" <<'EOF'
import statistics, sys
res, rates_file, fws, eps, min_ratio, max_p99 = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split(), float(sys.argv[5]), float(sys.argv[6])
by = {}
for line in open(res):
    run, label, ep, rps, p99, cpu, errors = line.split()
    by[(run, label, ep)] = (float(rps), float(p99), float(cpu), int(errors))
runs = sorted({k[0] for k in by}, key=int)
med = lambda xs: statistics.median(xs)
print("%-7s %-9s %-12s %9s %9s %10s %7s" % ("fw", "endpoint", "server", "req/s", "p99 ms", "CPU µs/req", "errors"))
for fw in fws:
    for ep in eps:
        for kind in ("handwritten", "service"):
            rows = [by[(run, kind + "-" + fw, ep)] for run in runs]
            print("%-7s %-9s %-12s %9.0f %9.2f %10.1f %7d" % (fw, ep, kind, med(r[0] for r in rows), med(r[1] for r in rows),
                                                            med(r[2] for r in rows), sum(r[3] for r in rows)))
        pairs = [by[(run, "service-" + fw, ep)][0] / by[(run, "handwritten-" + fw, ep)][0] for run in runs]
        cpu = [by[(run, "handwritten-" + fw, ep)][2] / by[(run, "service-" + fw, ep)][2] for run in runs]
        print("%-7s %-9s paired ratios %s; CPU per request handwritten/service %.2f" % (fw, ep, " ".join("%.2f" % p for p in pairs), med(cpu)))
for line in open(rates_file):
    fw, ep, rate, p99, success, hand_p99, late = line.split()
    print("%-7s %-9s constant rate %s/s: p99 %s ms, success %.1f %%, %s sent over 1 ms late; hand-written at that rate: p99 %s ms" % (fw, ep, rate, p99, 100 * float(success), late, hand_p99))
ok = True
for fw in fws:
    for ep in eps:
        r = med(by[(run, "service-" + fw, ep)][0] / by[(run, "handwritten-" + fw, ep)][0] for run in runs)
        print("ratio %s %s vs handwritten: %.2f" % (fw, ep, r))
        ok = ok and (ep == "healthz" or r >= min_ratio)
p99s = {(l.split()[0], l.split()[1]): float(l.split()[3]) for l in open(rates_file)}
for fw in fws:
    for ep in eps:
        print("p99 %s %s at 80%%: %.2f ms" % (fw, ep, p99s[(fw, ep)]))
        ok = ok and p99s[(fw, ep)] <= max_p99
sys.exit(0 if ok else 1)
EOF
