"""The audit trail is a keyed hash chain: editing, deleting or re-hashing rows without the key is
detected, and an exported checkpoint catches a chain cut short or rewritten even with the key."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tongban import audit, create_app
from tongban.cli import main
from tongban.config import ConfigError
from tongban.models import AuditEvent, AuditHead


def _events(session, count: int = 3) -> None:  # type: ignore[no-untyped-def]
    for number in range(count):
        audit.record(session, action="test.event", object_type="thing", object_id=number,
                     actor_name="tester", after={"n": number, "名": "值"})
    session.commit()


def _rehash(session, digest: Callable[[AuditEvent], str]) -> None:  # type: ignore[no-untyped-def]
    """What someone with write access to the database does after editing a row: recompute every
    row's hash and link in order, and move the head to match."""
    prev_hash, last_seq = "", 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        event.prev_hash = prev_hash
        event.row_hash = prev_hash = digest(event)
        last_seq = event.seq
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_seq=last_seq, last_hash=prev_hash))
    session.commit()


def _without_key(event: AuditEvent) -> str:
    return audit._unkeyed_digest(event)


def _with_key(app) -> Callable[[AuditEvent], str]:  # type: ignore[no-untyped-def]
    key = (Path(app.instance_path) / audit.KEY_FILE).read_text("utf-8").strip().encode()
    return lambda event: audit._keyed_digest(event, key)


