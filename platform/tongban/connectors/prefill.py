"""Prefill: when a draft starts (and whenever the answers a prefill query needs change), the
service's prefill queries fill the questions they map that are still empty. The page then says
where each such answer came from and when. Prefilled answers stay editable, but never silently:
a changed one is marked on the page and flagged to the reviewer, who sees the register's value
beside it (docs/connectors.md, "Prefill")."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ..forms.definition import FormDefinition
from ..models import ConnectorResult
from .calls import Outcome, Owner, answer_at, run_query, source_names
from .registry import ConnectorRegistry


def prefill_queries(service: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for name, block in (service.get("connectors") or {}).items():
        for query_id in block.get("prefill", ()):
            yield name, query_id, block["queries"][query_id]


def _put(answers: dict[str, Any], path: str, value: Any) -> None:
    node = answers
    *parents, last = path.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def seed_person(service: Mapping[str, Any], form: FormDefinition, answers: dict[str, Any],
                id_number: str | None) -> dict[str, Any]:
    """The answers with the account's ID number put into each empty question a prefill query
    reads it from (a question of format cn-id-number): a signed-in citizen's draft starts
    already prefilled."""
    if not id_number:
        return answers
    seeded = copy.deepcopy(answers)
    for _, _, query in prefill_queries(service):
        for path in (query.get("params") or {}).values():
            fields = form.fields.get(path) or []
            if fields and fields[0].format == "cn-id-number" and not answer_at(seeded, path):
                _put(seeded, path, id_number)
    return seeded


def prefill_draft(session: Session, connectors: ConnectorRegistry, service: Mapping[str, Any],
                  draft_id: int, answers: dict[str, Any], *, actor_id: int | None,
                  actor_name: str, request_id: str = "") -> tuple[dict[str, Any], list[Outcome]]:
    """Run the service's prefill queries for the draft's answers; return the answers with the
    empty questions filled from the answers found (the caller saves them when they changed)
    and each query's outcome. Commits on ``session`` (see :func:`run_query`)."""
    filled = copy.deepcopy(answers)
    outcomes = []
    for name, query_id, _ in prefill_queries(service):
        outcome = run_query(session, connectors, service, name, query_id, answers,
                            owner=Owner(draft_id=draft_id), purpose="prefill",
                            actor_id=actor_id, actor_name=actor_name, request_id=request_id)
        outcomes.append(outcome)
        if outcome.status != "ok":
            continue
        for path, value in outcome.values.items():
            if value is not None and answer_at(filled, path) in (None, ""):
                _put(filled, path, value)
    return filled, outcomes


@dataclass(frozen=True)
class Note:
    """What a form page says about one prefilled question, or about a source that failed."""

    key: str
    label: Any
    source: dict[str, str]
    fetched_at: datetime | None
    value: Any
    changed: bool
    unverified: bool = False
    keys: tuple[str, ...] = ()  # of a failed source: the questions it would have answered


def _same(a: Any, b: Any) -> bool:
    return str(a if a is not None else "").strip() == str(b if b is not None else "").strip()


def prefill_notes(session: Session, service: Mapping[str, Any], form: FormDefinition,
                  draft_id: int, answers: Any, page_id: str | None = None) -> list[Note]:
    """The prefilled questions (on ``page_id``, or all) with their source and time, and
    whether the answer now differs from what the source said; a prefill source that failed
    gives one note with ``unverified``."""
    notes: list[Note] = []
    for name, query_id, query in prefill_queries(service):
        keys = [key for key in (query.get("fields") or {}).values()
                if page_id is None or form.page_of.get(key) == page_id]
        if not keys:
            continue  # nothing on this page comes from this query
        row = session.scalars(select(ConnectorResult).where(
            col(ConnectorResult.draft_id) == draft_id, col(ConnectorResult.connector) == name,
            col(ConnectorResult.query_id) == query_id)
            .order_by(col(ConnectorResult.id).desc())).first()
        if row is None:
            continue
        source = source_names(service["connectors"][name])
        if row.status == "unverified":
            notes.append(Note("", None, source, row.checked_at, None, False, unverified=True,
                              keys=tuple(keys)))
            continue
        for key, value in (row.values or {}).items():
            if key not in keys:
                continue
            fields = form.fields.get(key) or []
            label = fields[0].label if fields else key
            notes.append(Note(key, label, source, row.fetched_at, value,
                              not _same(answer_at(answers, key), value)))
    return notes


def provenance(session: Session, service: Mapping[str, Any], form: FormDefinition,
               draft_id: int, answers: Any) -> dict[str, Note]:
    """Question key -> where its answer came from, for the check-answers page: a prefilled
    answer (changed or not), or one the applicant gave because its source failed
    (``unverified``). Questions no prefill query maps are absent."""
    found: dict[str, Note] = {}
    for note in prefill_notes(session, service, form, draft_id, answers):
        if note.unverified:
            for key in note.keys:
                found.setdefault(key, note)
        else:
            found[note.key] = note
    return found
