"""The `tongban` command line: one group per concern (db, defs, calendar, audit, users, sessions,
demo, flow)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from . import create_app, db
from .points import RuleSet
from .worktime import (
    DEFAULT_CALENDAR,
    TZ,
    UNITS,
    Calendar,
    CalendarNotPublished,
    Period,
    PeriodError,
    UnknownCalendar,
    add_working_days,
    due_at,
    file_calendar,
    file_calendar_ids,
    local_day,
    working_days_between,
)
from .worktime.files import CalendarFileError

if TYPE_CHECKING:
    from .connectors.registry import ConnectorHealth


def command_session() -> Session:
    """The command's own database session (there is no request): opened on first use, closed
    when the command ends."""
    context = click.get_current_context()
    found = context.meta.get("tongban.session")
    if found is None:
        found = context.meta["tongban.session"] = context.with_resource(
            db.new_session(current_app.extensions["tongban.engine"]))
    return found


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def main() -> None:
    """Tongban (通办): low-code platform for government services."""


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration up to the newest."""
    from .migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is at the newest migration.")


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    from .migrate import check

    check(current_app.config["DATABASE_URL"])
    click.echo("Models and migrations agree.")


@main.group("defs")
def defs_group() -> None:
    """Service and form definitions."""


@defs_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False,
                                                         path_type=Path))
def defs_check(path: Path | None) -> None:
    """Check every definition file under PATH (default: the shipped ones). Never writes."""
    from . import PROJECT_ROOT
    from .console.service_cases import case_problems, folder_cases
    from .definitions import load_directory

    root = path or PROJECT_ROOT
    result = load_directory(root)
    for code, cases in folder_cases(root).items():  # the services' test cases: their format
        for name, text in cases.items():
            result.problems.extend(case_problems(result, code, name, text))
    for problem in result.findings:
        click.echo(str(problem), err=True)
    _echo_warning_count(result.warnings)
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) found; fix them before publishing.", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(result.services)} service(s), {len(result.forms)} form(s) and "
               f"{len(result.rules)} rule set(s) in {root}.")


@defs_group.command("test")
@click.argument("service", required=False)
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The repository folder (default: the shipped definitions).")
def defs_test(service: str | None, root: Path | None) -> None:
    """Run the test cases of SERVICE (default: of every service) under
    workflow_definitions/tests/ against the definitions of the same folder. Exit 1 when a case
    fails or the definitions have problems."""
    from . import PROJECT_ROOT
    from .console.service_cases import folder_cases, run_cases
    from .definitions import load_directory

    root = root or PROJECT_ROOT
    loaded = load_directory(root)
    for problem in loaded.problems:
        click.echo(str(problem), err=True)
    cases = folder_cases(root, service)
    if service is not None and service not in loaded.services:
        click.echo(f'There is no service "{service}" in {root}.', err=True)
        sys.exit(2)
    failed = count = 0
    for code, texts in cases.items():
        files = {f"workflow_definitions/tests/{code}/{name}.yaml": text
                 for name, text in texts.items()}
        for result in run_cases(loaded, loaded.problems, code, files):
            count += 1
            if result.passed:
                click.echo(f"PASS {code}/{result.name}: {result.title}")
                continue
            failed += 1
            click.echo(f"FAIL {code}/{result.name}: {result.title}")
            for line in result.problems:
                click.echo(f"  {line}")
            for check in result.failures:
                click.echo(f"  {check.name}: expected {check.expected!r}, got {check.actual!r}")
    click.echo(f"{count - failed} of {count} test case(s) passed.")
    if failed or loaded.problems:
        sys.exit(1)


def _echo_warning_count(warnings: list[Any]) -> None:
    if warnings:
        click.echo(f"{len(warnings)} warning(s): shown for the designer, they do not block "
                   "publishing.", err=True)


