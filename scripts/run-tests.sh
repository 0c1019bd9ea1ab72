#!/usr/bin/env bash
# The suite on both databases at once (the machines have two cores): SQLite runs everything;
# PostgreSQL runs beside it the tests that touch a database through the platform (tests/spine,
# tests/web). The pure tests (tests/unit: engine, forms, conformance scripts) give the same
# answer on any database, and the browser tests drive pages whose database work tests/web
# already covers on both, so those run once. Extra arguments go to both runs.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p test-output
log=test-output/pytest-postgresql.log
"$PY" -m pytest --db=postgresql tests/spine tests/web "$@" >"$log" 2>&1 &
postgresql=$!
"$PY" -m pytest --db=sqlite "$@"
sqlite_rc=$?
wait "$postgresql"
postgresql_rc=$?
echo
echo "==== the PostgreSQL run (tests/spine, tests/web), from $log ===="
cat "$log"
echo "SQLite run: exit $sqlite_rc; PostgreSQL run: exit $postgresql_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$postgresql_rc" -eq 0 ]
