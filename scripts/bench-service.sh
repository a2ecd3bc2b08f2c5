#!/usr/bin/env bash
# Throughput of a generated full-stack service against its bare framework.
#
# For each framework (Gin, Echo, net/http ServeMux, chi): generates a service with PostgreSQL,
# Redis and Prometheus (Kafka off, CI and deploy files off), builds it and a bare hello-world of
# the same framework version (scripts/testdata/bare/<fw>, built in a temporary module with the
# service's go.mod/go.sum), and
# runs wrk on loopback against GET /healthz and GET /v1/items/{id} (a Redis cache hit; the bare
# server answers a fixed item). The service runs as in production (LOG_LEVEL=info, real
# PostgreSQL and Redis from scripts/services.sh) except RATE_LIMIT_RPS=0: all load comes from one
# client IP, which the per-IP limiter would otherwise cap at 100 req/s (/healthz is exempt anyway).
# Both run behind an http.Server with the service's default timeouts (server configuration, not
# middleware), so the ratio isolates the middleware stack. Servers are pinned to CPU 0 and wrk
# to CPU 1 (taskset), the same for bare and service. Each figure is the median of RUNS runs.
# Throughput on a shared virtual machine drifts by ±10 % over minutes, so every run measures the
# bare server and the service back to back on each endpoint, in alternating order (bare first
# in odd runs, the service first in even ones), and a ratio is the median of the runs' paired
# ratios: drift slower than one pair cancels out instead of landing on one side.
# The last line is `ratio skeleton/bare healthz: X.XX`, the lowest of the frameworks
# (target: 0.85 or more; exit status 1 below it).
# Usage: scripts/bench-service.sh            env: RUNS (default 6), DURATION (default 5s),
#        CONNS (default 32), FRAMEWORKS (default "gin echo stdlib chi"), MIN_RATIO (default 0.85)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${RUNS:-6}
duration=${DURATION:-5s}
conns=${CONNS:-32}
frameworks=${FRAMEWORKS:-gin echo stdlib chi}
min_ratio=${MIN_RATIO:-0.85}
log() { echo "bench-service: $*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } >&2
command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux; } >&2
eval "$(scripts/services.sh)"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cpus=$(nproc)
server_cpu=0 wrk_cpu=1
[ "$cpus" -ge 2 ] || wrk_cpu=0
go build -o "$work/svcgen" ./cmd/svcgen
prefix="bench-$(date +%s)-$$:"

. scripts/lib.sh # free_port, wait_http

declare -A url_health url_item
for fw in $frameworks; do
  svc=$work/svc-$fw
  log "generating the $fw service (postgres, redis, prometheus; kafka off)"
  "$work/svcgen" new bench-svc --module example.com/bench-svc --framework "$fw" --database postgres \
    --cache redis --broker none --metrics prometheus --ci none --deploy none -o "$svc" >/dev/null
  (cd "$svc" && go build -o "$work/skeleton-$fw" ./cmd/bench-svc)

  bare=$work/bare-$fw
  mkdir -p "$bare"
  cp "$svc/go.mod" "$svc/go.sum" "$bare/"
  cp "$root/scripts/testdata/bare/$fw/main.go" "$bare/"
  (cd "$bare" && go build -o "$work/bare-$fw.bin" .)

  port=$(free_port)
  PORT=$port taskset -c "$server_cpu" "$work/bare-$fw.bin" >"$work/bare-$fw.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$port/healthz" 200
  url_health[bare-$fw]=http://127.0.0.1:$port/healthz
  url_item[bare-$fw]=http://127.0.0.1:$port/v1/items/0000000000000000000000000000

  port=$(free_port)
  env PORT="$port" ADMIN_PORT=0 DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$prefix$fw:" \
    LOG_LEVEL=info RATE_LIMIT_RPS=0 taskset -c "$server_cpu" "$work/skeleton-$fw" >"$work/skeleton-$fw.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$port/readyz" 200
  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"bench item","price":100}' \
    "http://127.0.0.1:$port/v1/items" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -o /dev/null "http://127.0.0.1:$port/v1/items/$id" # fills the cache
  url_health[skeleton-$fw]=http://127.0.0.1:$port/healthz
  url_item[skeleton-$fw]=http://127.0.0.1:$port/v1/items/$id
