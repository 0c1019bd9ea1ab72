#!/usr/bin/env bash
# The suite on both databases at once (the machines have two cores), in two lanes of about the
# same length. SQLite runs everything; PostgreSQL runs the tests that touch a database through
# the platform (tests/spine, tests/web, tests/points: the ledgers, tests/console: the admin console,
# tests/plugins: application events and plugin health). The pure tests (tests/unit: engine, forms, conformance
# scripts) give the same answer on any database, and the browser tests drive pages whose
# database work tests/web already covers on both, so those run once, on SQLite.
#   lane 1: SQLite, everything but the browser tests named in SECOND_LANE_BROWSER
#   lane 2: PostgreSQL (tests/spine, tests/web, tests/points, tests/console, tests/plugins tests/connectors tests/notifications), then SQLite for those browser tests
# A new browser test file lands in lane 1 until it is named here. Extra arguments go to every
# run.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
SECOND_LANE_BROWSER=(tests/browser/test_accessibility.py tests/browser/test_narrow_screens.py
                     tests/browser/test_console_measure_in_chromium.py
                     tests/browser/test_sealed_decision_in_chromium.py)
mkdir -p test-output
log=test-output/pytest-postgresql.log
rm -f test-output/second-lane-sqlite.rc
second_lane() {
    "$PY" -m pytest --db=postgresql tests/spine tests/web tests/points tests/console tests/plugins tests/connectors tests/notifications "$@"
    local postgresql=$?
    echo
    echo "==== the browser tests of the second lane, on SQLite ===="
    "$PY" -m pytest --db=sqlite "${SECOND_LANE_BROWSER[@]}" "$@"
    local browser=$?
    [ "$browser" -eq 5 ] && browser=0  # extra arguments selected none of them
    echo "$browser" >test-output/second-lane-sqlite.rc
    return "$postgresql"
}
second_lane "$@" >"$log" 2>&1 &
postgresql=$!
ignored=()
for path in "${SECOND_LANE_BROWSER[@]}"; do ignored+=(--ignore="$path"); done
"$PY" -m pytest --db=sqlite "${ignored[@]}" "$@"
sqlite_rc=$?
wait "$postgresql"
postgresql_rc=$?
second_sqlite_rc=$(cat test-output/second-lane-sqlite.rc 2>/dev/null || echo 1)
[ "$second_sqlite_rc" -eq 0 ] || sqlite_rc=1
echo
echo "==== the second lane (PostgreSQL: tests/spine, tests/web, tests/points, tests/console, tests/plugins tests/connectors tests/notifications; SQLite: ${SECOND_LANE_BROWSER[*]}), from $log ===="
cat "$log"
echo "SQLite runs: exit $sqlite_rc; PostgreSQL run: exit $postgresql_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$postgresql_rc" -eq 0 ]
