"""The `tongban` command line: one group per concern (db, defs, audit, users, sessions, demo)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TextIO

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlmodel import Session

from . import create_app, db


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
    from .definitions import load_directory

    root = path or PROJECT_ROOT
    result = load_directory(root)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) found; fix them before publishing.", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(result.services)} service(s) and {len(result.forms)} form(s) in {root}.")


def publish_directory(root: Path, author: str, comment: str) -> int:
    """Publish all definitions under root in one transaction; return the number of new versions."""
    from .definitions import load_directory, publish

    result = load_directory(root)
    if result.problems:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(result.problems)} problem(s) found; nothing was published.", err=True)
        sys.exit(1)
    with db.unit_of_work(command_session()) as tx:
        outcome = publish(tx, result, author=author, comment=comment)
    for version in outcome.created:
        click.echo(f"published {version.kind} {version.code} version {version.version}")
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
    """Give an account a new password and sign it out everywhere."""
    from .accounts import set_password

    try:
        with db.unit_of_work(command_session()) as tx:
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

    from .workflow import queue, timers
    from .workflow.worker import run_due

    engine = current_app.extensions["tongban.engine"]
    settings = queue.QueueSettings.from_config(current_app.config, workers=workers)
    if once:
        outcomes = run_due(engine)
        for outcome in outcomes:
            suffix = f": {outcome.error}" if outcome.error else ""
            click.echo(f"outbox {outcome.row_id} attempt {outcome.attempt} "
                       f"{outcome.state}{suffix}")
        fired = timers.run_due(engine, lease=settings.lease, max_attempts=settings.max_attempts)
        for fire in fired:
            suffix = f": {fire.error}" if fire.error else ""
            click.echo(f"timer {fire.timer_id} attempt {fire.attempt} {fire.state}{suffix}")
        click.echo(f"{len(outcomes)} service call(s) handled.")
        click.echo(f"{len(fired)} timer(s) handled.")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("huey").setLevel(logging.WARNING)  # not a line per job every second
    consumer = queue.consumer(queue.build(engine, settings), workers=workers,
                              worker_type=worker_type)
    click.echo(f"Worker on {settings.url.split('@')[-1]}: {workers} {worker_type}(s); "
               "Ctrl+C stops it after the jobs in hand")
    consumer.run()