done

# One wrk run; appends "run label rps p99_ms" to results.
results=$work/results
measure() { # label url
  local out
  out=$(taskset -c "$wrk_cpu" wrk -t2 -c"$conns" -d"$duration" --latency "$2")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then log "$1: $(grep 'Non-2xx\|Socket errors' <<<"$out" | tr -s ' ')"; fi
  log "$1 run: $rps req/s, p99 $p99 ms"
  echo "$run $1 $rps $p99" >>"$results"
}

log "warming up"
for fw in $frameworks; do
  for kind in bare skeleton; do
    taskset -c "$wrk_cpu" wrk -t2 -c"$conns" -d2s "${url_health[$kind-$fw]}" >/dev/null
    taskset -c "$wrk_cpu" wrk -t2 -c"$conns" -d2s "${url_item[$kind-$fw]}" >/dev/null
  done
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$runs"); do
  log "run $run of $runs"
  order="bare skeleton"
  [ $((run % 2)) -eq 1 ] || order="skeleton bare"
  for fw in $frameworks; do
    for kind in $order; do measure "$kind-$fw-healthz" "${url_health[$kind-$fw]}"; done
    for kind in $order; do measure "$kind-$fw-item" "${url_item[$kind-$fw]}"; done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { log "a server exited during the benchmark"; exit 1; }
done
if grep -q '"level":"ERROR"' "$work"/skeleton-*.log; then
  log "the service logged errors:"; grep '"level":"ERROR"' "$work"/skeleton-*.log | head -5 >&2
fi
redis-cli -u "$REDIS_URL" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null

echo "wrk -t2 -c$conns -d$duration --latency on loopback; server on CPU $server_cpu, wrk on CPU $wrk_cpu; $cpus CPUs"
echo "service: postgres+redis+prometheus (kafka off), LOG_LEVEL=info, RATE_LIMIT_RPS=0 (limiter off: one client IP)"
echo "load average before/after: $load_before / $load_after; medians of $runs runs; ratios: medians of the runs' paired ratios"
python3 - "$results" "$frameworks" "$min_ratio" <<'EOF'
import statistics, sys
rows, by_run = {}, {}
for line in open(sys.argv[1]):
    run, label, rps, p99 = line.split()
    rows.setdefault(label, []).append((float(rps), float(p99)))
    by_run[(run, label)] = float(rps)
med = {k: (statistics.median(r for r, _ in v), statistics.median(p for _, p in v)) for k, v in rows.items()}
runs = sorted({run for run, _ in by_run})


def paired(fw, ep):
    """The median over runs of skeleton/bare, each pair measured back to back."""
    return statistics.median(by_run[(run, "skeleton-%s-%s" % (fw, ep))] / by_run[(run, "bare-%s-%s" % (fw, ep))] for run in runs)


print("%-8s %-9s %-8s %12s %10s" % ("fw", "server", "endpoint", "req/s", "p99 ms"))
ratios = {}
for fw in sys.argv[2].split():
    for ep in ("healthz", "item"):
        for kind in ("bare", "skeleton"):
            rps, p99 = med["%s-%s-%s" % (kind, fw, ep)]
            print("%-8s %-9s %-8s %12.0f %10.2f" % (fw, kind, ep, rps, p99))
    for ep in ("healthz", "item"):
        r = paired(fw, ep)
        print("%-8s skeleton/bare %s: %.2f (runs: %s)" % (fw, ep, r, " ".join(
            "%.2f" % (by_run[(run, "skeleton-%s-%s" % (fw, ep))] / by_run[(run, "bare-%s-%s" % (fw, ep))]) for run in runs)))
        if ep == "healthz":
            ratios[fw] = r
low = min(ratios.values())
print("ratio skeleton/bare healthz: %.2f" % low)
sys.exit(0 if low >= float(sys.argv[3]) else 1)
EOF
