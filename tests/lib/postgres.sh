# postgres.sh - sourced by shell tests that need a PostgreSQL server of
# their own (after skip.sh): pg_start starts one in a temporary directory,
# listening only on a Unix socket in that directory (no TCP port, nothing
# shared with other tests or a system server), and sets PG_URL to the
# address of its `postgres` database as user `mcuopt`; pg_restart restarts
# it (cutting every connection); pg_stop stops it and
# removes the directory (call it from the test's EXIT trap). PostgreSQL
# refuses to run as root, so as root (CI) the server runs as the `postgres`
# user that Debian's postgresql package creates. Skips (77) without the
# server programs or psql.
#
# Leaves out: TCP, passwords, TLS (the tests are about the store, not the
# network).

PG_DIR=
PG_URL=
pg_as_server=()

# pg_start: start the server; an error starting it is a test failure.
pg_start() {
  require_cmd psql postgresql-client
  local bin= d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bin=$d; break; fi
  done
  [ -n "$bin" ] || skip "PostgreSQL server programs not found in /usr/lib/postgresql/*/bin (Debian package postgresql; scripts/setup.sh installs it)"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || skip "running as root and there is no postgres user to run the server (Debian package postgresql creates it)"
    pg_as_server=(runuser -u postgres --)
  fi
  PG_BIN=$bin
  PG_DIR=$(mktemp -d)
  [ ${#pg_as_server[@]} -eq 0 ] || chown postgres "$PG_DIR"
  "${pg_as_server[@]}" "$bin/initdb" -D "$PG_DIR/data" -U mcuopt --auth=trust -E UTF8 --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || { echo "FAIL: initdb"; cat "$PG_DIR/initdb.log"; exit 1; }
  "${pg_as_server[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 120 \
    -o "-k $PG_DIR -c listen_addresses= -c fsync=off" start >"$PG_DIR/pg_ctl.log" 2>&1 </dev/null ||
    { echo "FAIL: pg_ctl start"; cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log"; exit 1; }
  PG_URL="postgresql://mcuopt@/postgres?host=$PG_DIR"
}

# pg_restart: stop the server (fast: open connections are cut) and start it again.
pg_restart() {
  "${pg_as_server[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 120 -m fast \
    -o "-k $PG_DIR -c listen_addresses= -c fsync=off" restart >"$PG_DIR/pg_ctl.log" 2>&1 </dev/null ||
    { echo "FAIL: pg_ctl restart"; cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log"; exit 1; }
}

# pg_stop: stop the server (if started) and remove its directory.
pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  "${pg_as_server[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$PG_DIR"
  PG_DIR=
}
