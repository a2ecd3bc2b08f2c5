#!/usr/bin/env bash
# The cost of tracing: read-hit throughput of a generated full-stack Gin service with tracing on
# at 10 % sampling against the same service without tracing (issue L: within 5 %).
#
# Generates gin+postgres+redis+kafka+prometheus twice, with --tracing none and --tracing otel,
# and runs both as in production (LOG_LEVEL=info, real PostgreSQL and Redis from
# scripts/services.sh, each service a database of its own; Kafka: scripts/drill's kfake broker)
# except RATE_LIMIT_RPS=0 (all load comes from one client IP). The traced one exports with
# OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf to scripts/otlpsink, a loopback OTLP/HTTP receiver
# that decodes and discards, with OTEL_TRACES_SAMPLER=parentbased_traceidratio and
# OTEL_TRACES_SAMPLER_ARG=0.1 (requests come without a traceparent: each is a root, 10 % sampled;
# the other 90 % still run the propagator and the sampler).
# The load is scripts/hitload (closed loop, CONNS connections) on GET /v1/items/{id} of an item
# in the cache (a Redis hit). Services on CPU 0; hitload, the sink and the broker on CPU 1.
# Beside throughput it reports each service's CPU time per request (from /proc), which other
# load on the machine disturbs less.
# Throughput on a shared machine drifts, so every run measures the two back to back in
# alternating order (off first in odd runs), and the ratio is the median of the runs' paired
# ratios (traced/off). The last line is `ratio tracing read-hit: X.XX` (exit status 1 below
# MIN_RATIO).
# Usage: scripts/bench-tracing.sh       env: RUNS (default 8), DURATION (default 5s),
#        CONNS (default 32), MIN_RATIO (default 0.95), SAMPLE (OTEL_TRACES_SAMPLER_ARG, default
#        0.1; SAMPLE=0 measures the instrumentation of requests no span is kept of), CONTROL
#        (1: both services without tracing, the harness's own bias and noise: the ratio should be
#        1.00)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-8}
duration=${DURATION:-5s}
conns=${CONNS:-32}
min_ratio=${MIN_RATIO:-0.95}
sample=${SAMPLE:-0.1}
control=${CONTROL:-}
log() { echo "bench-tracing: $*" >&2; }

command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux; } >&2
eval "$(scripts/services.sh)"

work=$(mktemp -d)
pids=()
dbs=()
psql_run() { psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -qc "$1" >/dev/null; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do psql_run "DROP DATABASE IF EXISTS $d WITH (FORCE)" || true; done
  redis-cli -u "$REDIS_URL" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
  rm -rf "$work"
}
prefix="bench-tracing-$(date +%s)-$$:"
trap cleanup EXIT

cpus=$(nproc)
server_cpu=0 load_cpu=1
[ "$cpus" -ge 2 ] || load_cpu=0
go build -o "$work/svcgen" ./cmd/svcgen
go build -o "$work/otlpsink" ./scripts/otlpsink
go build -o "$work/hitload" ./scripts/hitload
(cd scripts/drill && go build -o "$work/drill" .)

