#!/bin/sh
# Starts Debian's PostgreSQL 15 cluster for the service's tests and prints the URL of a
# database they may use (CI: export JUDGE_TEST_DATABASE_URL="$(tests/pg/start.sh)").
# Idempotent; run as root. The role may create databases: tests make one per test and drop it.
set -eu
cd /  # psql as postgres: no "could not change directory" noise
VERSION=15
CLUSTER=main
PORT=5432
ROLE=judge
PASSWORD=judge
DB=judge_test

log() { echo "tests/pg/start.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    log "run as root (it starts the cluster and runs psql as postgres)"
    exit 1
fi
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$VERSION $CLUSTER"; then
    log "creating cluster $VERSION/$CLUSTER"
    pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >&2
fi
status=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')
if [ "$status" != online ]; then
    log "starting cluster $VERSION/$CLUSTER"
    pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $3}')

psql_() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qAt $*"; }

# Wait until it accepts connections.
i=0
until su postgres -c "pg_isready -q -p $port"; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then
        log "PostgreSQL did not become ready on port $port"
        exit 1
    fi
    sleep 0.5
done

if [ "$(psql_ "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'\"")" != 1 ]; then
    psql_ "-c \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\"" >&2
else
    psql_ "-c \"ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\"" >&2
fi
if [ "$(psql_ "-c \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"")" != 1 ]; then
    psql_ "-c \"CREATE DATABASE $DB OWNER $ROLE\"" >&2
fi

# Debian's default pg_hba.conf allows password (scram) logins over 127.0.0.1; check it.
if ! PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DB" -qAtc "SELECT 1" >/dev/null 2>&1; then
    log "cannot log in as $ROLE over TCP on 127.0.0.1:$port (check pg_hba.conf)"
    exit 1
fi
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$DB"
