#!/usr/bin/env bash
# The whole suite, in three lanes run at once (docs/testing.md):
#   sqlite:     every test but the browser tests, on SQLite;
#   postgresql: the folders whose tests touch a database through the platform (DB_FOLDERS), on
#               PostgreSQL; tests/conftest.py leaves out those that use no database fixture
#               (the SQLite lane runs them); and the browser journeys named in JOURNEYS_ON_BOTH;
#   browser:    the browser tests (tests/browser), headless Chromium against SQLite: the pages'
#               database work is covered on both databases by tests/web and the other folders.
# The machines have two cores. The browser lane waits much of its time (for Chromium, for keys
# typed at a person's pace), so a third lane keeps both cores busy. Extra arguments go to every
# run; a lane whose arguments select none of its tests (pytest's exit 5) counts as passed.
set -u
cd "$(dirname "$0")/.."
PY=${TONGBAN_TEST_PYTHON:-.venv/bin/python}  # another interpreter: the tests of this script
OUT=${TONGBAN_TEST_OUTPUT:-test-output}
DB_FOLDERS=(tests/spine tests/web tests/points tests/console tests/plugins tests/connectors
            tests/notifications)
# Browser journeys the issues ask to see on both databases: the PostgreSQL lane runs them too.
JOURNEYS_ON_BOTH=(tests/browser/test_clerk_journey_in_chromium.py
                  tests/browser/test_citizen_journey_in_chromium.py)
mkdir -p "$OUT"
# Bytecode: the three lanes and the processes tests start (the CLI, timer and delivery workers,
# run.py) import the same modules. Compiled once here, each process reads them instead of
# compiling its own copy, whatever the environment says (PYTHONDONTWRITEBYTECODE). A file that
# does not compile fails in the lanes, with the test that imports it.
unset PYTHONDONTWRITEBYTECODE
"$PY" -m compileall -q platform plugins tests >/dev/null 2>&1 || true
rm -f "$OUT"/*.rc

lane() {  # NAME, then pytest's arguments; output to test-output/NAME.log, exit to NAME.rc
    local name=$1
    shift
    "$PY" -m pytest "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    [ "$rc" -eq 5 ] && rc=0
    echo "$rc" >"$OUT/$name.rc"
}

SECONDS=0
lane postgresql --db=postgresql "${DB_FOLDERS[@]}" "${JOURNEYS_ON_BOTH[@]}" "$@" &
lane browser --db=sqlite tests/browser "$@" &
lane sqlite --db=sqlite --ignore=tests/browser "$@" &
wait
status=0
for name in sqlite postgresql browser; do
    rc=$(cat "$OUT/$name.rc" 2>/dev/null || echo 1)
    echo
    echo "==== lane $name: exit $rc ($OUT/$name.log) ===="
    cat "$OUT/$name.log"
    [ "$rc" -eq 0 ] || status=1
done
echo
echo "all three lanes finished in ${SECONDS}s; exit $status"
exit "$status"