wait_http() { # url, want-code
  for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = "$2" ] && return 0
    sleep 0.2
  done
  log "timed out waiting for $1 to answer $2"; return 1
}
# first_line FILE: waits for the first line of a program's stdout and prints its last field.
first_line() {
  for _ in $(seq 150); do
    [ -s "$1" ] && { head -1 "$1" | awk '{print $NF}'; return 0; }
    sleep 0.1
  done
  log "$1 stayed empty"; return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The broker: kfake, serving at once (-hang 1ms), until stdin closes or SIGTERM.
taskset -c "$load_cpu" "$work/drill" broker -port 0 -hang 1ms >"$work/broker.out" 2>"$work/broker.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^serving ' "$work/broker.out" 2>/dev/null && break; sleep 0.1; done
brokers=$(awk '/^serving / {print $2}' "$work/broker.out")
[ -n "$brokers" ] || { log "the broker did not start: $(cat "$work/broker.log")"; exit 1; }

taskset -c "$load_cpu" "$work/otlpsink" >"$work/sink.out" 2>&1 &
sink_pid=$!
pids+=("$sink_pid")
sink=$(first_line "$work/sink.out")

declare -A url_item svc_pid
for tracing in none otel; do
  svc=$work/svc-$tracing
  choice=$tracing
  [ -z "$control" ] || choice=none
  log "generating the $tracing service with --tracing $choice (gin, postgres, redis, kafka, prometheus)"
  "$work/svcgen" new bench-svc --module example.com/bench-svc --framework gin --database postgres \
    --cache redis --broker kafka --metrics prometheus --tracing "$choice" --ci none --deploy none -o "$svc" >/dev/null
  (cd "$svc" && go build -o "$work/bench-svc-$tracing" ./cmd/bench-svc)
  db="bench_tracing_${tracing}_$$"
  psql_run "CREATE DATABASE $db"
  dbs+=("$db")
  db_url=$(python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$DATABASE_URL" "$db")

  otel=()
  if [ "$tracing" = otel ]; then
    otel=(OTEL_EXPORTER_OTLP_ENDPOINT="$sink" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
      OTEL_SERVICE_NAME=bench-svc OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG="$sample")
  fi
  port=$(free_port)
  env PORT="$port" ADMIN_PORT="$(free_port)" DATABASE_URL="$db_url" REDIS_URL="$REDIS_URL" \
    REDIS_KEY_PREFIX="$prefix$tracing:" KAFKA_BROKERS="$brokers" KAFKA_TOPIC="bench-$tracing-$$.items" \
    LOG_LEVEL=info RATE_LIMIT_RPS=0 "${otel[@]}" \
    taskset -c "$server_cpu" "$work/bench-svc-$tracing" >"$work/svc-$tracing.log" 2>&1 &
  pids+=($!)
  svc_pid[$tracing]=$!
  wait_http "http://127.0.0.1:$port/readyz" 200
  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"bench item","price":100}' \
    "http://127.0.0.1:$port/v1/items" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -o /dev/null "http://127.0.0.1:$port/v1/items/$id" # fills the cache
  url_item[$tracing]=http://127.0.0.1:$port/v1/items/$id
done

# cpu_ticks PID: the process's user+system CPU time so far, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# One hitload run against service label; appends "run label rps p99_ms requests errors
# cpu_us_per_request" to results. The CPU time is the service's own (its exports included): less
# sensitive than throughput to what else runs on the machine.
results=$work/results
measure() { # label url
  local out before after
  before=$(cpu_ticks "${svc_pid[$1]}")
  out=$(taskset -c "$load_cpu" env GOMAXPROCS=1 "$work/hitload" -c "$conns" -d "$duration" -url "$2")
  after=$(cpu_ticks "${svc_pid[$1]}")
  read -r _ requests _ rps _ _ _ p99 _ errors <<<"$out"
  [ "$errors" = 0 ] || log "$1: $errors errors"
  local cpu_us
  cpu_us=$(awk -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN {printf "%.1f", d / hz * 1e6 / (n > 0 ? n : 1)}')
  log "$1 run: $rps req/s, p99 $p99 ms, $cpu_us µs CPU per request"
  echo "$run $1 $rps $p99 $requests $errors $cpu_us" >>"$results"
}

log "warming up (run 0: counted in the requests the sink's spans are compared with, not in the figures)"
run=0
for tracing in none otel; do measure "$tracing" "${url_item[$tracing]}"; done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$runs"); do
  log "run $run of $runs"
  order="none otel"
  [ $((run % 2)) -eq 1 ] || order="otel none"
  for tracing in $order; do measure "$tracing" "${url_item[$tracing]}"; done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { log "a server exited during the benchmark"; exit 1; }
done
if grep -q '"level":"ERROR"' "$work"/svc-*.log; then
  log "a service logged errors:"; grep -h '"level":"ERROR"' "$work"/svc-*.log | head -5 >&2
fi
sleep 6 # the batch span processor's default delay is 5 s: the last spans reach the sink
kill "$sink_pid"
wait "$sink_pid" || true
read -r _ exports _ spans < <(tail -1 "$work/sink.out")

echo "scripts/hitload -c $conns -d $duration (closed loop) on loopback; services on CPU $server_cpu, hitload, sink and broker on CPU $load_cpu; $cpus CPUs"
echo "service: gin+postgres+redis+kafka+prometheus, GET /v1/items/{id} (Redis hit), LOG_LEVEL=info, RATE_LIMIT_RPS=0"
[ -z "$control" ] || echo "CONTROL: the \"otel\" service is generated without tracing too"
echo "traced: OTLP/HTTP protobuf to a loopback sink, parentbased_traceidratio $sample; the sink got $exports exports, $spans spans"
echo "load average before/after: $load_before / $load_after; medians of $runs runs; ratio: median of the runs' paired ratios"
python3 - "$results" "$min_ratio" "$spans" "$sample" "$control" <<'EOF'
import statistics, sys
rows, by_run, cpu_run, total = {}, {}, {}, {"none": 0, "otel": 0}
for line in open(sys.argv[1]):
    run, label, rps, p99, requests, errors, cpu_us = line.split()
    total[label] += int(requests)
    if run == "0":
        continue  # the warm-up
    rows.setdefault(label, []).append((float(rps), float(p99), float(cpu_us)))
    by_run[(run, label)] = float(rps)
    cpu_run[(run, label)] = float(cpu_us)
runs = sorted({run for run, _ in by_run}, key=int)
print("%-8s %12s %10s %16s" % ("tracing", "req/s", "p99 ms", "CPU µs/request"))
for label in ("none", "otel"):
    print("%-8s %12.0f %10.2f %16.1f" % (label, *(statistics.median(r[i] for r in rows[label]) for i in range(3))))
pairs = [by_run[(run, "otel")] / by_run[(run, "none")] for run in runs]
cpu_pairs = [cpu_run[(run, "otel")] / cpu_run[(run, "none")] for run in runs]
spans = int(sys.argv[3])
if spans == 0 and float(sys.argv[4]) > 0 and not sys.argv[5]:
    print("the traced service exported no span: tracing is not on, the figures compare nothing")
    sys.exit(1)
print("spans exported per 100 traced requests: %.1f (a sampled read hit is a server span and its Redis spans)" % (100.0 * spans / max(total["otel"], 1)))
ratio = statistics.median(pairs)
print("paired ratios: %s" % " ".join("%.3f" % p for p in pairs))
print("CPU per request, traced/off (median of paired ratios): %.2f (runs: %s)" % (
    statistics.median(cpu_pairs), " ".join("%.3f" % p for p in cpu_pairs)))
print("ratio tracing read-hit: %.2f" % ratio)
sys.exit(0 if ratio >= float(sys.argv[2]) else 1)
EOF
