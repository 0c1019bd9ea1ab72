"""Who acts on a node: the ``who`` forms of a flow resolved against a Directory.

A role within a department (fixed, the applicant's district from a region answer, or a
department named in a form field), a named user or users, or a person chosen from an allowed
set by the applicant (a form answer) or by the previous approver (given when they approve).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .definition import Node
    from .engine import Directory, State


@dataclass
class Resolved:
    """People for a node: ``users`` (one task each), or a candidate ``group`` (role,
    department) for a single-mode role; ``department`` is the one named (for the department
    admin fallback); ``problem`` says why nobody was found."""

    users: list[int] = field(default_factory=list)
    group: tuple[str, str] | None = None
    department: str | None = None
    problem: str | None = None

    @property
    def empty(self) -> bool:
        return self.group is None and not self.users


def answer_at(answers: Any, path: str) -> Any:
    """The answer at a dotted path (``address.region``, ``members.0.name``), or None."""
    value = answers
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def department_of(spec: Any, answers: Any, directory: Directory) -> tuple[str | None, str | None]:
    """The department a ``who.department`` names, and the problem when it names none."""
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, Mapping) and "district_of" in spec:
        region = answer_at(answers, str(spec["district_of"]))
        if isinstance(region, Mapping):  # a picker may answer {province, city, district}
            region = region.get("district") or region.get("code")
        if not isinstance(region, str | int) or len(str(region)) < 6:
            return None, f"no district answered at {spec['district_of']}"
        found = directory.department_for_region(str(region)[:6], str(spec.get("under", "")))
        if found is None:
            return None, f"no department under {spec.get('under')} serves district {str(region)[:6]}"
        return found, None
    if isinstance(spec, Mapping) and "field" in spec:
        value = answer_at(answers, str(spec["field"]))
        if not isinstance(value, str) or not value:
            return None, f"no department answered at {spec['field']}"
        return value, None
    return None, "no department named"


def allowed_set(spec: Mapping[str, Any], answers: Any, directory: Directory) -> list[int]:
    """The people a ``from:`` block allows (role within a department)."""
    department, _problem = department_of(spec.get("department"), answers, directory)
    if department is None or "role" not in spec:
        return []
    return directory.users_with(str(spec["role"]), frozenset({department}))


def _user_ids(values: Iterable[Any], directory: Directory) -> list[int]:
    found: list[int] = []
    for value in values:
        user_id = value if isinstance(value, int) and not isinstance(value, bool) \
            else directory.user_id(str(value))
        if user_id is not None and user_id not in found:
            found.append(user_id)
    return found


def excluded(state: State, node: Node) -> set[int]:
    """People who may never act on ``node``: the applicant (four-eyes) and whoever acted on a
    node it is exclusive with."""
    out: set[int] = set()
    if state.applicant_id is not None:
        out.add(state.applicant_id)
    if node.exclusive_with:
        for entry in state.instance.vars.get("trail", ()):
            if entry.get("node") in node.exclusive_with:
                out.update(entry.get("actors", ()))
    return out


def resolve(state: State, node: Node) -> Resolved:
    """Who acts on ``node`` now, with the people who may not act on it taken out."""
    who = node.who or {}
    directory = state.directory
    answers = state.answers
    banned = excluded(state, node)
    if "user" in who or "users" in who:
        names = [who["user"]] if "user" in who else list(who["users"])
        users = [user for user in _user_ids(names, directory) if user not in banned]
        return Resolved(users=users, problem=None if users else f"no active user among {names}")
    if "chosen_by" in who:
        allowed = allowed_set(who.get("from") or {}, answers, directory)
        department, _ = department_of((who.get("from") or {}).get("department"), answers, directory)
        if who["chosen_by"] == "applicant":
            raw = answer_at(answers, str(who.get("field", "")))
            picked = _user_ids(raw if isinstance(raw, list) else [raw] if raw else [], directory)
        else:
            picked = list(state.instance.vars.get("chosen", {}).get(node.id, []))
        users = [user for user in picked if user in allowed and user not in banned]
        problem = None if users else (
            "nobody was chosen" if not picked else "the chosen person is not in the allowed set")
        return Resolved(users=users, department=department, problem=problem)
    role = str(who.get("role", ""))
    spec = who.get("department")
    department, problem = department_of(spec, answers, directory)
    if department is None:
        # No district answered: the department it is looked up under stands for the
        # ``when_empty: department_admin`` fallback (its administrators take the task).
        under = spec.get("under") if isinstance(spec, Mapping) and "district_of" in spec \
            else None
        return Resolved(department=str(under) if under else None, problem=problem)
    members = [user for user in directory.users_with(role, frozenset({department}))
               if user not in banned]
    if not members:
        return Resolved(department=department,
                        problem=f"nobody holds {role} in {department}")
    if node.mode == "single" or (node.mode == "sign" and node.distinct):
        return Resolved(group=(role, department), department=department, users=members)
    return Resolved(users=members, department=department)


def in_group(directory: Directory, user_id: int, role: str, department: str) -> bool:
    """Whether ``user_id`` holds ``role`` covering ``department`` (sub-departments covered)."""
    tree = directory.tree()
    return any(held == role and (dept is None or department in tree.under(dept))
               for held, dept in directory.memberships(user_id))
