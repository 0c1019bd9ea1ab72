"""The access policy as a table: every persona x every object x every action it applies to.

Each row names who may; every other persona must be refused. Departments: sh-rsj with its
sub-department sh-rsj-points, and sh-gaj as another department.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tongban import PROJECT_ROOT
from tongban.models import Application, DefinitionVersion, Department, Draft, Role, StoredUpload
from tongban.policy import (
    ANONYMOUS,
    REVIEW_LIST,
    Action,
    Actor,
    DepartmentTree,
    FileTarget,
    ServiceTarget,
    departments,
    holds,
    permits,
    review_filter,
)

TREE = DepartmentTree.from_parents({"sh-rsj": None, "sh-rsj-points": "sh-rsj", "sh-gaj": None,
                                    "sh-cgj": None})

CITIZEN_ID, CLERK_ID = 1, 3
PERSONAS: dict[str, Actor] = {
    "citizen": Actor.of(CITIZEN_ID, [(Role.CITIZEN, None)]),
    "another citizen": Actor.of(9, [(Role.CITIZEN, None)]),
    "enterprise": Actor.of(2, [(Role.ENTERPRISE, None)]),
    "counter clerk": Actor.of(CLERK_ID, [(Role.COUNTER_CLERK, None)]),
    "counter clerk of sh-gaj": Actor.of(11, [(Role.COUNTER_CLERK, "sh-gaj")]),
    "reviewer of sh-rsj": Actor.of(4, [(Role.REVIEWER, "sh-rsj")]),
    "reviewer of sh-rsj-points": Actor.of(5, [(Role.REVIEWER, "sh-rsj-points")]),
    "reviewer of sh-gaj": Actor.of(6, [(Role.REVIEWER, "sh-gaj")]),
    "department admin of sh-rsj": Actor.of(7, [(Role.DEPARTMENT_ADMIN, "sh-rsj")]),
    "department admin of sh-gaj": Actor.of(12, [(Role.DEPARTMENT_ADMIN, "sh-gaj")]),
    "platform admin": Actor.of(8, [(Role.PLATFORM_ADMIN, None)]),
    "outsider": Actor.of(10),
    "anonymous": ANONYMOUS,
    "anonymous applicant": Actor.of(None, draft_tokens=["anon-token"], references=["R-ANON"]),
}


def _draft(token: str, user_id: int | None = None, clerk_id: int | None = None) -> Draft:
    return Draft(token=token, user_id=user_id, clerk_id=clerk_id, service_code="residence-points",
                 service_version_id=1, form_version_id=2, submit_key=f"key-{token}",
                 expires_at=datetime(2030, 1, 1, tzinfo=UTC))


def _application(reference: str, department: str, submitter_id: int | None = CITIZEN_ID,
                 clerk_id: int | None = None) -> Application:
    return Application(reference=reference, idempotency_key=f"key-{reference}",
                       service_code="residence-points", service_version_id=1, form_version_id=2,
                       answers={}, submitter_id=submitter_id, clerk_id=clerk_id,
                       department_code=department)


def _file(draft: Draft | None, application: Application | None) -> FileTarget:
    upload = StoredUpload(public_id="f", field_key="materials.id_card", stored_name="x",
                          original_name="身份证.pdf", size=1, sha256="0" * 64, mime="application/pdf")
    return FileTarget(upload, draft, application)


CITIZEN_DRAFT = _draft("citizen-token", user_id=CITIZEN_ID)
ON_BEHALF_DRAFT = _draft("clerk-token", clerk_id=CLERK_ID)
ANONYMOUS_DRAFT = _draft("anon-token")
OBJECTS = {
    "the citizen's draft": CITIZEN_DRAFT,
    "a draft started at the counter": ON_BEHALF_DRAFT,
    "an anonymous draft": ANONYMOUS_DRAFT,
    "an application in sh-rsj": _application("R-RSJ", "sh-rsj"),
    "an application in sub-department sh-rsj-points": _application("R-POINTS", "sh-rsj-points"),
    "an application in sh-gaj": _application("R-GAJ", "sh-gaj"),
    "an application made at the counter": _application("R-CLERK", "sh-rsj", None, CLERK_ID),
    "an anonymous application in sh-cgj": _application("R-ANON", "sh-cgj", None),
    "a file of the citizen's sh-rsj-points application": _file(
        CITIZEN_DRAFT, _application("R-POINTS", "sh-rsj-points")),
    "a file of an anonymous draft": _file(ANONYMOUS_DRAFT, None),
    "a file of an sh-gaj application whose draft is gone": _file(
        None, _application("R-GAJ", "sh-gaj")),
    "a citizens' service of sh-rsj": ServiceTarget("residence-points", "sh-rsj", ("citizen",)),
    "an enterprises' service of sh-gaj": ServiceTarget("licence", "sh-gaj", ("enterprise",)),
    "a service anyone may start anonymously": ServiceTarget(
        "urban-event-report", "sh-cgj", ("citizen", "enterprise"), allow_anonymous=True),
    "the review list": REVIEW_LIST,
}

SH_RSJ_STAFF = {"reviewer of sh-rsj", "department admin of sh-rsj", "platform admin"}
POINTS_STAFF = SH_RSJ_STAFF | {"reviewer of sh-rsj-points"}
GAJ_STAFF = {"reviewer of sh-gaj", "department admin of sh-gaj", "platform admin"}
ANYONE = set(PERSONAS)

# (object, action) -> the personas who may; everyone else is refused.
ALLOWED: dict[tuple[str, Action], set[str]] = {
    ("the citizen's draft", Action.VIEW): {"citizen"},
    ("the citizen's draft", Action.EDIT): {"citizen"},
    ("the citizen's draft", Action.SUBMIT): {"citizen"},
    ("a draft started at the counter", Action.VIEW): {"counter clerk"},
    ("a draft started at the counter", Action.EDIT): {"counter clerk"},
    ("a draft started at the counter", Action.SUBMIT): {"counter clerk"},
    ("an anonymous draft", Action.VIEW): {"anonymous applicant"},
    ("an anonymous draft", Action.EDIT): {"anonymous applicant"},
    ("an anonymous draft", Action.SUBMIT): {"anonymous applicant"},
    ("an application in sh-rsj", Action.VIEW): SH_RSJ_STAFF | {"citizen"},
    ("an application in sh-rsj", Action.REVIEW): SH_RSJ_STAFF,
    ("an application in sub-department sh-rsj-points", Action.VIEW): POINTS_STAFF | {"citizen"},
    ("an application in sub-department sh-rsj-points", Action.REVIEW): POINTS_STAFF,
    ("an application in sh-gaj", Action.VIEW): GAJ_STAFF | {"citizen"},
    ("an application in sh-gaj", Action.REVIEW): GAJ_STAFF,
    ("an application made at the counter", Action.VIEW): SH_RSJ_STAFF | {"counter clerk"},
    ("an application made at the counter", Action.REVIEW): SH_RSJ_STAFF,
    ("an anonymous application in sh-cgj", Action.VIEW): {"platform admin",
                                                          "anonymous applicant"},
    ("an anonymous application in sh-cgj", Action.REVIEW): {"platform admin"},
    ("a file of the citizen's sh-rsj-points application", Action.OPEN): POINTS_STAFF | {"citizen"},
    ("a file of an anonymous draft", Action.OPEN): {"anonymous applicant"},
    ("a file of an sh-gaj application whose draft is gone", Action.OPEN): GAJ_STAFF | {"citizen"},
    ("a citizens' service of sh-rsj", Action.START): {"citizen", "another citizen"},
    ("a citizens' service of sh-rsj", Action.START_ON_BEHALF): {"counter clerk"},
    ("an enterprises' service of sh-gaj", Action.START): {"enterprise"},
    ("an enterprises' service of sh-gaj", Action.START_ON_BEHALF): {"counter clerk",
                                                                   "counter clerk of sh-gaj"},
    ("a service anyone may start anonymously", Action.START): ANYONE,
    ("a service anyone may start anonymously", Action.START_ON_BEHALF): {"counter clerk"},
    ("the review list", Action.LIST): {"reviewer of sh-rsj", "reviewer of sh-rsj-points",
                                       "reviewer of sh-gaj", "department admin of sh-rsj",
                                       "department admin of sh-gaj", "platform admin"},
}
CASES = [(who, what, action) for (what, action) in ALLOWED for who in PERSONAS]


@pytest.mark.parametrize(("who", "what", "action"), CASES,
                         ids=[f"{who} / {action} / {what}" for who, what, action in CASES])
def test_each_persona_may_do_exactly_what_the_table_allows(who: str, what: str,
                                                           action: Action) -> None:
    assert permits(PERSONAS[who], action, OBJECTS[what], TREE) is (who in ALLOWED[(what, action)])


def test_the_table_covers_every_object_and_every_action() -> None:
    assert {what for what, _action in ALLOWED} == set(OBJECTS)
    assert {action for _what, action in ALLOWED} == set(Action)


@pytest.mark.parametrize(("what", "action"), [
    ("the citizen's draft", Action.OPEN), ("an application in sh-rsj", Action.EDIT),
    ("a file of an anonymous draft", Action.VIEW), ("a citizens' service of sh-rsj", Action.REVIEW),
    ("the review list", Action.VIEW)])
def test_an_action_that_does_not_apply_to_an_object_is_a_bug_not_a_refusal(
        what: str, action: Action) -> None:
    with pytest.raises(ValueError, match="does not apply"):
        permits(PERSONAS["platform admin"], action, OBJECTS[what], TREE)


def test_a_presented_token_opens_an_anonymous_draft_but_not_someone_elses() -> None:
    visitor = Actor.of(10)
    assert permits(visitor.holding(draft_token="anon-token"), Action.EDIT, ANONYMOUS_DRAFT, TREE)
    assert not permits(visitor.holding(draft_token="citizen-token"), Action.EDIT,
                       CITIZEN_DRAFT, TREE)


def test_a_membership_covers_its_department_and_those_below_but_not_above() -> None:
    assert departments(PERSONAS["reviewer of sh-rsj"], {Role.REVIEWER}, TREE) == {
        "sh-rsj", "sh-rsj-points"}
    assert departments(PERSONAS["reviewer of sh-rsj-points"], {Role.REVIEWER}, TREE) == {
        "sh-rsj-points"}
    assert departments(PERSONAS["platform admin"], {Role.PLATFORM_ADMIN}, TREE) is None
    assert departments(PERSONAS["outsider"], {Role.REVIEWER}, TREE) == frozenset()


def test_a_deeper_tree_is_covered_to_the_bottom_and_a_cycle_ends() -> None:
    tree = DepartmentTree.from_parents({"a": None, "b": "a", "c": "b", "x": "y", "y": "x"})
    assert tree.under("a") == {"a", "b", "c"}
    assert tree.under("x") == {"x", "y"}
    assert tree.under("unknown") == {"unknown"}


def test_has_role_within_a_department_needs_the_tree_and_follows_it() -> None:
    reviewer = PERSONAS["reviewer of sh-rsj"]
    assert holds(reviewer, {Role.REVIEWER})
    assert holds(reviewer, {Role.REVIEWER}, "sh-rsj-points", TREE)
    assert not holds(reviewer, {Role.REVIEWER}, "sh-gaj", TREE)
    assert not holds(reviewer, {Role.DEPARTMENT_ADMIN}, "sh-rsj", TREE)
    with pytest.raises(ValueError, match="department tree"):
        holds(reviewer, {Role.REVIEWER}, "sh-rsj")


def test_a_login_users_has_role_takes_a_department() -> None:
    from tongban.models import User
    from tongban.web.login import LoginUser

    user = LoginUser(User(id=7, username="deptadmin", display_name="赵管理", password_hash="x"),
                     {("department_admin", "sh-rsj")})
    assert user.has_role(Role.DEPARTMENT_ADMIN)
    assert user.has_role(Role.DEPARTMENT_ADMIN, department="sh-rsj-points", tree=TREE)
    assert not user.has_role(Role.DEPARTMENT_ADMIN, department="sh-gaj", tree=TREE)
    assert user.actor(references=["R-1"]).references == {"R-1"}


def test_the_policy_module_imports_nothing_from_the_web() -> None:
    source = (PROJECT_ROOT / "platform" / "tongban" / "policy.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert not imported & {"flask", "flask_login", "flask_babel", "werkzeug", ".web"}
    assert not any(name.startswith((".web", "flask", "werkzeug")) for name in imported)


def test_the_tree_and_the_review_filter_work_on_the_database(demo, session) -> None:  # type: ignore[no-untyped-def]
    rsj = session.scalars(select(Department).where(Department.code == "sh-rsj")).one()
    session.add(Department(code="sh-rsj-points", name_zh="积分办", name_en="Points office",
                           parent_id=rsj.id))
    version = session.scalars(select(DefinitionVersion)).first()
    for reference, department in [("R-RSJ", "sh-rsj"), ("R-POINTS", "sh-rsj-points"),
                                  ("R-GAJ", "sh-gaj")]:
        session.add(Application(reference=reference, idempotency_key=reference,
                                service_code=version.code, service_version_id=version.id,
                                form_version_id=version.id, answers={},
                                department_code=department))
    session.commit()

    tree = DepartmentTree.load(session)
    district_offices = set(session.scalars(select(Department.code).where(
        Department.parent_id == rsj.id, Department.code != "sh-rsj-points")))
    assert "sh-rsj-pudong" in district_offices  # the catalogue's district offices
    assert tree.under("sh-rsj") == {"sh-rsj", "sh-rsj-points"} | district_offices
    assert tree.under("sh-rsj-points") == {"sh-rsj-points"}

    def seen(who: str) -> set[str]:
        return set(session.scalars(select(Application.reference)
                                   .where(review_filter(PERSONAS[who], tree))))

    assert seen("reviewer of sh-rsj") == {"R-RSJ", "R-POINTS"}
    assert seen("reviewer of sh-rsj-points") == {"R-POINTS"}
    assert seen("reviewer of sh-gaj") == {"R-GAJ"}
    assert seen("platform admin") == {"R-RSJ", "R-POINTS", "R-GAJ"}
    assert seen("citizen") == set()
    assert seen("anonymous") == set()
