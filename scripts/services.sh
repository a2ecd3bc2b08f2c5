#!/usr/bin/env bash
# Installs (when missing) and starts the PostgreSQL and Redis servers that the integration tests
# of generated services use, from Debian's packages, then prints the URLs to export.
# Usage: eval "$(scripts/services.sh)"
set -euo pipefail
log() { echo "services.sh: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null || ! command -v redis-server >/dev/null; then
  log "installing postgresql and redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql redis-server >&2
fi

pgver=$(ls /etc/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$pgver" '$1==v && $2=="main" {print $4}' | grep -q online; then
  log "starting PostgreSQL $pgver"
  pg_ctlcluster "$pgver" main start >&2
fi
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2

if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save '' --appendonly no >&2
fi
for _ in $(seq 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done

echo "export DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable'"
echo "export REDIS_URL='redis://127.0.0.1:6379/0'"
