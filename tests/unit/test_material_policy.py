"""Who may open a material of the library (issue 16 item 1): its owner, a counter clerk, a
reviewer through an application of their department whose applicant owns it; nobody else."""

from __future__ import annotations

import pytest

from tongban.models import Application, Role
from tongban.policy import Action, Actor, DepartmentTree, MaterialTarget, permits

OWNER = "31010419900307123X"
OTHER = "110101199003070012"
TREE = DepartmentTree.from_parents({"sh-rsj": None, "sh-rsj-xuhui": "sh-rsj", "sh-gaj": None})
APPLICATION = Application(reference="R1", idempotency_key="k", service_code="s",
                          service_version_id=1, form_version_id=1, answers={},
                          department_code="sh-rsj-xuhui")
CITIZEN = Actor.of(1, [(Role.CITIZEN, None)])
CLERK = Actor.of(2, [(Role.COUNTER_CLERK, "sh-gaj")])
REVIEWER = Actor.of(3, [(Role.REVIEWER, "sh-rsj")])
ELSEWHERE = Actor.of(4, [(Role.REVIEWER, "sh-gaj")])


@pytest.mark.parametrize(("actor", "target", "allowed"), [
    (CITIZEN, MaterialTarget(OWNER, actor_owner=OWNER), True),
    (CITIZEN, MaterialTarget(OWNER, actor_owner=OTHER), False),
    (CITIZEN, MaterialTarget(OWNER), False),  # an account with no linked ID number
    (CLERK, MaterialTarget(OWNER), True),
    (REVIEWER, MaterialTarget(OWNER), False),  # not through an application
    (REVIEWER, MaterialTarget(OWNER, application=APPLICATION, application_owner=OWNER), True),
    (REVIEWER, MaterialTarget(OWNER, application=APPLICATION, application_owner=OTHER), False),
    (ELSEWHERE, MaterialTarget(OWNER, application=APPLICATION, application_owner=OWNER), False),
    (Actor(), MaterialTarget(OWNER, actor_owner=None), False),
])
def test_who_may_open_a_material(actor: Actor, target: MaterialTarget, allowed: bool) -> None:
    assert permits(actor, Action.OPEN, target, TREE) is allowed


def test_an_action_other_than_open_is_a_bug_in_the_caller() -> None:
    with pytest.raises(ValueError):
        permits(CITIZEN, Action.EDIT, MaterialTarget(OWNER, actor_owner=OWNER), TREE)