def publish_directory(root: Path, author: str, comment: str) -> int:
    """Publish all definitions under root in one transaction; return the number of new versions."""
    from .definitions import load_directory, publish

    result = load_directory(root)
    for problem in result.findings if result.problems else result.warnings:
        click.echo(str(problem), err=True)
    _echo_warning_count(result.warnings)
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) found; nothing was published.", err=True)
        sys.exit(1)
    from .workflow.runtime import recount_unknown_deadlines

    with db.unit_of_work(command_session()) as tx:
        outcome = publish(tx, result, author=author, comment=comment)
        if any(version.kind == "calendar" for version in outcome.created):
            recount_unknown_deadlines(tx)
    for version in outcome.created:
        click.echo(f"published {version.kind} {version.code} version {version.version}")
    for kept in outcome.kept:
        click.echo(kept)
    click.echo(f"{len(outcome.created)} new version(s), {len(outcome.unchanged)} unchanged.")
    return len(outcome.created)


@defs_group.command("publish")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False,
                                                         path_type=Path))
@click.option("--author", default=lambda: getpass.getuser(), show_default="current OS user")
@click.option("--comment", default="", help="Why this version was published")
@with_appcontext
def defs_publish(path: Path | None, author: str, comment: str) -> None:
    """Store each changed definition as a new immutable version (all or nothing)."""
    root = path or Path(current_app.config["DEFINITIONS_DIR"])
    publish_directory(root, author, comment)


# --- tongban calendar: due dates and working-day counts, checking and publishing calendars ----
# `due`, `days` and `list` use the published calendars of the configured database when it is
# initialised and has them, else the files (stderr says which). Bad input is one line on
# stderr and exit status 2.

def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@contextmanager
def _database() -> Iterator[Session | None]:
    """A session on the configured database when it is initialised (migrated), else None."""
    try:
        engine = current_app.extensions["tongban.engine"]
        if not inspect(engine).has_table("definition_version"):
            yield None
            return
    except (RuntimeError, KeyError, SQLAlchemyError):
        yield None
        return
    with db.new_session(engine) as session:
        yield session


def load_calendar(calendar_id: str) -> Calendar:
    """The published calendar when the database has it, else the file; says which on stderr."""
    from .worktime.store import calendar_for, published_calendar_ids

    with _database() as session:
        if session is not None and calendar_id in published_calendar_ids(session):
            calendar = calendar_for(session, calendar_id)
            click.echo(f"calendar {calendar_id} version {calendar.version} from the database "
                       f"({calendar.known_range()})", err=True)
            return calendar
        where = "not initialised" if session is None else f"without a published {calendar_id}"
    try:
        calendar = file_calendar(calendar_id)
    except UnknownCalendar as exc:
        fail(str(exc))
    except CalendarFileError as exc:
        fail(f"calendar {calendar_id} has problems: {exc.problems[0]}")
    click.echo(f"calendar {calendar_id} from its file (database {where}; "
               f"{calendar.known_range()})", err=True)
    return calendar


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f'{what} "{text}" is not a date; expected YYYY-MM-DD')


