#!/bin/bash
# tests/trials_postgres.sh - the trial store's PostgreSQL backend against a
# real server, through the library (tests/trials_postgres_check.c: study
# checks, the trial limit and per-study ids under four racing processes,
# claim_next with SKIP LOCKED, leases, heartbeats, recover_stale, results and
# stage rows, discard). Starts its own server (tests/lib/postgres.sh).
# Usage: tests/trials_postgres.sh path/to/mcuopt (cwd: repo root; the check
# program is built beside the CLI). Exits 77 (skipped) without PostgreSQL's
# server programs or psql.
set -uo pipefail
CHECK=$(dirname "$(realpath "$1")")/trials_postgres_check
. "$(dirname "$0")/lib/skip.sh"
. "$(dirname "$0")/lib/postgres.sh"
[ -x "$CHECK" ] || { echo "FAIL: $CHECK was not built"; exit 1; }
trap pg_stop EXIT
pg_start
"$CHECK" "$PG_URL" || exit 1
echo "trials_postgres: the PostgreSQL trial store checks passed"
