# shellcheck shell=bash
# A throwaway PostgreSQL cluster, for scripts/test and scripts/bench (sourced by both).
#
# The caller defines log MESSAGE, missing MESSAGE (fatal or a warning, as the caller decides) and PYTHON (an
# interpreter, to find a free port). start_postgres exports SEALED_TEST_POSTGRES_URL (a role that may create databases,
# not a superuser); stop_postgres stops the cluster and deletes its folder.

# The folder of PostgreSQL's server programs: initdb's on PATH, else the newest of Debian's /usr/lib/postgresql/N/bin.
postgres_bindir() {
    local initdb
    initdb="$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$initdb" && -x "$initdb" ]] || return 1
    dirname "$(readlink -f "$initdb")"
}

PG_DIR=""
PG_BIN=""
PG_AS=()
start_postgres() {
    # A throwaway cluster for this run: initdb in a temporary folder (as the unprivileged user sealedpg when running as
    # root, since initdb and postgres refuse root), trust authentication on the Unix socket in that folder and on
    # 127.0.0.1 only, a free loopback port, fsync and synchronous commits on (what the product runs with). A role that
    # may create databases (not a superuser) is what the tests use: PostgresFixture gives each test a database. It is a
    # member of pg_signal_backend, so that the fixture's DROP DATABASE … WITH (FORCE) may end an autovacuum worker that
    # happens to be in the database (without it PostgreSQL refuses the drop: SQLSTATE 42501).
    if ! PG_BIN="$(postgres_bindir)"; then
        missing "PostgreSQL's initdb not found (install the Debian package postgresql)"
        return 0
    fi
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sealed-postgres.XXXXXX")"
    if ((EUID == 0)); then
        id -u sealedpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin sealedpg
        chown sealedpg: "$PG_DIR"
        PG_AS=(runuser -u sealedpg --)
    fi
    chmod 700 "$PG_DIR"
    local port
    port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    if ! "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$PG_DIR/initdb.log" 2>&1; then
        tail -n 30 "$PG_DIR/initdb.log" >&2 || true
        missing "initdb failed"
        return 0
    fi
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$PG_DIR/data/pg_hba.conf"
    if ! "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=on -c synchronous_commit=on -c max_connections=300" \
        >/dev/null; then
        tail -n 30 "$PG_DIR/postgres.log" >&2 || true
        missing "PostgreSQL did not start"
        return 0
    fi
    if ! "${PG_AS[@]}" "$PG_BIN/psql" -h "$PG_DIR" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE sealed_test LOGIN CREATEDB IN ROLE pg_signal_backend" >/dev/null; then
        missing "could not create the test role in PostgreSQL"
        return 0
    fi
    export SEALED_TEST_POSTGRES_URL="postgres://sealed_test@127.0.0.1:$port/postgres"
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $PG_DIR), SEALED_TEST_POSTGRES_URL=$SEALED_TEST_POSTGRES_URL"
}

stop_postgres() {
    if [[ -n "$PG_DIR" ]]; then
        if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
            "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_DIR"
        PG_DIR=""
    fi
}

