"""The audit trail is a hash chain; editing or deleting a row is detected."""

from __future__ import annotations

from sqlalchemy import text

from tongban import audit


def _three_events(session) -> None:  # type: ignore[no-untyped-def]
    for number in range(3):
        audit.record(session, action="test.event", object_type="thing", object_id=number,
                     actor_name="tester", after={"n": number, "名": "值"})
    session.commit()


def test_an_untouched_chain_verifies(session, cli) -> None:  # type: ignore[no-untyped-def]
    _three_events(session)
    assert audit.verify(session).ok
    result = cli("audit", "verify")
    assert result.exit_code == 0
    assert "Audit chain intact: 3 event(s) checked." in result.output


def test_a_row_edited_in_the_database_is_reported(session, cli) -> None:  # type: ignore[no-untyped-def]
    _three_events(session)
    session.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 2"))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (2, "its content was changed after it was written")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert ("Audit chain BROKEN at event 2: its content was changed after it was written "
            "(1 event(s) before it are intact).") in result.output


def test_a_deleted_row_is_reported(session) -> None:  # type: ignore[no-untyped-def]
    _three_events(session)
    session.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (2, "row 2 is missing")


def test_deleting_the_last_rows_is_reported(session) -> None:  # type: ignore[no-untyped-def]
    _three_events(session)
    session.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    session.commit()
    report = audit.verify(session)
    assert (report.broken_seq, report.reason) == (3, "rows at the end of the chain are missing")


def test_an_event_is_part_of_the_callers_transaction(session) -> None:  # type: ignore[no-untyped-def]
    audit.record(session, action="test.event", object_type="thing", object_id=1)
    session.rollback()
    assert audit.verify(session).checked == 0
