#!/usr/bin/env bash
# Project-local PostgreSQL cluster (no Docker needed): data under var/pg (PG_ROOT overrides), 127.0.0.1:${PGPORT_LOCAL:-54329}.
# Usage: db/pg.sh start|stop|status|url
# Idempotent: `start` initialises once, starts if stopped, reuses if running.
# If ConnectionStrings__Default is set, that database is used and nothing is started.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PGROOT="${PG_ROOT:-$ROOT/var/pg}"
PORT="${PGPORT_LOCAL:-54329}"
PG_VERSION="${PG_VERSION:-15}"
BIN="/usr/lib/postgresql/$PG_VERSION/bin"
DB_USER="opportunites"

log() { echo "[pg] $*" >&2; }

as_pg() {
  # initdb and postgres refuse to run as root: run them as the postgres system user.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

ensure_installed() {
  if [ -x "$BIN/initdb" ]; then return; fi
  if [ "$(id -u)" != 0 ]; then
    log "PostgreSQL $PG_VERSION is missing: run as root, or: sudo apt-get install -y postgresql-$PG_VERSION"; exit 1
  fi
  log "installing postgresql-$PG_VERSION with apt-get"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_VERSION" >/dev/null
}

# The postgres user must be able to reach the data folder (a checkout under a private temp dir is not).
ensure_traversable() {
  [ "$(id -u)" = 0 ] || return 0
  local d="$ROOT"
  while [ "$d" != "/" ]; do
    if ! runuser -u postgres -- test -x "$d"; then chmod o+x "$d"; fi
    d="$(dirname "$d")"
  done
}

is_running() { [ -d "$PGROOT/data" ] && as_pg "$BIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; }

start() {
  if [ -n "${ConnectionStrings__Default:-}" ]; then log "ConnectionStrings__Default is set: using it, starting nothing"; return; fi
  ensure_installed
  ensure_traversable
  mkdir -p "$PGROOT/sock"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGROOT" "$PGROOT/sock"; fi
  if [ ! -f "$PGROOT/data/PG_VERSION" ]; then
    log "initialising cluster in $PGROOT/data"
    as_pg "$BIN/initdb" -D "$PGROOT/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=trust --no-sync >/dev/null
    cat >>"$PGROOT/data/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGROOT/sock'
timezone = 'UTC'
max_connections = 200
CONF
  fi
  if is_running; then
    log "already running on 127.0.0.1:$PORT"
  else
    as_pg "$BIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 start >/dev/null
    log "started on 127.0.0.1:$PORT"
  fi
  # The app's role and demo database; the tests make throwaway databases with the same role.
  psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'" | grep -q 1 \
    || psql_admin -qc "CREATE ROLE $DB_USER LOGIN CREATEDB"
  # Tests drop their throwaway databases WITH (FORCE); an autovacuum worker in one must be stoppable by this role.
  psql_admin -qc "GRANT pg_signal_backend TO $DB_USER" 2>/dev/null
  psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'opportunites'" | grep -q 1 \
    || psql_admin -qc "CREATE DATABASE opportunites OWNER $DB_USER"
}

psql_admin() { as_pg "$BIN/psql" -h "$PGROOT/sock" -p "$PORT" -U postgres -d postgres -X -v ON_ERROR_STOP=1 "$@"; }

stop() {
  if is_running; then as_pg "$BIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null; log "stopped"; else log "not running"; fi
}

status() {
  if [ -n "${ConnectionStrings__Default:-}" ]; then echo "external database (ConnectionStrings__Default)"; return; fi
  if is_running; then echo "running on 127.0.0.1:$PORT (data: $PGROOT/data)"; else echo "stopped"; return 3; fi
}

url() {
  if [ -n "${ConnectionStrings__Default:-}" ]; then echo "$ConnectionStrings__Default"; return; fi
  echo "Host=127.0.0.1;Port=$PORT;Database=opportunites;Username=$DB_USER"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
