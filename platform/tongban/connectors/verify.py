"""Verification: the reviewer's page compares an application's answers with what the
service's verify queries find in other departments' registers, mismatches flagged. A question
the form did not ask this applicant (hidden by its logic) is not compared, and a query all of
whose questions are hidden is not asked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from ..forms import state
from ..forms.definition import FormDefinition
from .calls import Outcome, Owner, answer_at, run_query
from .registry import ConnectorRegistry


@dataclass(frozen=True)
class VerifyRow:
    """One question against one register: ``status`` is ok/none/unverified/missing (of the
    query), ``matches`` None when there is nothing to compare."""

    key: str
    label: Any
    answer: Any
    register: Any
    matches: bool | None
    status: str
    source: dict[str, str]
    fetched_at: datetime | None


def same_value(answer: Any, register: Any) -> bool:
    """Equal as numbers when both read as numbers (9000 and "9000.00"), else as trimmed text."""
    if answer is None or register is None:
        return answer is None and register is None
    try:
        return Decimal(str(answer)) == Decimal(str(register))
    except InvalidOperation:
        return str(answer).strip() == str(register).strip()


def verification(session: Session, connectors: ConnectorRegistry, service: Mapping[str, Any],
                 form: FormDefinition, application_id: int, answers: Any, *,
                 actor_id: int | None, actor_name: str, request_id: str = "",
                 refresh: bool = False) -> list[VerifyRow]:
    """Run each verify query for the application (a kept answer is reused unless ``refresh``;
    a failed one is tried again) and compare. Commits on ``session``."""
    rows: list[VerifyRow] = []
    current = state.evaluate(form, answers)
    for name, block in (service.get("connectors") or {}).items():
        for query_id in block.get("verify", ()):
            query = block["queries"][query_id]
            asked = [path for path in (query.get("fields") or {}).values()
                     if not current.is_hidden(form, path)]
            if not asked:
                continue  # nothing this applicant was asked: no call, no row
            outcome: Outcome = run_query(
                session, connectors, service, name, query_id, answers,
                owner=Owner(application_id=application_id), purpose="verify",
                actor_id=actor_id, actor_name=actor_name, request_id=request_id,
                refresh=refresh)
            for path in asked:
                fields = form.fields.get(path) or []
                answer = answer_at(answers, path)
                register = outcome.values.get(path) if outcome.status == "ok" else None
                matches = same_value(answer, register) if outcome.status == "ok" else None
                rows.append(VerifyRow(path, fields[0].label if fields else path, answer,
                                      register, matches, outcome.status, outcome.source,
                                      outcome.fetched_at))
    return rows
