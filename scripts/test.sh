#!/usr/bin/env bash
# Runs the whole test suite. This is the test command the README names and
# .ci/run calls.
#
# The store tests need a PostgreSQL and a Redis server. This script starts
# throwaway ones on 127.0.0.1 (temporary data folders, free ports picked at
# start), exports their URLs as AUTHCMP_TEST_POSTGRES_URL and
# AUTHCMP_TEST_REDIS_URL, runs `cargo test`, and stops them on exit, also
# when a test fails. Missing servers are installed from Debian's packages
# when running as root or with CI=true; otherwise the store tests are
# skipped, and each says so on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

find_pg_bin() {
    local dir
    if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then
            echo "$dir"
            return
        fi
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

install_servers() {
    if [ -n "$(find_pg_bin)" ] && command -v redis-server >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" != 0 ] && [ "${CI:-}" != true ]; then
        echo "test.sh: PostgreSQL or Redis is not installed and this is neither root nor CI;" \
            "store tests will be skipped (install postgresql and redis-server to run them)" >&2
        return 1
    fi
    echo "test.sh: installing postgresql and redis-server from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q postgresql redis-server >/dev/null
}

tmp=""
pg_bin=""
run_as=()

stop_servers() {
    if [ -n "$pg_bin" ] && [ -f "$tmp/pg/postmaster.pid" ]; then
        "${run_as[@]}" "$pg_bin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [ -f "$tmp/redis.pid" ]; then
        kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}

start_servers() {
    tmp=$(mktemp -d /tmp/authcmp-test.XXXXXX)
    chmod 755 "$tmp"
    trap stop_servers EXIT

    # PostgreSQL refuses to run as root, so root runs it as `postgres`.
    pg_bin=$(find_pg_bin)
    if [ "$(id -u)" = 0 ]; then
        run_as=(runuser -u postgres --)
    else
        run_as=(env)
    fi
    local pg_port redis_port password
    pg_port=$(free_port)
    redis_port=$(free_port)
    password="test-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    mkdir "$tmp/pg" "$tmp/socket"
    echo "$password" >"$tmp/pwfile"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$tmp/pg" "$tmp/socket" "$tmp/pwfile"
    fi
    "${run_as[@]}" "$pg_bin/initdb" -D "$tmp/pg" --username=authcmp --pwfile="$tmp/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 >"$tmp/initdb.log" 2>&1 ||
        { cat "$tmp/initdb.log" >&2; return 1; }
    "${run_as[@]}" "$pg_bin/pg_ctl" -D "$tmp/pg" -l "$tmp/socket/pg.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $tmp/socket -c fsync=off" \
        start >/dev/null || { cat "$tmp/socket/pg.log" >&2; return 1; }
    "${run_as[@]}" "$pg_bin/createdb" -h "$tmp/socket" -p "$pg_port" -U authcmp authcmp_test

    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
        --dir "$tmp" --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
    for _ in $(seq 50); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done

    export AUTHCMP_TEST_POSTGRES_URL="postgres://authcmp:$password@127.0.0.1:$pg_port/authcmp_test"
    export AUTHCMP_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
    echo "test.sh: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port" >&2
}

if install_servers; then
    start_servers
fi
cargo test --locked "$@"
