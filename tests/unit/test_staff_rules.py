"""Issue 14 item 8: who may administer whom, what the password policy asks, TOTP steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tongban.models import Role, SecuritySetting, User
from tongban.policy import Actor, DepartmentTree
from tongban.staff import totp
from tongban.staff.passwords import change_due, classes_in, one_time_password
from tongban.staff.rules import StaffRefused, check_grant, manages, sees

TREE = DepartmentTree.from_parents({"city": None, "rsj": "city", "rsj-xuhui": "rsj",
                                    "gaj": "city"})
PLATFORM = Actor.of(1, [(Role.PLATFORM_ADMIN, None)])
RSJ_ADMIN = Actor.of(2, [(Role.DEPARTMENT_ADMIN, "rsj")])


@pytest.mark.parametrize(("actor", "role", "department", "allowed"), [
    (PLATFORM, Role.PLATFORM_ADMIN, None, True),
    (PLATFORM, Role.REVIEWER, "gaj", True),
    (RSJ_ADMIN, Role.REVIEWER, "rsj-xuhui", True),  # a sub-department
    (RSJ_ADMIN, Role.DEPARTMENT_ADMIN, "rsj", True),
    (RSJ_ADMIN, Role.REVIEWER, "gaj", False),
    (RSJ_ADMIN, Role.REVIEWER, "city", False),  # the department above is not theirs
    (RSJ_ADMIN, Role.PLATFORM_ADMIN, "rsj", False),
    (RSJ_ADMIN, Role.COUNTER_CLERK, None, False),
])
def test_who_may_grant_what_where(actor, role, department, allowed) -> None:  # type: ignore[no-untyped-def]
    if allowed:
        check_grant(actor, TREE, role, department)
    else:
        with pytest.raises(StaffRefused) as refused:
            check_grant(actor, TREE, role, department)
        assert refused.value.status == 403


@pytest.mark.parametrize(("memberships", "visible", "managed"), [
    ({("reviewer", "rsj-xuhui")}, True, True),
    ({("reviewer", "rsj-xuhui"), ("reviewer", "gaj")}, True, False),
    ({("reviewer", "gaj")}, False, False),
    ({("counter_clerk", None)}, False, False),
    ({("department_admin", "rsj"), ("platform_admin", "rsj")}, True, False),
    (set(), False, False),
])
def test_a_department_admin_sees_and_manages_only_their_own(memberships, visible,  # type: ignore[no-untyped-def]
                                                           managed) -> None:
    assert sees(RSJ_ADMIN, TREE, memberships) is visible
    assert manages(RSJ_ADMIN, TREE, memberships) is managed
    assert sees(PLATFORM, TREE, memberships) and manages(PLATFORM, TREE, memberships)


@pytest.mark.parametrize(("password", "classes"), [
    ("abc", 1), ("abcDEF", 2), ("abc123", 2), ("aB3", 3), ("aB3!", 4), ("密码abc", 2),
])
def test_character_classes_are_counted(password: str, classes: int) -> None:
    assert classes_in(password) == classes


@pytest.mark.parametrize("min_length", [8, 14, 20, 64])
def test_one_time_passwords_meet_any_policy(min_length: int) -> None:
    policy = SecuritySetting(min_length=min_length, min_classes=4)
    made = {one_time_password(policy) for _ in range(50)}
    assert len(made) == 50
    assert all(len(p) == max(14, min_length) and classes_in(p) == 4 for p in made)


def test_rotation_is_due_only_when_switched_on_and_old_enough() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    user = User(username="u", display_name="u", password_hash="x",
                created_at=now - timedelta(days=200), password_changed_at=now - timedelta(days=30))
    assert not change_due(SecuritySetting(rotation_enabled=False, rotation_days=10), user, now)
    assert change_due(SecuritySetting(rotation_enabled=True, rotation_days=30), user, now)
    assert not change_due(SecuritySetting(rotation_enabled=True, rotation_days=31), user, now)
    user.must_change_password = True
    assert change_due(SecuritySetting(), user, now)


def test_a_code_is_good_one_step_either_side_and_never_twice() -> None:
    secret = pyotp.random_base32()
    now = datetime(2026, 12, 3, 2, 0, 10, tzinfo=UTC)
    step = int(now.timestamp()) // 30
    code_at = pyotp.TOTP(secret).at
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, code_at((step + offset) * 30), now, None) == step + offset
    assert totp.matching_step(secret, code_at((step + 2) * 30), now, None) is None
    assert totp.matching_step(secret, code_at(step * 30), now, step) is None  # replayed
    assert totp.matching_step(secret, " " + code_at(step * 30)[:3] + " " + code_at(step * 30)[3:],
                               now, None) == step  # spaces as apps show them
    assert totp.matching_step(secret, "abcdef", now, None) is None
