# Shell functions the benchmark scripts share: sourced (`. scripts/lib.sh`) from the
# repository root by scripts that define log (a line to stderr) and the array pids
# (background processes their cleanup kills).

# free_port prints a TCP port free on the loopback interface.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_http URL CODE waits up to 30 s for URL to answer CODE.
wait_http() {
  for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = "$2" ] && return 0
    sleep 0.2
  done
  log "timed out waiting for $1 to answer $2"; return 1
}

# field NAME LINE: the value after NAME in LINE, a line of "name value" pairs such as
# scripts/hitload's; by name, so that a field hitload adds moves nothing.
field() { awk -v k="$1" '{for (i = 1; i < NF; i += 2) if ($i == k) {print $(i + 1); exit}}' <<<"$2"; }

# cpu_ticks PID: the process's user+system CPU time so far, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# serve_generated LOG CPU BINARY [NAME=VALUE...]: starts a generated service on CPU
# with the environment given (besides PORT and ADMIN_PORT, chosen free here), its
# output in LOG, and waits until it is ready. Sets served_pid (also appended to pids)
# and served_url (http://127.0.0.1:PORT) and served_admin (the admin port's URL).
serve_generated() {
  local log_file=$1 cpu=$2 bin=$3 port admin
  shift 3
  port=$(free_port) admin=$(free_port)
  env PORT="$port" ADMIN_PORT="$admin" "$@" taskset -c "$cpu" "$bin" >"$log_file" 2>&1 &
  served_pid=$!
  pids+=("$served_pid")
  served_url=http://127.0.0.1:$port served_admin=http://127.0.0.1:$admin
  wait_http "$served_url/readyz" 200
}

# cached_item BASE_URL creates an item through the service at BASE_URL, reads it once
# (which fills the cache) and prints the item's URL: every later GET of it is a cache hit.
cached_item() {
  local id
  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"bench item","price":100}' \
    "$1/v1/items" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -o /dev/null "$1/v1/items/$id"
  echo "$1/v1/items/$id"
}
