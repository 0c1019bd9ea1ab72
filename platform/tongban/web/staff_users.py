"""Administrators: staff accounts (/admin/users) and the department tree (/admin/departments).

Platform administrators see everyone; a department administrator the staff of their departments.
The rules are in :mod:`tongban.staff.rules`; each view parses the form, calls one function of
:mod:`tongban.staff.directory` and renders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlmodel import col

from ..i18n import N_, current_lang
from ..models import Department, Membership, Role
from ..staff import directory
from ..staff.rules import ADMIN_ROLES, StaffRefused, admin_departments, manages
from .access import current_actor, department_tree, require_role
from .database import request_session, request_transaction

bp = Blueprint("staff", __name__, url_prefix="/admin")

ROLE_LABELS = {
    Role.CITIZEN: N_("Citizen"),
    Role.ENTERPRISE: N_("Enterprise"),
    Role.COUNTER_CLERK: N_("Counter clerk"),
    Role.REVIEWER: N_("Reviewer"),
    Role.DEPARTMENT_ADMIN: N_("Department administrator"),
    Role.PLATFORM_ADMIN: N_("Platform administrator"),
}
# What each action tells the administrator when it is done (shown after the redirect).
DONE = {
    "granted": N_("The role was granted."),
    "revoked": N_("The role was removed."),
    "deactivated": N_("The account was deactivated and all its sessions ended."),
    "reactivated": N_("The account was reactivated."),
    "two-factor-reset": N_("Two-step verification was reset: they set it up again at their "
                           "next sign-in."),
}


@dataclass(frozen=True)
class DepartmentNode:
    code: str
    name: str
    depth: int
    users: int  # users holding a role in this department itself


def who() -> directory.Who:
    return directory.Who(current_actor(), department_tree(), int(current_user.get_id()),
                         current_user.username, g.request_id)


def department_nodes(scope: frozenset[str] | None = None) -> list[DepartmentNode]:
    """The department tree in order (each department after its parent), with user counts."""
    session = request_session()
    rows = session.execute(select(col(Department.id), col(Department.code),
                                  col(Department.name_zh), col(Department.name_en),
                                  col(Department.parent_id))).all()
    counts: Counter[int] = Counter(dict(session.execute(
        select(col(Membership.department_id), func.count(func.distinct(col(Membership.user_id))))
        .where(col(Membership.department_id).is_not(None))
        .group_by(col(Membership.department_id))).all()))
    children: dict[int | None, list[tuple[int, str, str, str]]] = {}
    ids = {row.id for row in rows}
    for row in rows:
        parent = row.parent_id if row.parent_id in ids else None
        children.setdefault(parent, []).append((row.id, row.code, row.name_zh, row.name_en))
    english = current_lang() == "en"
    nodes: list[DepartmentNode] = []

    def walk(parent: int | None, depth: int) -> None:
        for dept_id, code, name_zh, name_en in sorted(children.get(parent, []),
                                                      key=lambda item: item[1]):
            if scope is None or code in scope:
                nodes.append(DepartmentNode(code, (name_en if english else name_zh) or code,
                                            depth, counts[dept_id]))
            walk(dept_id, depth + 1)

    walk(None, 0)
    return nodes


@bp.get("/departments")
@require_role(*ADMIN_ROLES)
def departments() -> str:
    return render_template("admin/departments.html", nodes=department_nodes())


@bp.get("/users")
@require_role(*ADMIN_ROLES)
def users() -> str:
    filters = {name: request.args.get(name, "").strip() for name in ("q", "department", "role")}
    if filters["role"] not in {str(role) for role in Role}:
        filters["role"] = ""
    found, total = directory.find(request_session(), who(), text=filters["q"],
                                  department=filters["department"], role=filters["role"])
    scope = admin_departments(current_actor(), department_tree())
    return render_template("admin/users.html", members=found, total=total, filters=filters,
                           limit=directory.LIST_LIMIT, roles=ROLE_LABELS,
                           departments=department_nodes(scope))


def _member(user_id: int) -> directory.StaffMember:
    try:
        return directory.member(request_session(), who(), user_id)
    except LookupError:
        abort(404)


def user_page(user_id: int, *, error: str = "", status: int = 200,
              one_time_password: str = "") -> ResponseReturnValue:
    session = request_session()
    member = _member(user_id)
    actor, tree = current_actor(), department_tree()
    scope = admin_departments(actor, tree)
    done = DONE.get(request.args.get("done", ""), "")
    return render_template(
        "admin/user.html", member=member, roles=ROLE_LABELS, error=error, done=done and _(done),
        one_time_password=one_time_password, departments=department_nodes(scope),
        grantable=[role for role in ROLE_LABELS
                   if scope is None or role not in (Role.PLATFORM_ADMIN, Role.CITIZEN,
                                                    Role.ENTERPRISE)],
        may_manage=manages(actor, tree, member.memberships),
        trail=directory.audit_trail(session, user_id), everywhere=scope is None), status


@bp.get("/users/<int:user_id>")
@require_role(*ADMIN_ROLES)
def user(user_id: int) -> ResponseReturnValue:
    return user_page(user_id)


def _act(user_id: int, action: Callable[[directory.StaffMember], object],
         done: str) -> ResponseReturnValue:
    try:
        with request_transaction():
            action(_member(user_id))
    except StaffRefused as exc:
        return user_page(user_id, error=_(exc.message, **exc.params), status=exc.status)
    return redirect(url_for("staff.user", user_id=user_id, done=done))


@bp.post("/users/<int:user_id>/grants")
@require_role(*ADMIN_ROLES)
def grant(user_id: int) -> ResponseReturnValue:
    role, department = request.form.get("role", ""), request.form.get("department", "").strip()
    return _act(user_id, lambda member: directory.grant(request_session(), who(), member, role,
                                                        department or None), "granted")


@bp.post("/users/<int:user_id>/grants/<int:grant_id>/remove")
@require_role(*ADMIN_ROLES)
def revoke(user_id: int, grant_id: int) -> ResponseReturnValue:
    return _act(user_id, lambda member: directory.revoke(request_session(), who(), member,
                                                         grant_id), "revoked")


@bp.post("/users/<int:user_id>/deactivate")
@require_role(*ADMIN_ROLES)
def deactivate(user_id: int) -> ResponseReturnValue:
    return _act(user_id, lambda member: directory.deactivate(request_session(), who(), member),
                "deactivated")


@bp.post("/users/<int:user_id>/reactivate")
@require_role(*ADMIN_ROLES)
def reactivate(user_id: int) -> ResponseReturnValue:
    return _act(user_id, lambda member: directory.reactivate(request_session(), who(), member),
                "reactivated")


@bp.post("/users/<int:user_id>/reset-two-factor")
@require_role(*ADMIN_ROLES)
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    return _act(user_id, lambda member: directory.reset_two_factor(request_session(), who(),
                                                                   member), "two-factor-reset")


@bp.post("/users/<int:user_id>/reset-password")
@require_role(*ADMIN_ROLES)
def reset_password(user_id: int) -> ResponseReturnValue:
    """Shown once, in this response (no redirect: the password is never stored in clear)."""
    try:
        with request_transaction():
            password = directory.reset_password(request_session(), who(),
                                                _member(user_id))
    except StaffRefused as exc:
        return user_page(user_id, error=_(exc.message, **exc.params), status=exc.status)
    return user_page(user_id, one_time_password=password)
