"""`tongban demo` on a database with real accounts (issue 10): refused unless --force."""

from __future__ import annotations

from sqlalchemy import func, select

from tongban.demo import DEMO_ACCOUNTS
from tongban.models import User


def _users(session) -> list[str]:  # type: ignore[no-untyped-def]
    session.commit()  # a fresh read
    return sorted(session.scalars(select(User.username)))


def test_demo_on_a_fresh_database_creates_the_demo_accounts_and_runs_again(cli, session) -> None:  # type: ignore[no-untyped-def]
    first = cli("demo")
    assert first.exit_code == 0, first.output
    assert "citizen" in _users(session)
    again = cli("demo")
    assert again.exit_code == 0, again.output
    assert session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)


def test_demo_refuses_a_database_with_other_accounts_and_changes_nothing(cli, session) -> None:  # type: ignore[no-untyped-def]
    created = cli("users", "create", "wang.li", "--name", "王丽", "--role", "reviewer",
                  "--password", "a-real-password-2026")
    assert created.exit_code == 0, created.output
    refused = cli("demo")
    assert refused.exit_code == 1
    assert "accounts other than the demo ones (wang.li)" in refused.output
    assert "--force" in refused.output
    assert _users(session) == ["wang.li"]


def test_demo_with_force_creates_the_demo_accounts_beside_others(cli, session) -> None:  # type: ignore[no-untyped-def]
    cli("users", "create", "wang.li", "--name", "王丽", "--role", "reviewer",
        "--password", "a-real-password-2026")
    forced = cli("demo", "--force")
    assert forced.exit_code == 0, forced.output
    assert {"wang.li", "citizen", "admin"} <= set(_users(session))