def parse_instant(text: str, what: str) -> datetime:
    """A date (its 00:00) or a date and time; without an offset, Asia/Shanghai time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f'{what} "{text}" is not a date or time; expected YYYY-MM-DD or '
             "YYYY-MM-DDTHH:MM[+08:00]")
    return value if value.tzinfo is not None else value.replace(tzinfo=TZ)


@main.group("calendar")
def calendar_group() -> None:
    """Working-day calendars: due dates, counts, checking and publishing calendar files."""


@calendar_group.command("due")
@click.argument("start")
@click.argument("amount")
@click.option("--calendar", "calendar_id", default=DEFAULT_CALENDAR, show_default=True)
@click.option("--unit", type=click.Choice(UNITS), default="working_days", show_default=True)
def calendar_due(start: str, amount: str, calendar_id: str, unit: str) -> None:
    """The due date of AMOUNT units from START: for day units the last day (ISO date; the
    period ends at 23:59:59 of it), for hour units the instant (ISO, Asia/Shanghai)."""
    if not amount.lstrip("-").isdigit():
        fail(f'the amount "{amount}" is not a whole number')
    try:
        period = Period(unit, int(amount))
    except PeriodError as exc:
        fail(str(exc))
    instant = parse_instant(start, "the start")
    calendar = load_calendar(calendar_id)
    try:
        if unit == "working_days":
            click.echo(add_working_days(calendar, instant.astimezone(TZ).date(), period.amount)
                       .isoformat())
        elif unit == "natural_days":
            click.echo(due_at(calendar, period, instant).astimezone(TZ).date().isoformat())
        else:
            click.echo(due_at(calendar, period, instant).astimezone(TZ).isoformat())
    except CalendarNotPublished as exc:
        fail(str(exc))


@calendar_group.command("days")
@click.argument("first")
@click.argument("last")
@click.option("--calendar", "calendar_id", default=DEFAULT_CALENDAR, show_default=True)
def calendar_days(first: str, last: str, calendar_id: str) -> None:
    """The number of working days in (FIRST, LAST]."""
    a, b = parse_day(first, "the first day"), parse_day(last, "the last day")
    calendar = load_calendar(calendar_id)
    try:
        click.echo(str(working_days_between(calendar, a, b)))
    except CalendarNotPublished as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))


@calendar_group.command("check")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_check(files: tuple[Path, ...]) -> None:
    """Check calendar files (together with the shipped calendars they may extend). Never
    writes. Exit 1 when any has a problem."""
    from .definitions.loader import calendar_schema_problems
    from .worktime.check import check_documents
    from .worktime.files import catalogue_regions, read_document

    documents, problems = [], []
    for path in files:
        document, found = read_document(path.read_text(encoding="utf-8"), str(path))
        problems.extend(found)
        if document is not None:
            documents.append((str(path), None, document))
    given = {d.data.get("id") for _, _, d in documents if isinstance(d.data, dict)}
    known = {}
    for calendar_id in file_calendar_ids():
        if calendar_id not in given:
            try:
                known[calendar_id] = file_calendar(calendar_id)
            except (UnknownCalendar, CalendarFileError):
                continue
    compiled, found = check_documents(documents, schema=calendar_schema_problems,
                                      regions=catalogue_regions(), known=known)
    problems.extend(found)
    for problem in problems:
        click.echo(str(problem), err=True)
    for calendar in compiled.values():
        click.echo(f"OK: calendar {calendar.id} ({calendar.known_range()})")
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)


@calendar_group.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", default=lambda: getpass.getuser(), show_default="current OS user")
@click.option("--comment", default="", help="Why this version was published")
def calendar_publish(file: Path, author: str, comment: str) -> None:
    """Check a calendar file and publish it as the calendar's next version (no release
    needed); prints the version. Exit 1 with the problems when it has any."""
    from .workflow.runtime import publish_calendar

    with _database() as session:
        if session is None:
            fail("the database is not initialised; run `tongban db upgrade` first")
        with db.unit_of_work(session) as tx:
            outcome = publish_calendar(tx, file.read_text(encoding="utf-8"), file=str(file),
                                   author=author, comment=comment)
    for problem in outcome.problems:
        click.echo(str(problem), err=True)
    if outcome.problems:
        click.echo(f"{len(outcome.problems)} problem(s) found; nothing was published.", err=True)
        sys.exit(1)
    assert outcome.calendar is not None
    row = outcome.version or outcome.unchanged
    assert row is not None
    state = "published" if outcome.version else "unchanged:"
    click.echo(f"{state} calendar {row.code} version {row.version} "
               f"({outcome.calendar.known_range()})")


@calendar_group.command("list")
def calendar_list() -> None:
    """The calendars: id, version, region, known range, name."""
    from .worktime.store import calendar_for, published_calendar_ids

    with _database() as session:
        ids = published_calendar_ids(session) if session is not None else []
        if ids:
            assert session is not None
            click.echo("published calendars (database):", err=True)
            calendars = [calendar_for(session, calendar_id) for calendar_id in ids]
        else:
            click.echo("calendar files (no calendar published in the database):", err=True)
            calendars = []
            for calendar_id in file_calendar_ids():
                try:
                    calendars.append(file_calendar(calendar_id))
                except CalendarFileError as exc:
                    click.echo(f"{calendar_id}: {exc.problems[0]}", err=True)
    for calendar in calendars:
        click.echo(f"{calendar.id}\tv{calendar.version}\t{calendar.region}\t"
                   f"{calendar.known_range()}\t{calendar.name.get('zh', '')}")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.File("r", encoding="utf-8"),
              help="A file written by `audit checkpoint`: the chain must still hold its head")
@with_appcontext
def audit_verify(checkpoint_file: TextIO | None) -> None:
    """Check the keyed hash chain; report the first broken link."""
    from .audit import AuditKeyMissing, BadCheckpoint, describe, read_checkpoint, verify

    session = command_session()
    try:
        checkpoint = (read_checkpoint(session, checkpoint_file.read())
                      if checkpoint_file is not None else None)
        report = verify(session, checkpoint)
    except (AuditKeyMissing, BadCheckpoint) as exc:
        raise click.ClickException(str(exc)) from None
    if not report.ok:
        click.echo(describe(report), err=True)
        sys.exit(1)
    suffix = f" It holds the checkpoint's event {checkpoint.seq}." if checkpoint else ""
    click.echo(describe(report) + suffix)


@audit_group.command("checkpoint")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="File to write (default: standard output); keep it away from the database")
@with_appcontext
def audit_checkpoint(output: Path | None) -> None:
    """Write the chain's head, signed with the audit key, for `audit verify --checkpoint`."""
    from .audit import AuditKeyMissing, take_checkpoint

    try:
        checkpoint = take_checkpoint(command_session())
    except (AuditKeyMissing, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(checkpoint.to_json(), nl=False)
        return
    output.write_text(checkpoint.to_json(), encoding="utf-8")
    click.echo(f"Checkpoint of event {checkpoint.seq} written to {output}.", err=True)


@audit_group.command("rekey")
@click.confirmation_option(prompt="Sign the unkeyed events at the start of the audit chain "
                                  "with the audit key? Check them first: this blesses them.")
@click.option("--actor", default=lambda: getpass.getuser(), show_default="current OS user")
@with_appcontext
def audit_rekey(actor: str) -> None:
    """Once, after upgrading: sign events written before the audit key existed."""
    from .audit import AuditKeyMissing, rekey

    try:
        with db.unit_of_work(command_session()) as tx:
            count = rekey(tx, actor_name=actor)
    except (AuditKeyMissing, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if count == 0:
        click.echo("Nothing to do: every audit event is already keyed.")
        return
    click.echo(f"Signed {count} unkeyed event(s) with the audit key and recorded an audit.rekey "
               "event. Take a new checkpoint now (`tongban audit checkpoint`).")


@main.group("users")
def users_group() -> None:
    """Accounts and roles."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              help="ROLE or ROLE@DEPARTMENT_CODE; repeatable")
@click.password_option()
@with_appcontext
def users_create(username: str, display_name: str, roles: tuple[str, ...], password: str) -> None:
    """Create an account."""
    from .accounts import create_user
    from .models import Role

    parsed = []
    for spec in roles:
        role, _, department = spec.partition("@")
        try:
            parsed.append((Role(role), department or None))
        except ValueError:
            raise click.BadParameter(f"unknown role {role!r}; expected one of "
                                     + ", ".join(r.value for r in Role)) from None
    with db.unit_of_work(command_session()) as tx:
        create_user(tx, username, password, display_name, parsed)
    click.echo(f"Created {username}.")


@users_group.command("link-id")
@click.argument("username")
@click.argument("id_number")
@with_appcontext
def users_link_id(username: str, id_number: str) -> None:
    """Link a citizen ID number to an account: their points ledgers show at /my/points."""
    from sqlalchemy import select
    from sqlmodel import col

    from .models import User
    from .points import ledger

    with db.unit_of_work(command_session()) as tx:
        user_id = tx.scalars(select(col(User.id)).where(col(User.username) == username)).first()
        if user_id is None:
            fail(f"There is no account {username}.")
        try:
            ledger.link_user(tx, id_number, user_id)
        except ledger.LedgerRefused as exc:
            fail(f"{id_number}: {exc}")
    click.echo(f"Linked {username} to ID number {id_number.upper()}.")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List accounts with their roles."""
    from sqlalchemy import select
    from sqlmodel import col

    from .models import Department, Membership, User

    session = command_session()
    for user in session.scalars(select(User).order_by(col(User.username))):
        rows = session.execute(select(col(Membership.role), col(Department.code))
                               .outerjoin(Department,
                                          col(Membership.department_id) == col(Department.id))
                               .where(col(Membership.user_id) == user.id)).all()
        roles = ", ".join(f"{r}@{d}" if d else r for r, d in rows)
        click.echo(f"{user.username:20} {user.display_name:16} {roles}")


@users_group.command("set-password")
@click.argument("username")
@click.password_option()
@with_appcontext
def users_set_password(username: str, password: str) -> None:
    """Give an account a new password and sign it out everywhere. The password policy applies
    (length, character classes, not the user name, not a recent password): a password it
    refuses changes nothing."""
    from .accounts import set_password
    from .staff.passwords import refusal

    try:
        with db.unit_of_work(command_session()) as tx:
            problem = refusal(tx, username, password)
            if problem:
                raise click.ClickException(problem)
            ended = set_password(tx, username, password, actor_name=getpass.getuser())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"New password set for {username}; {ended} session(s) ended.")


@users_group.command("deactivate")
@click.argument("username")
@with_appcontext
def users_deactivate(username: str) -> None:
    """Stop an account signing in and sign it out everywhere."""
    from .accounts import deactivate

    try:
        with db.unit_of_work(command_session()) as tx:
            ended = deactivate(tx, username, actor_name=getpass.getuser())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Deactivated {username}; {ended} session(s) ended.")


@main.group("connectors")
def connectors_group() -> None:
    """Connections to other departments' systems (docs/connectors.md)."""


@connectors_group.command("health")
@click.option("--live", is_flag=True, help="Also ask each connector opened by this process.")
@with_appcontext
def connectors_health(live: bool) -> None:
    """Each service connector's state from its latest call: ok, degraded (transient failures)
    or down (a permanent error an administrator must fix). Exits 1 when one is down."""
    from flask import current_app

    from .connectors import health_reports, registry

    reports = health_reports(command_session(), registry(current_app), live=live)
    if not reports:
        click.echo("No connector has been called yet.")
    for found in reports:
        click.echo(_connector_line(found))
    if any(found.report.state == "down" for found in reports):
        raise SystemExit(1)


def _connector_line(found: ConnectorHealth) -> str:
    """``service/connector: state at time: detail``, as both health commands print it."""
    when = f" at {found.report.checked_at:%Y-%m-%d %H:%M} UTC" if found.report.checked_at else ""
    detail = f": {found.report.detail}" if found.report.detail else ""
    return f"{found.service}/{found.connector}: {found.report.state}{when}{detail}"


@main.group("sessions")
def sessions_group() -> None:
    """Server-side sign-in sessions."""


@sessions_group.command("purge")
@with_appcontext
def sessions_purge() -> None:
    """Delete sessions past their idle or absolute lifetime."""
    from datetime import timedelta

    from .web.sessions import purge_expired

    with db.unit_of_work(command_session()) as tx:
        count = purge_expired(tx, idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]))
    click.echo(f"Deleted {count} expired session(s).")


