"""Bulk import of staff from a CSV file, with a dry run: every row is checked before anything
is written, and one bad row stops the whole import (named, with its reason).

Columns: username, display_name, department_code, roles (several roles separated by ";").
The text is UTF-8, with or without the byte-order mark Excel writes, or GB18030 (what Excel
saves as "CSV" on a Chinese Windows).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..accounts import hash_random_secret
from ..models import Department, Membership, Role, User, saved_id
from .directory import Who, member
from .passwords import load_policy, one_time_password
from .rules import N_, StaffRefused, check_grant, manages

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
COLUMNS = ("username", "display_name", "department_code", "roles")
# Chinese headings a department may already have in its spreadsheet.
ALIASES = {"用户名": "username", "姓名": "display_name", "显示名": "display_name",
           "部门代码": "department_code", "角色": "roles"}
USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,150}")
ROLE_SEPARATORS = re.compile(r"[;；|,，\s]+")


@dataclass(frozen=True)
class RowProblem:
    row: int  # the line in the file: the heading is row 1
    message: str
    params: dict[str, Any]


@dataclass
class PlannedRow:
    row: int
    username: str
    display_name: str
    department: str | None
    roles: list[Role]
    new: bool  # a new account, else an existing one
    add_roles: list[Role] = field(default_factory=list)
    rename_from: str | None = None  # the display name it replaces

    @property
    def changes(self) -> bool:
        return self.new or bool(self.add_roles) or self.rename_from is not None


@dataclass
class Plan:
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a BOM), else GB18030."""
    if len(data) > MAX_BYTES:
        raise StaffRefused(N_("The file is larger than %(size)s MB: split it and import the "
                              "parts one by one."), size=MAX_BYTES // (1024 * 1024))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise StaffRefused(N_("The file is not text in UTF-8 or GB18030: save it from your "
                              "spreadsheet as CSV and try again.")) from None


def plan(session: Session, who: Who, text: str) -> Plan:
    """What importing ``text`` would do, and every problem with it (nothing is written)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [row for row in reader]
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise StaffRefused(N_("The file is empty."))
    heading = [ALIASES.get(cell.strip(), cell.strip().lower()) for cell in rows[0]]
    if any(column not in heading for column in COLUMNS):
        raise StaffRefused(N_("The first row must name the columns: %(columns)s."),
                           columns=", ".join(COLUMNS))
    if len(rows) - 1 > MAX_ROWS:
        raise StaffRefused(N_("The file has more than %(count)s rows: split it and import the "
                              "parts one by one."), count=MAX_ROWS)
    where = {column: heading.index(column) for column in COLUMNS}
    departments = dict(session.execute(select(col(Department.code), col(Department.id))).all())
    result = Plan()
    seen: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {column: (cells[i].strip() if i < len(cells) else "")
                  for column, i in where.items()}
        try:
            result.rows.append(_plan_row(session, who, number, values, departments, seen))
        except StaffRefused as exc:
            result.problems.append(RowProblem(number, exc.message, exc.params))
    if not result.rows and not result.problems:
        raise StaffRefused(N_("The file has no rows below its headings."))
    return result


def _plan_row(session: Session, who: Who, number: int, values: dict[str, str],
              departments: dict[str, int], seen: dict[str, int]) -> PlannedRow:
    username, display_name = values["username"], values["display_name"]
    code = values["department_code"] or None
    if not username:
        raise StaffRefused(N_("Enter a user name."))
    if not USERNAME.fullmatch(username):
        raise StaffRefused(N_("The user name %(username)s may have only letters, digits and "
                              ". _ @ - (at most 150)."), username=username)
    if username.lower() in seen:
        raise StaffRefused(N_("%(username)s is also on row %(other)s."), username=username,
                           other=seen[username.lower()])
    seen[username.lower()] = number
    if not display_name:
        raise StaffRefused(N_("Enter a display name."))
    if len(display_name) > 200:
        raise StaffRefused(N_("The display name is longer than 200 characters."))
    if code is not None and code not in departments:
        raise StaffRefused(N_("There is no department with the code %(code)s."), code=code)
    roles: list[Role] = []
    for name in ROLE_SEPARATORS.split(values["roles"]):
        if not name:
            continue
        try:
            roles.append(Role(name))
        except ValueError:
            raise StaffRefused(N_("%(role)s is not a role; use %(roles)s."), role=name,
                               roles=", ".join(str(role) for role in Role)) from None
    if not roles:
        raise StaffRefused(N_("Enter at least one role."))
    for role in roles:
        check_grant(who.actor, who.tree, role, code)
    user = session.scalars(select(User).where(col(User.username) == username)).first()
    if user is None:
        return PlannedRow(number, username, display_name, code, roles, new=True,
                          add_roles=list(dict.fromkeys(roles)))
    try:
        existing = member(session, who, saved_id(user))
        held = existing.memberships
    except LookupError:  # not one the administrator sees: any change must stay in their reach
        existing, held = None, set()
    planned = PlannedRow(number, username, display_name, code, roles, new=False,
                         add_roles=[r for r in dict.fromkeys(roles) if (str(r), code) not in held])
    if user.display_name != display_name:
        if existing is None or not manages(who.actor, who.tree, held):
            raise StaffRefused(N_("%(username)s already exists and also works outside your "
                                  "departments: ask a platform administrator to rename them."),
                               username=username)
        planned.rename_from = user.display_name
    return planned


def apply(session: Session, who: Who, text: str) -> list[tuple[PlannedRow, str]]:
    """Import ``text``: plan it again (the database may have changed since the dry run) and
    write it only when no row has a problem. Returns the new accounts' one-time passwords."""
    planned = plan(session, who, text)
    if planned.problems:
        raise ImportRefused(planned)
    departments = dict(session.execute(select(col(Department.code), col(Department.id))).all())
    policy = load_policy(session)
    passwords: list[tuple[PlannedRow, str]] = []
    for row in planned.rows:
        if not row.changes:
            continue
        user = session.scalars(select(User).where(col(User.username) == row.username)).first()
        if user is None:
            password = one_time_password(policy)
            user = User(username=row.username, display_name=row.display_name,
                        password_hash=hash_random_secret(password), must_change_password=True)
            session.add(user)
            session.flush()
            passwords.append((row, password))
        elif row.rename_from is not None:
            user.display_name = row.display_name
        for role in row.add_roles:
            session.add(Membership(user_id=saved_id(user), role=str(role),
                                   department_id=departments[row.department]
                                   if row.department else None))
        audit.record(session, action="user.import", object_type="user", object_id=user.id,
                     actor_id=who.user_id, actor_name=who.name, request_id=who.request_id,
                     after={"new": row.new, "display_name": row.display_name,
                            "roles": [f"{r}@{row.department or '*'}" for r in row.add_roles]})
    return passwords


class ImportRefused(Exception):
    """Rows with problems: nothing was imported."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        super().__init__(f"{len(plan.problems)} row(s) with problems")
