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


def test_make_test_runs_ruff_and_mypy_before_the_suite_so_ci_type_checks() -> None:
    # A dry run lists the commands `make test` (what .ci/run calls) would run, in order.
    run = subprocess.run(["make", "--dry-run", "test"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    commands = run.stdout.splitlines()
    position = {word: next((i for i, c in enumerate(commands) if word in c), None)
                for word in ("ruff check", "bin/mypy", "scripts/run-tests.sh")}
    assert None not in position.values(), run.stdout
    assert position["ruff check"] < position["scripts/run-tests.sh"], run.stdout
    assert position["bin/mypy"] < position["scripts/run-tests.sh"], run.stdout
    # The script runs the suite on both databases and fails when either run does.
    script = (PROJECT_ROOT / "scripts" / "run-tests.sh").read_text(encoding="utf-8")
    assert '-m pytest --db=sqlite' in script and '-m pytest --db=postgresql' in script
    assert '[ "$sqlite_rc" -eq 0 ] && [ "$postgresql_rc" -eq 0 ]' in script