@main.group("drafts")
def drafts_group() -> None:
    """Applications in progress."""


@drafts_group.command("purge")
@with_appcontext
def drafts_purge() -> None:
    """Delete drafts past their service's expiry, with their uploaded files."""
    from .applications import purge_expired

    with db.unit_of_work(command_session()) as tx:
        count, files = purge_expired(tx)
    root = Path(current_app.config["UPLOAD_DIR"])
    for stored_name in files:
        (root / stored_name).unlink(missing_ok=True)
    click.echo(f"Deleted {count} expired draft(s) and {len(files)} file(s).")


@main.command("demo")
@click.option("--force", is_flag=True,
              help="Create the demo accounts even though the database has other accounts")
@with_appcontext
def demo(force: bool) -> None:
    """Migrate, publish the shipped definitions and create the demo accounts (idempotent)."""
    from .demo import DemoRefused, load_demo

    try:
        lines = load_demo(current_app.extensions["tongban.engine"],
                          Path(current_app.config["DEFINITIONS_DIR"]), force=force)
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@main.group("flow")
def flow_group() -> None:
    """Approval flows."""


@flow_group.command("run", with_appcontext=False)  # no app, no database
@click.argument("script", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the trace to this file instead of standard output")
@click.option("--check", "expected", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Compare the trace with this one (JSON lines); exit 1 at the first difference")
def flow_run(script: Path, out: Path | None, expected: Path | None) -> None:
    """Run a flow with scripted actors on a virtual clock (the test bench; no database)."""
    from .workflow.testbench import ScriptError, first_difference, read_expected, run_script, trace_text

    try:
        trace = run_script(script)
        wanted = read_expected(expected) if expected is not None else None
    except ScriptError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; the script did not run.", err=True)
        sys.exit(2)
    if out is not None:
        out.write_text(trace_text(trace), encoding="utf-8")
    elif wanted is None:
        click.echo(trace_text(trace), nl=False)
    if wanted is not None:
        difference = first_difference(trace, wanted)
        if difference is not None:
            click.echo(f"{expected}: {difference}", err=True)
            sys.exit(1)
        click.echo(f"OK: the trace matches {expected} ({len(trace)} line(s)).")


@flow_group.command("work")
@click.option("--once", is_flag=True,
              help="Work through what is due now in this process (no queue), then stop")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker threads (or processes) firing timers and making service calls")
@click.option("--worker-type", type=click.Choice(["thread", "process"]), default="thread",
              show_default=True, help="Run the workers as threads or as processes")
@with_appcontext
def flow_work(once: bool, workers: int, worker_type: str) -> None:
    """Run the background worker: durable timers and the service calls queued in the outbox,
    on the job queue QUEUE_URL names (a SQLite file by default, Redis for several machines)."""
    import logging

    from . import decisions
    from .extend import events as plugin_events
    from .extend.manager import channels_of, decision_sealing, plugin_manager
    from .notify import delivery as notify_delivery
    from .workflow import queue, timers
    from .workflow.worker import run_due

    engine = current_app.extensions["tongban.engine"]
    settings = queue.QueueSettings.from_config(current_app.config, workers=workers)
    if not once and worker_type == "thread" and workers + 1 > db.POOL_SIZE:
        # Each worker thread holds a connection while it fires a batch, and the scheduler's
        # dispatcher takes one more: a pool that fits them keeps its connections open.
        engine = db.open_database(current_app.config["DATABASE_URL"],
                                  echo=current_app.config["SQL_ECHO"], pool_size=workers + 1)
    if once:
        outcomes = run_due(engine)
        for outcome in outcomes:
            suffix = f": {outcome.error}" if outcome.error else ""
            click.echo(f"outbox {outcome.row_id} attempt {outcome.attempt} "
                       f"{outcome.state}{suffix}")
        fired = timers.run_due(engine, lease=settings.lease, max_attempts=settings.max_attempts,
                               batch=settings.batch)
        for fire in fired:
            suffix = f": {fire.error}" if fire.error else ""
            click.echo(f"timer {fire.timer_id} attempt {fire.attempt} {fire.state}{suffix}")
        told = plugin_events.deliver_due(engine, plugin_manager(),
                                         timeout=settings.plugin_timeout)
        for delivery in told:
            for plugin, error in delivery.outcomes:
                click.echo(f"event {delivery.row_id} ({delivery.kind}) to {plugin}: "
                           f"{error or 'ok'}")
        sent = notify_delivery.deliver_due(engine, channels_of(), settings.notify)
        for note in sent:
            suffix = f": {note.error}" if note.error else ""
            click.echo(f"notification {note.row_id} ({note.channel}) attempt {note.attempt} "
                       f"{note.state}{suffix}")
        click.echo(f"{len(outcomes)} service call(s) handled.")
        click.echo(f"{len(fired)} timer(s) handled.")
        click.echo(f"{len(told)} application event(s) told to plugins.")
        click.echo(f"{len(sent)} notification(s) handled.")
        sealing = decision_sealing()
        if sealing is not None:
            made = decisions.seal_due(engine, *sealing)
            for job in made:
                suffix = f": {job.error}" if job.error else ""
                click.echo(f"decision {job.job_id} ({job.kind}) attempt {job.attempt} "
                           f"{job.state}{suffix}")
            click.echo(f"{len(made)} decision document(s) handled.")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("huey").setLevel(logging.WARNING)  # not a line per job every second
    consumer = queue.consumer(queue.build(engine, settings, plugins=plugin_manager(),
                                          channels=channels_of(), sealing=decision_sealing()),
                              workers=workers, worker_type=worker_type)
    click.echo(f"Worker on {settings.url.split('@')[-1]}: {workers} {worker_type}(s); "
               "Ctrl+C stops it after the jobs in hand")
    consumer.run()


# --- tongban points: evaluate a rule set from the shell, list the rule sets -------------------
# Like `tongban calendar`: the published version when the database has it, else the file
# (stderr says which). Bad input is one line on stderr and exit status 2.

@main.group("points")
def points_group() -> None:
    """Points rule sets (scorecards and gradings): evaluate answers, list the rule sets."""


def load_rule_set(rule_set_id: str) -> RuleSet:
    """The latest published version when the database has it, else the file; says which."""
    from .points import RulesError, published_rule_sets, rules_for
    from .points.files import file_rules

    with _database() as session:
        if session is not None and rule_set_id in {r.id for r in published_rule_sets(session)}:
            rule_set = rules_for(session, rule_set_id)
            click.echo(f"rule set {rule_set_id} version {rule_set.version} from the database",
                       err=True)
            return rule_set
        where = "not initialised" if session is None else f"without a published {rule_set_id}"
    try:
        rule_set = file_rules(rule_set_id)
    except LookupError as exc:
        fail(str(exc).strip("'\""))
    except RulesError as exc:
        fail(f"rule set {rule_set_id} has problems: {exc.problems[0]}")
    click.echo(f"rule set {rule_set_id} from its file (database {where})", err=True)
    return rule_set


@points_group.command("eval")
@click.argument("rule_set_id")
@click.option("--inputs", "inputs_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The answers as an application of the service stores them (JSON)")
@click.option("--as-of", "as_of", help="The reference day (ages, look-back windows); default today")
def points_eval(rule_set_id: str, inputs_file: Path, as_of: str | None) -> None:
    """Evaluate RULE_SET_ID on the answers in FILE.json; print the result as JSON."""
    import json

    from .points import BadInput, MissingInput, evaluate

    day = parse_day(as_of, "--as-of") if as_of is not None \
        else local_day(datetime.now(TZ))
    try:
        answers = json.loads(inputs_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{inputs_file}: no such file")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{inputs_file} is not JSON: {exc}")
    if not isinstance(answers, dict):
        fail(f"{inputs_file}: expected a JSON object (the answers), found {type(answers).__name__}")
    rule_set = load_rule_set(rule_set_id)
    try:
        evaluation = evaluate(rule_set, answers, day)
    except (MissingInput, BadInput) as exc:
        fail(str(exc))
    click.echo(json.dumps(evaluation.to_json(), ensure_ascii=False, indent=2))


@points_group.command("list")
def points_list() -> None:
    """The rule sets: id, versions, name."""
    from .points import RulesError, published_rule_sets
    from .points.files import file_rule_set_ids, file_rules

    with _database() as session:
        published = published_rule_sets(session) if session is not None else []
    if published:
        click.echo("published rule sets (database):", err=True)
        for entry in published:
            versions = ",".join(f"v{v}" for v in entry.versions)
            click.echo(f"{entry.id}\t{versions}\t{entry.name.get('zh', '')}\t"
                       f"{entry.name.get('en', '')}")
        return
    click.echo("rule set files (no rule set published in the database):", err=True)
    for rule_set_id in file_rule_set_ids():
        try:
            rule_set = file_rules(rule_set_id)
        except RulesError as exc:
            click.echo(f"{rule_set_id}: {exc.problems[0]}", err=True)
            continue
        click.echo(f"{rule_set.id}\tfile\t{rule_set.name.get('zh', '')}\t"
                   f"{rule_set.name.get('en', '')}")


def _attach_simulation() -> None:
    from .points.commands import add_commands

    add_commands(points_group, command_session)


_attach_simulation()


@main.group("dashboards")
def dashboards_group() -> None:
    """The administrators' dashboards: a generated history to show them on."""


def _attach_dashboards() -> None:
    from .dashboards.commands import add_commands

    add_commands(dashboards_group, command_session)


_attach_dashboards()


@main.group("ratings")
def ratings_group() -> None:
    """Service ratings (好差评): made-up ratings for a demo, the default ratings now."""


def _attach_ratings() -> None:
    from .ratings import Policy
    from .ratings.commands import add_commands

    add_commands(ratings_group, command_session,
                 lambda: Policy.from_config(current_app.config))


_attach_ratings()


# --- tongban plugins: what is installed, what each implements, how each is doing ------------

@main.command("plugins")
@click.option("--live", is_flag=True, help="Also ask each connector opened by this process.")
@with_appcontext
def plugins_command(live: bool) -> None:
    """List the plugins: name, version, where from, the hooks each implements and its health
    (each plugin's health check with the PLUGIN_TIMEOUT_SECONDS time limit, and for connector
    plugins each service connector's state, as `tongban connectors health` reports it). Exit
    status 1 when a plugin or a connector is down."""
    from .connectors import health_by_plugin, registry
    from .extend import health
    from .extend.manager import plugin_manager

    session: Session | None = None
    try:  # the recorded failures, when the database is there and migrated
        if inspect(current_app.extensions["tongban.engine"]).has_table("plugin_health"):
            session = command_session()
    except SQLAlchemyError:
        session = None
    connectors = {} if session is None else health_by_plugin(
        session, plugin_manager(), registry(current_app), live=live)
    statuses = health.check(plugin_manager(), current_app.config,
                            current_app.config["PLUGIN_TIMEOUT_SECONDS"], session,
                            connectors=connectors)
    if not statuses:
        click.echo("No plugins are installed.")
    for status in statuses:
        click.echo(f"{status.name} {status.version} ({status.origin}) {status.location}")
        click.echo(f"  hooks: {', '.join(status.hooks) or 'none'}")
        report = status.report
        detail = f": {report.detail}" if report is not None and report.detail else ""
        click.echo(f"  health: {status.state}{detail}")
        for failure in status.failures:
            when = failure.at.isoformat(timespec="seconds") if failure.at else ""
            click.echo(f"  failing: {failure.hook} ({failure.failures}x, last {when}): "
                       f"{failure.error}")
        for found in status.connectors:
            click.echo(f"  connector {_connector_line(found)}")
    orphans = connectors.get("", [])
    if orphans:
        click.echo("Connectors whose type no installed plugin offers:")
    for found in orphans:
        click.echo(f"  connector {_connector_line(found)}")
    if any(status.state == "down" for status in statuses) or any(
            found.report.state == "down" for found in orphans):
        sys.exit(1)
