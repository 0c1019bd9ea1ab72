"""Migration 0013_staff goes down to the revision before it and up again, keeping users."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from tongban.migrate import alembic_config, upgrade


def test_the_staff_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    from alembic import command

    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO user_account (username, display_name, "
                                "password_hash, is_active, failed_logins, created_at, "
                                "must_change_password, notify_email, notify_sms) VALUES "
                                "('kept', '留', 'x', true, 0, CURRENT_TIMESTAMP, true, true, "
                                "true)"))
    command.downgrade(alembic_config(database_url), "0011_ledger")
    tables = inspect(engine).get_table_names()
    assert "security_setting" not in tables and "recovery_code" not in tables
    assert "totp_secret" not in {c["name"] for c in inspect(engine).get_columns("user_account")}
    upgrade(database_url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT username, must_change_password FROM user_account"
                                      " WHERE username = 'kept'")).one()
    assert row.username == "kept" and not row.must_change_password  # the new column's default
    engine.dispose()
