#!/usr/bin/env bash
# A PostgreSQL server for the tests of the shared results store.
#
# Installs PostgreSQL from the distribution's packages when it is missing, starts a private
# cluster listening on 127.0.0.1 only (data in $NAS_PG_DIR, default /tmp/nas-postgres-PORT),
# creates a user and a database, and writes NAS_TEST_POSTGRES_URL to .ci/postgres.env
# (KEY=value lines, for `set -a; . .ci/postgres.env`). It also prints the export line, so
# `eval "$(bash .ci/postgres.sh)"` works. Running it again reuses a running server.
#
# The password is fixed: the server takes connections from this machine only and holds
# nothing but test studies. The URL names the psycopg2 driver, the one the test extra installs.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${NAS_PG_PORT:-54329}"
data="${NAS_PG_DIR:-/tmp/nas-postgres-$port}"
db=nas_test
user=nas
password=nas
url="postgresql+psycopg2://$user:$password@127.0.0.1:$port/$db"

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    log "installing PostgreSQL"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
bin="$(pg_bin)"

# The server refuses to run as root: root runs it as the postgres user.
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    as_owner() { runuser -u postgres -- "$@"; }
else
    owner="$(id -un)"
    as_owner() { "$@"; }
fi

if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    if [ ! -f "$data/PG_VERSION" ]; then
        log "creating a cluster in $data"
        mkdir -p "$data"
        chown "$owner" "$data"
        chmod 700 "$data"
        # Local socket: trust (only the owner can reach it); TCP: passwords.
        as_owner "$bin/initdb" -D "$data" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 >/dev/null
    fi
    log "starting the server on 127.0.0.1:$port"
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$data" start >&2
fi

psql_admin() {
    as_owner "$bin/psql" -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
    psql_admin -c "CREATE ROLE $user LOGIN PASSWORD '$password'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE $db OWNER $user"
fi

echo "NAS_TEST_POSTGRES_URL=$url" > .ci/postgres.env
log "ready: $url (also in .ci/postgres.env)"
echo "export NAS_TEST_POSTGRES_URL=$url"