def test_an_untouched_chain_verifies(session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    assert audit.verify(session).ok
    result = cli("audit", "verify")
    assert result.exit_code == 0
    assert "Audit chain intact: 3 event(s) checked." in result.output


def test_the_audit_key_is_made_once_in_the_instance_folder_readable_by_its_owner_only(
        app, session) -> None:  # type: ignore[no-untyped-def]
    key_file = Path(app.instance_path) / audit.KEY_FILE
    assert not key_file.exists()
    _events(session, 1)
    first = key_file.read_text("utf-8")
    assert len(first) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    _events(session, 1)
    assert key_file.read_text("utf-8") == first


def test_a_row_edited_in_the_database_is_reported(session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    session.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 2"))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (2, "its content was changed after it was written")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert ("Audit chain BROKEN at event 2: its content was changed after it was written "
            "(1 event(s) before it are intact).") in result.output


def test_a_row_rewritten_with_its_chain_recomputed_without_the_key_is_reported(
        session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    session.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 2"))
    session.commit()
    first_hash = session.scalar(select(AuditEvent.row_hash).where(AuditEvent.seq == 1))
    # Row 1 stays as written (its key is unknown); rows 2 and 3 are re-hashed the old way.
    prev_hash = first_hash
    for event in session.scalars(select(AuditEvent).where(AuditEvent.seq > 1)
                                 .order_by(AuditEvent.seq)):
        event.prev_hash = prev_hash
        event.row_hash = prev_hash = _without_key(event)
    session.execute(update(AuditHead).values(last_hash=prev_hash))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (
        2, "it was rewritten by someone without the audit key")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "Audit chain BROKEN at event 2" in result.output


def test_a_chain_rewritten_whole_without_the_key_is_not_reported_intact(
        session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    session.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 2"))
    session.commit()
    _rehash(session, _without_key)
    report = audit.verify(session)
    assert (report.ok, report.broken_seq, report.unkeyed) == (False, None, 3)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "Audit chain NOT KEYED: its first 3 of 3 event(s) carry no HMAC" in result.output


def test_a_chain_rewritten_with_a_guessed_key_is_reported(session) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    guessed = b"0" * 64
    _rehash(session, lambda event: audit._keyed_digest(event, guessed))
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (
        1, "its content was changed after it was written, "
           "or the audit key is not the one the chain was written with")


def test_a_deleted_row_is_reported(session) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    session.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (2, "row 2 is missing")


def test_deleting_the_last_rows_is_reported(session) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    session.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (3, "rows at the end of the chain are missing")


def test_an_event_is_part_of_the_callers_transaction(session) -> None:  # type: ignore[no-untyped-def]
    audit.record(session, action="test.event", object_type="thing", object_id=1)
    session.rollback()
    assert audit.verify(session).checked == 0


def test_verifying_without_the_key_is_a_clear_error(app_config, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    elsewhere = create_app(app_config, instance_path=tmp_path / "another-instance")
    try:
        result = elsewhere.test_cli_runner().invoke(main, args=["audit", "verify"])
    finally:
        elsewhere.extensions["tongban.engine"].dispose()
    assert result.exit_code == 1
    assert ("Error: No audit key: set TONGBAN_AUDIT_KEY or restore the key file "
            f"{tmp_path / 'another-instance' / 'audit_key'}.") in result.output
    assert not (tmp_path / "another-instance" / "audit_key").exists()


def test_the_key_can_come_from_the_environment_and_a_different_one_is_reported(
        app_config, session, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    monkeypatch.setenv("TONGBAN_AUDIT_KEY", "f" * 64)
    other = create_app(app_config, instance_path=tmp_path / "another-instance")
    try:
        result = other.test_cli_runner().invoke(main, args=["audit", "verify"])
    finally:
        other.extensions["tongban.engine"].dispose()
    assert result.exit_code == 1
    assert ("Audit chain BROKEN at event 1: its content was changed after it was written, "
            "or the audit key is not the one the chain was written with") in result.output


def test_a_short_audit_key_setting_fails_at_start_naming_the_setting(app_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="Setting AUDIT_KEY .* at least 32 characters"):
        create_app({**app_config, "AUDIT_KEY": "short"}, instance_path=tmp_path / "i2")


def _checkpoint(cli, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "checkpoint.json"
    result = cli("audit", "checkpoint", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_a_checkpoint_names_the_head_and_later_events_keep_it_valid(session, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    path = _checkpoint(cli, tmp_path)
    written = json.loads(path.read_text("utf-8"))
    head = session.scalars(select(AuditEvent).where(AuditEvent.seq == 3)).one()
    assert (written["seq"], written["hash"]) == (3, head.row_hash)
    _events(session, 2)
    result = cli("audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 0, result.output
    assert "Audit chain intact: 5 event(s) checked. It holds the checkpoint's event 3." \
        in result.output


def test_a_checkpoint_can_be_written_to_standard_output(session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session, 1)
    result = cli("audit", "checkpoint")
    assert result.exit_code == 0
    assert json.loads(result.output)["seq"] == 1


def test_the_checkpoint_catches_a_chain_cut_short_and_re_signed(app, session, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    path = _checkpoint(cli, tmp_path)
    session.execute(text("DELETE FROM audit_event WHERE seq >= 2"))
    session.commit()
    _rehash(session, _with_key(app))
    assert cli("audit", "verify").exit_code == 0  # on its own the shorter chain looks whole
    result = cli("audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 1
    assert ("Audit chain BROKEN at event 2: the chain ends before event 3 of the checkpoint "
            "taken at") in result.output
    assert "events were removed" in result.output


def test_the_checkpoint_catches_a_chain_rewritten_with_the_key(app, session, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    path = _checkpoint(cli, tmp_path)
    session.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 1"))
    session.commit()
    _rehash(session, _with_key(app))
    assert cli("audit", "verify").exit_code == 0
    result = cli("audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 1
    assert "Audit chain BROKEN at event 3: it differs from the checkpoint taken at" in result.output


def test_an_edited_checkpoint_file_is_refused(session, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    path = _checkpoint(cli, tmp_path)
    data = json.loads(path.read_text("utf-8"))
    data["seq"] = 2
    path.write_text(json.dumps(data), "utf-8")
    result = cli("audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 1
    assert "Error: the checkpoint file was changed, or made with another audit key" in result.output


def test_no_checkpoint_is_taken_of_a_broken_chain(session, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    session.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 2"))
    session.commit()
    result = cli("audit", "checkpoint", "--output", str(tmp_path / "c.json"))
    assert result.exit_code == 1
    assert "Error: Audit chain BROKEN at event 2" in result.output
    assert not (tmp_path / "c.json").exists()


def test_rekey_signs_events_written_before_the_key_once_and_records_it(session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    _rehash(session, _without_key)  # a database from before the key
    _events(session, 1)  # written after the upgrade, keyed, linked to the old rows
    assert audit.verify(session).unkeyed == 3
    result = cli("audit", "rekey", "--yes", "--actor", "ops")
    assert result.exit_code == 0, result.output
    assert "Signed 3 unkeyed event(s) with the audit key" in result.output
    session.rollback()  # end this session's read snapshot
    assert audit.verify(session).ok
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (last.seq, last.action, last.actor_name, last.before["unkeyed_events"]) == (
        5, "audit.rekey", "ops", 3)
    again = cli("audit", "rekey", "--yes")
    assert "Nothing to do: every audit event is already keyed." in again.output


def test_rekey_refuses_a_broken_chain_and_changes_nothing(session, cli) -> None:  # type: ignore[no-untyped-def]
    _events(session)
    _rehash(session, _without_key)
    session.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    session.commit()
    before = session.execute(select(AuditEvent.seq, AuditEvent.row_hash)
                             .order_by(AuditEvent.seq)).all()
    result = cli("audit", "rekey", "--yes")
    assert result.exit_code == 1
    assert "Error: Audit chain BROKEN at event 2: row 2 is missing" in result.output
    session.rollback()  # end this session's read snapshot
    assert session.execute(select(AuditEvent.seq, AuditEvent.row_hash)
                           .order_by(AuditEvent.seq)).all() == before
