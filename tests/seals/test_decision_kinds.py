"""Which decision document each engine event calls for (tongban.decisions.kinds_for)."""

from __future__ import annotations

from typing import Any

import pytest

from tongban.decisions import TEMPLATES, kinds_for
from tongban.models import Application, FlowEvent


def _application(rules: int | None = None) -> Application:
    return Application(reference="A-1", idempotency_key="k", service_code="s",
                       service_version_id=1, form_version_id=1, answers={},
                       department_code="d1", rules_version_id=rules)


def _event(kind: str, **data: Any) -> FlowEvent:
    return FlowEvent(seq=1, type=kind, status="x", data=data)


@pytest.mark.parametrize(("events", "rules", "kinds"), [
    ([_event("accepted")], None, [("acceptance", "")]),
    ([_event("approved", comment="好"), _event("ended", outcome="approved")], None,
     [("approval", "")]),
    ([_event("ended", outcome="approved")], 7, [("points_result", "")]),
    ([_event("rejected", comment="材料不符"), _event("ended", outcome="rejected")], None,
     [("refusal", "材料不符")]),
    ([_event("intake_refused", reason="不属于本机关职权范围"), _event("ended", outcome="rejected")],
     None, [("intake_refusal", "不属于本机关职权范围")]),
    ([_event("ended", outcome="completed")], None, []),
    ([_event("task_created"), _event("commented", comment="x")], None, []),
])
def test_each_decision_calls_for_its_document(events: list[FlowEvent], rules: int | None,
                                              kinds: list[tuple[str, str]]) -> None:
    assert kinds_for(_application(rules), events) == kinds


def test_every_kind_has_a_chinese_template_with_a_title_and_the_applicant_first() -> None:
    assert set(TEMPLATES) == {"acceptance", "intake_refusal", "approval", "refusal",
                              "points_result"}
    for template in TEMPLATES.values():
        assert template.title.endswith(("通知书", "告知书", "决定书"))
        assert template.paragraphs[0] == "{applicant}："
