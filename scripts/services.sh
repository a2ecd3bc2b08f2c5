#!/usr/bin/env bash
# Installs (when missing) and starts the servers that the integration tests of generated services
# use, from Debian's packages: PostgreSQL, Redis, MariaDB (for the MySQL component), Memcached,
# RabbitMQ and NATS with JetStream. Prints the URLs to export. Kafka needs no server: tests use
# franz-go's kfake, an in-process cluster speaking the real protocol.
# Usage: eval "$(scripts/services.sh)"
set -euo pipefail
log() { echo "services.sh: $*" >&2; }

packages="postgresql redis-server mariadb-server memcached rabbitmq-server nats-server"
if ! command -v pg_ctlcluster >/dev/null || ! command -v redis-server >/dev/null ||
  ! command -v mariadbd >/dev/null || ! command -v memcached >/dev/null ||
  ! command -v rabbitmq-server >/dev/null || ! command -v nats-server >/dev/null; then
  log "installing $packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq $packages >&2
fi
state=/var/tmp/svcgen-services
mkdir -p "$state"
# listening PORT: whether something accepts TCP connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# await NAME PORT: waits up to 60 s for the port, failing with the server's log otherwise.
await() {
  for _ in $(seq 300); do listening "$2" && return 0; sleep 0.2; done
  log "$1 did not start; its log:"; tail -20 "$state/$1.log" >&2; return 1
}

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

if ! listening 3306; then
  log "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >&2
  mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
    --bind-address=127.0.0.1 --port=3306 --skip-log-bin >"$state/mariadb.log" 2>&1 &
  await mariadb 3306
fi
for _ in $(seq 50); do mariadb -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
mariadb -uroot >&2 <<'SQL'
CREATE USER IF NOT EXISTS 'svcgen'@'127.0.0.1' IDENTIFIED BY 'svcgen';
CREATE USER IF NOT EXISTS 'svcgen'@'localhost' IDENTIFIED BY 'svcgen';
GRANT ALL ON *.* TO 'svcgen'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL ON *.* TO 'svcgen'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS svcgen;
SQL

if ! listening 11211; then
  log "starting Memcached"
  memcached -d -u memcache -l 127.0.0.1 -p 11211 -m 64 >&2
  await memcached 11211
fi

if ! listening 4222; then
  log "starting NATS with JetStream"
  mkdir -p "$state/nats"
  nats-server -a 127.0.0.1 -p 4222 -js -sd "$state/nats" >"$state/nats.log" 2>&1 &
  await nats 4222
fi

if ! listening 5672; then
  log "starting RabbitMQ"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server >"$state/rabbitmq.log" 2>&1 &
  await rabbitmq 5672
fi

echo "export DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable'"
echo "export REDIS_URL='redis://127.0.0.1:6379/0'"
echo "export MYSQL_URL='mysql://svcgen:svcgen@127.0.0.1:3306/svcgen'"
echo "export MEMCACHED_SERVERS='127.0.0.1:11211'"
echo "export AMQP_URL='amqp://guest:guest@127.0.0.1:5672/'"
echo "export NATS_URL='nats://127.0.0.1:4222'"
