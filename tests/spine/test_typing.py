"""The core type-checks under mypy with the project's settings, and every ignore says why."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

from tongban import PROJECT_ROOT

CORE = PROJECT_ROOT / "platform" / "tongban"

IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[\w, -]+\])?(?P<rest>.*)")


def _module(path: Path) -> str:
    return path.relative_to(CORE).as_posix()


def test_mypy_finds_no_error_in_the_core() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_type_ignore_in_the_core_names_its_error_code_and_says_why() -> None:
    unexplained = []
    for path in sorted(CORE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT or not (found := IGNORE.search(token.string)):
                continue
            row = token.start[0]
            same_line_reason = "#" in found.group("rest")
            reason_above = row > 1 and lines[row - 2].lstrip().startswith("#")
            if found.group("codes") is None or not (same_line_reason or reason_above):
                unexplained.append(f"{_module(path)}:{row}: {lines[row - 1].strip()}")
    assert unexplained == []


def test_make_test_runs_ruff_before_the_suite_and_mypy_once_within_it() -> None:
    # A dry run lists the commands `make test` (what .ci/run calls) would run, in order. mypy
    # is the suite's own test above (a failure fails CI), not a step the lanes wait for.
    run = subprocess.run(["make", "--dry-run", "test"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    commands = run.stdout.splitlines()
    ruff = next((i for i, c in enumerate(commands) if "ruff check" in c), None)
    suite = next((i for i, c in enumerate(commands) if "scripts/run-tests.sh" in c), None)
    assert ruff is not None and suite is not None and ruff < suite, run.stdout
    assert not any("bin/mypy" in c for c in commands), run.stdout
    lint = subprocess.run(["make", "--dry-run", "lint"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True)
    assert "bin/mypy" in lint.stdout and "ruff check" in lint.stdout, lint.stdout


FAKE_PYTEST = """#!/bin/sh
# Stands in for the interpreter: prints its arguments, exits as FAKE_<LANE> says.
echo "python $*"
case "$*" in
  *--db=postgresql*) exit "${FAKE_POSTGRESQL:-0}" ;;
  *--ignore=tests/browser*) exit "${FAKE_SQLITE:-0}" ;;
  *tests/browser*) exit "${FAKE_BROWSER:-0}" ;;
  *) exit "${FAKE_SQLITE:-0}" ;;
esac
"""


def _lanes(tmp_path: Path, **exits: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTEST, encoding="utf-8")
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "TONGBAN_TEST_PYTHON": str(fake),
           "TONGBAN_TEST_OUTPUT": str(tmp_path / "out"), **exits}
    return subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "run-tests.sh"), "-q"],
                          capture_output=True, text=True, env=env, check=False)


def test_the_lanes_run_each_database_and_fail_when_any_lane_fails(tmp_path: Path) -> None:
    run = _lanes(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "python -m pytest --db=sqlite --ignore=tests/browser -q" in lines
    assert "python -m pytest --db=sqlite tests/browser -q" in lines
    postgresql = next(line for line in lines if "--db=postgresql" in line)
    assert "tests/spine" in postgresql and "tests/web" in postgresql
    for lane in ("FAKE_SQLITE", "FAKE_POSTGRESQL", "FAKE_BROWSER"):
        failed = _lanes(tmp_path, **{lane: "1"})
        assert failed.returncode == 1, (lane, failed.stdout)
    # pytest's 5 (the arguments selected none of a lane's tests) is not a failure
    assert _lanes(tmp_path, FAKE_BROWSER="5").returncode == 0
