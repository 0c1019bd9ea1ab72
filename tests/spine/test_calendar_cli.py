"""`tongban calendar ...` and publishing calendar versions without a release."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from tongban import PROJECT_ROOT
from tongban.models import AuditEvent, DefinitionVersion
from tongban.worktime import CalendarNotPublished, add_working_days, calendar_for

TONGBAN = [sys.executable, "-c", "from tongban.cli import main; main()"]
CN = PROJECT_ROOT / "workflow_definitions/calendars/cn.yaml"
CN_2027 = CN.read_text("utf-8") + """  2027:
    source: 国务院办公厅关于2027年部分节假日安排的通知（测试用，虚构）
    holidays:
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
    workdays: []
"""


def versions(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(DefinitionVersion))


def test_due_and_days_from_the_files(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("calendar", "due", "2026-09-30", "5")
    assert result.exit_code == 0 and result.stdout == "2026-10-13\n"
    assert "calendar shanghai from its file" in result.stderr
    result = cli("calendar", "due", "2026-09-30", "3", "--calendar", "cal-t")
    assert result.stdout == "2026-10-10\n"
    result = cli("calendar", "days", "2026-09-30", "2026-10-12", "--calendar", "cal-t")
    assert result.stdout == "4\n"
    result = cli("calendar", "due", "2026-09-30T16:30", "2", "--unit", "working_hours",
                 "--calendar", "cal-t")
    assert result.stdout == "2026-10-08T10:30:00+08:00\n"
    result = cli("calendar", "due", "2026-10-01T08:00", "36", "--unit", "hours")
    assert result.stdout == "2026-10-02T20:00:00+08:00\n"
    result = cli("calendar", "due", "2026-10-01", "7", "--unit", "natural_days")
    assert result.stdout == "2026-10-07\n"


def test_bad_input_is_one_line_and_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    for args, message in [
        (("due", "2026-02-30", "1"), 'error: the start "2026-02-30" is not a date or time; '
                                     "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[+08:00]"),
        (("due", "2026-12-20", "10"), "error: calendar for 2027 not yet published"),
        (("due", "2026-01-05", "0"), "error: the amount of working_days must be a whole number "
                                     "above 0, not 0"),
        (("days", "2026-01-05", "2027-01-05"), "error: calendar for 2027 not yet published"),
        (("days", "2026-01-05", "2026-01-01"), "error: the end 2026-01-01 is before the start "
                                               "2026-01-05"),
        (("due", "2026-01-05", "1", "--calendar", "mars"),
         'error: unknown calendar "mars"; known calendars: cal-t, cn, shanghai'),
    ]:
        result = cli("calendar", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert result.stderr.splitlines()[-1] == message


def test_check_files(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("calendar", "check", str(CN), str(PROJECT_ROOT / "tests/calendars/cal-t.yaml"))
    assert result.exit_code == 0, result.output
    assert "OK: calendar cn (2025-01-01 … 2026-12-31)" in result.stdout
    bad = tmp_path / "cn.yaml"
    bad.write_text(CN.read_text("utf-8").replace("workdays: [2025-01-26,", "workdays: [2025-01-28,"),
                   "utf-8")
    result = cli("calendar", "check", str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}:24:16: at /years/2025/workdays/0 2025-01-28 is both a holiday (春节) and a "
        "make-up working day; expected one or the other",
        "1 problem(s) found."]


def test_publish_a_new_year_without_a_release(cli, session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("defs", "publish", "--author", "ops").exit_code == 0
    before = versions(session)
    shanghai = calendar_for(session, "shanghai")
    assert shanghai.version == 1 and shanghai.last_day == date(2026, 12, 31)
    result = cli("calendar", "due", "2026-12-20", "10")
    assert "calendar shanghai version 1 from the database" in result.stderr
    assert result.stderr.splitlines()[-1] == "error: calendar for 2027 not yet published"

    new = tmp_path / "cn-2027.yaml"
    new.write_text(CN_2027, "utf-8")
    result = cli("calendar", "publish", str(new), "--author", "admin", "--comment", "2027")
    assert result.exit_code == 0, result.output
    assert result.stdout == "published calendar cn version 2 (2025-01-01 … 2027-12-31)\n"
    session.rollback()  # a fresh snapshot
    assert versions(session) == before + 1
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_type, event.object_id) == (
        "definition.publish", "calendar_definition", "cn@2")
    # Seen at once, also through the calendar that extends it.
    shanghai = calendar_for(session, "shanghai")
    assert shanghai.last_day == date(2027, 12, 31)
    assert add_working_days(shanghai, date(2026, 12, 31), 1) == date(2027, 1, 4)
    result = cli("calendar", "due", "2026-12-20", "10")
    assert result.exit_code == 0 and result.stdout == "2027-01-04\n"  # 9 days in 2026
    assert "calendar shanghai version 1 from the database (2025-01-01 … 2027-12-31)" \
        in result.stderr

    again = cli("calendar", "publish", str(new), "--author", "admin")
    assert again.stdout == "unchanged: calendar cn version 2 (2025-01-01 … 2027-12-31)\n"
    listed = cli("calendar", "list")
    assert listed.stdout.splitlines()[0].startswith("cn\tv2\tCN\t2025-01-01 … 2027-12-31\t")


def test_a_bad_file_publishes_nothing(cli, session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("defs", "publish", "--author", "ops").exit_code == 0
    before = versions(session)
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    bad = tmp_path / "shanghai.yaml"
    bad.write_text((PROJECT_ROOT / "workflow_definitions/calendars/shanghai.yaml").read_text("utf-8")
                   .replace("extends: cn", "extends: beijing"), "utf-8")
    result = cli("calendar", "publish", str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'{bad}:7:10: at /extends unknown calendar "beijing" in extends; known calendars: cn',
        "1 problem(s) found; nothing was published."]
    session.rollback()  # a fresh snapshot
    assert versions(session) == before
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    # A new cn version that drops 2026 shrinks the range of shanghai (which lists no years of
    # its own) at once: 2026 is then "not yet published", never guessed.
    with_2025_only = CN.read_text("utf-8").split("  2026:")[0]
    short = tmp_path / "cn-short.yaml"
    short.write_text(with_2025_only, "utf-8")
    result = cli("calendar", "publish", str(short))
    assert result.exit_code == 0, result.output
    session.rollback()  # a fresh snapshot
    try:
        add_working_days(calendar_for(session, "shanghai"), date(2025, 12, 30), 5)
    except CalendarNotPublished as exc:
        assert str(exc) == "calendar for 2026 not yet published"
    else:
        raise AssertionError("2026 should be unknown")


def test_the_command_in_a_shell(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "platform"),
           "TONGBAN_INSTANCE_PATH": str(tmp_path / "instance"),
           "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    done = subprocess.run([*TONGBAN, "calendar", "due", "2025-09-30",
                           "4", "--calendar", "cn"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2025-10-13\n"
    assert "calendar cn from its file (database not initialised" in done.stderr
    done = subprocess.run([*TONGBAN, "calendar", "days", "x", "y"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == 'error: the first day "x" is not a date; expected YYYY-MM-DD\n'
