"""一件事 bundles at run time: one application that starts several services (docs/bundles.md).

A bundle application holds one draft per sub-service. The shared answers are asked once, on
the lead service's pages that hold them, and copied into every draft; each service's own
questions are its draft's remaining pages. Submitting the bundle gives one reference: each
part whose dependencies are met becomes an application of its own service (its own flow and
department) at once; the others wait, and open when the flow of what they need ends approved
(:func:`open_waiting_parts`, called by the flow runtime). Nothing here reopens a part: a
correction in one service's flow touches only that application.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from json_logic.builtins import to_bool
from sqlalchemy import select
from sqlmodel import Session, col

from . import audit
from .applications import new_reference, start_draft, submit
from .definitions.publish import effective_version
from .forms import logic, paths
from .i18n import N_
from .intake import pinned, submission_errors, upload_ids
from .models import (
    Application,
    BundleApplication,
    BundlePart,
    DefinitionVersion,
    Draft,
    FlowInstance,
    saved_id,
    utcnow,
)
from .workflow import runtime

# The outcomes of a flow's end that let the parts needing it open.
MET_OUTCOMES = frozenset({"approved", "completed"})


class BundleUnavailable(Exception):
    """No such bundle application, or it is someone else's."""


class DependencyNotMet(Exception):
    """A part was asked to start before what it needs was approved."""

    template = N_("%(service)s cannot start yet: it needs %(needs)s approved first")

    def __init__(self, service: str, needs: list[str]):
        super().__init__(self.template % {"service": service, "needs": ", ".join(needs)})
        self.service = service
        self.needs = needs


class BundleIncomplete(Exception):
    """Some part's draft still has questions to answer (their service codes)."""

    def __init__(self, services: list[str]):
        super().__init__(", ".join(services))
        self.services = services


@dataclass(frozen=True)
class PartView:
    part: BundlePart
    service: dict[str, Any]        # the pinned service version's content
    draft: Draft
    application: Application | None
    instance: FlowInstance | None
    waiting_for: list[str]         # codes of the parts it needs that are not yet approved


def published(session: Session) -> list[DefinitionVersion]:
    """The bundles in effect, by code."""
    codes = sorted(set(session.scalars(select(col(DefinitionVersion.code))
                                       .where(col(DefinitionVersion.kind) == "bundle"))))
    rows = [effective_version(session, "bundle", code) for code in codes]
    return [row for row in rows if row is not None]


def start(session: Session, bundle: DefinitionVersion, *, user_id: int | None) -> BundleApplication:
    """A new bundle application with one draft per sub-service, each pinned to the versions in
    effect now. The caller commits."""
    application = BundleApplication(token=secrets.token_urlsafe(24), bundle_code=bundle.code,
                                    bundle_version_id=saved_id(bundle), user_id=user_id)
    session.add(application)
    session.flush()
    for position, item in enumerate(bundle.content["services"]):
        service_row = effective_version(session, "service", item["service"])
        if service_row is None:
            raise LookupError(f'the bundle {bundle.code} names the service {item["service"]}, '
                              "which has no version in effect")
        form_row = effective_version(session, "form", service_row.content["form"])
        if form_row is None:
            raise LookupError(f"the service {service_row.code} has no form in effect")
        draft = start_draft(session, service_row, form_row, user_id=user_id)
        session.add(BundlePart(bundle_id=saved_id(application), position=position,
                               service_code=service_row.code, needs=list(item.get("needs") or []),
                               draft_id=saved_id(draft)))
    audit.record(session, action="bundle.start", object_type="bundle",
                 object_id=application.token[:12], actor_id=user_id,
                 after={"bundle": bundle.code, "version_id": saved_id(bundle)})
    return application


def load(session: Session, token: str, user_id: int | None) -> BundleApplication:
    found = session.scalars(select(BundleApplication)
                            .where(col(BundleApplication.token) == token)).first()
    if found is None or found.user_id is None or found.user_id != user_id:
        raise BundleUnavailable(token)
    return found


def by_reference(session: Session, reference: str, user_id: int | None) -> BundleApplication:
    found = session.scalars(select(BundleApplication)
                            .where(col(BundleApplication.reference) == reference)).first()
    if found is None or found.user_id is None or found.user_id != user_id:
        raise BundleUnavailable(reference)
    return found


def definition(session: Session, bundle: BundleApplication) -> dict[str, Any]:
    row = session.get(DefinitionVersion, bundle.bundle_version_id)
    if row is None:
        raise LookupError(f"bundle version {bundle.bundle_version_id} is missing")
    return row.content


def parts(session: Session, bundle: BundleApplication) -> list[PartView]:
    rows = list(session.scalars(select(BundlePart).where(col(BundlePart.bundle_id) == bundle.id)
                                .order_by(col(BundlePart.position))))
    drafts = {d.id: d for d in session.scalars(
        select(Draft).where(col(Draft.id).in_([r.draft_id for r in rows])))}
    app_ids = [r.application_id for r in rows if r.application_id is not None]
    applications = {a.id: a for a in session.scalars(
        select(Application).where(col(Application.id).in_(app_ids)))} if app_ids else {}
    instances = {i.application_id: i for i in session.scalars(
        select(FlowInstance).where(col(FlowInstance.application_id).in_(app_ids)))} \
        if app_ids else {}
    met = {r.service_code for r in rows
           if r.application_id is not None and _met(instances.get(r.application_id))}
    views = []
    for row in rows:
        draft = drafts[row.draft_id]
        service = session.get(DefinitionVersion, draft.service_version_id)
        views.append(PartView(
            row, service.content if service is not None else {}, draft,
            applications.get(row.application_id) if row.application_id else None,
            instances.get(row.application_id) if row.application_id else None,
            [need for need in row.needs if need not in met]))
    return views


def _met(instance: FlowInstance | None) -> bool:
    return instance is not None and instance.ended_at is not None \
        and instance.outcome in MET_OUTCOMES


# --- Shared answers. ------------------------------------------------------------------------------
def shared_pages(session: Session, bundle: BundleApplication, draft: Draft) -> list[str]:
    """The pages of ``draft``'s form that hold shared answers, in the form's order."""
    shared = set(definition(session, bundle).get("shared") or [])
    form = pinned(session, draft.service_version_id, draft.form_version_id).form
    on = {form.page_of[key] for key in shared if key in form.page_of}
    return [page.id for page in form.pages if page.id in on]


def _wholly_shared(form: Any, shared: set[str]) -> list[str]:
    """Pages every question of which is shared (or a group of shared questions)."""
    found = []
    for page in form.pages:
        keys = [key for key, page_id in form.page_of.items() if page_id == page.id]
        if keys and all(key in shared or any(s.startswith(key + ".") for s in shared)
                        for key in keys):
            found.append(page.id)
    return found


def share_answers(session: Session, bundle: BundleApplication, lead: Draft) -> None:
    """Copy the shared answers of the lead draft into every other draft of the bundle, and
    mark their wholly shared pages as seen, so each service asks only its own questions.
    The caller commits."""
    shared = list(definition(session, bundle).get("shared") or [])
    for view in parts(session, bundle):
        draft = view.draft
        form = pinned(session, draft.service_version_id, draft.form_version_id).form
        answers = copy.deepcopy(draft.answers) if draft.id != lead.id else draft.answers
        for key in shared:
            value = paths.get_in(lead.answers, key.split("."))
            if value is not None and draft.id != lead.id:
                _set_in(answers, key.split("."), copy.deepcopy(value))
        visited = list(draft.visited_pages)
        for page_id in _wholly_shared(form, set(shared)):
            if page_id not in visited:
                visited.append(page_id)
        draft.answers, draft.visited_pages = answers, visited
        draft.updated_at = utcnow()
        session.add(draft)


def _set_in(answers: dict[str, Any], segments: list[str], value: Any) -> None:
    node = answers
    for segment in segments[:-1]:
        child = node.get(segment)
        if not isinstance(child, dict):
            child = node[segment] = {}
        node = child
    node[segments[-1]] = value


def own_pages_seen(session: Session, bundle: BundleApplication, draft: Draft) -> bool:
    """Whether the citizen has answered a page of ``draft`` that is not wholly shared."""
    shared = set(definition(session, bundle).get("shared") or [])
    form = pinned(session, draft.service_version_id, draft.form_version_id).form
    skipped = set(_wholly_shared(form, shared))
    return any(page not in skipped for page in draft.visited_pages)


def shared_given(session: Session, bundle: BundleApplication, lead: Draft) -> bool:
    return all(page in lead.visited_pages for page in shared_pages(session, bundle, lead))


# --- Pre-check and submission. ---------------------------------------------------------------------
def precheck_data(shared: list[str], answers: dict[str, Any], today: date) -> dict[str, Any]:
    """What a pre-check reads: the shared answers, ``today`` and ``days_since`` (each shared
    date answer's days before today, at the same key)."""
    data: dict[str, Any] = {"today": today.isoformat(), "days_since": {}}
    for key in shared:
        segments = key.split(".")
        value = paths.get_in(answers, segments)
        if value is None:
            continue
        _set_in(data, segments, value)
        if isinstance(value, str) and len(value) == 10:
            try:
                _set_in(data["days_since"], segments, (today - date.fromisoformat(value)).days)
            except ValueError:
                pass
    return data


def precheck(content: dict[str, Any], answers: dict[str, Any], today: date) -> bool | None:
    """The bundle's pre-check on the shared answers; None when it has none."""
    rule = content.get("precheck")
    if rule is None:
        return None
    data = precheck_data(list(content.get("shared") or []), answers, today)
    try:
        return bool(to_bool(logic.evaluate(rule["rule"], data)))
    except logic.RuleError:
        return False


def incomplete(session: Session, bundle: BundleApplication) -> list[str]:
    """The services whose draft still has a question to answer."""
    missing = []
    for view in parts(session, bundle):
        form = pinned(session, view.draft.service_version_id, view.draft.form_version_id).form
        if submission_errors(form, view.draft.answers, upload_ids(session, view.draft.id)):
            missing.append(view.part.service_code)
    return missing


def submit_bundle(session: Session, bundle: BundleApplication, *, actor_id: int | None,
                  actor_name: str, today: date, request_id: str = "") -> BundleApplication:
    """One reference for the bundle; each part without unmet needs becomes its service's
    application now, the others wait. The caller commits."""
    if bundle.status == "submitted":
        return bundle
    missing = incomplete(session, bundle)
    if missing:
        raise BundleIncomplete(missing)
    content = definition(session, bundle)
    views = parts(session, bundle)
    now = utcnow()
    bundle.reference = new_reference(now)
    bundle.status = "submitted"
    bundle.submitted_at = now
    bundle.precheck_passed = precheck(content, views[0].draft.answers, today)
    bundle.auto_accepted = bool(content.get("auto_accept")) and bundle.precheck_passed is True
    session.add(bundle)
    audit.record(session, action="bundle.submit", object_type="bundle",
                 object_id=bundle.reference, actor_id=actor_id, actor_name=actor_name,
                 after={"bundle": bundle.bundle_code, "precheck": bundle.precheck_passed,
                        "auto_accept": bundle.auto_accepted,
                        "services": [v.part.service_code for v in views]},
                 request_id=request_id)
    for view in views:
        if view.part.needs:
            view.part.status = "waiting"
            view.draft.status = "held"  # kept whole until it opens; never purged as expired
            session.add_all([view.part, view.draft])
        else:
            _start_part(session, bundle, view, actor_id=actor_id, actor_name=actor_name,
                        request_id=request_id)
    return bundle


def _start_part(session: Session, bundle: BundleApplication, view: PartView, *,
                actor_id: int | None, actor_name: str, request_id: str = "") -> Application:
    draft = view.draft
    draft.status = "open"  # submit() marks it submitted
    outcome = submit(session, draft, draft.answers,
                     department_code=view.service["department"]["code"],
                     actor_id=actor_id, actor_name=actor_name, request_id=request_id)
    view.part.application_id = saved_id(outcome.application)
    view.part.status = "started"
    session.add(view.part)
    session.flush()
    if bundle.auto_accepted:
        runtime.accept_by_system(session, outcome.application, reason="bundle_precheck",
                                 request_id=request_id)
    return outcome.application


def start_part(session: Session, bundle: BundleApplication, service_code: str, *,
               actor_id: int | None, actor_name: str, request_id: str = "") -> Application:
    """Start one waiting part now (its needs must be approved): the fallback for a part that
    did not open by itself. Raises :class:`DependencyNotMet`, changing nothing, otherwise."""
    for view in parts(session, bundle):
        if view.part.service_code != service_code:
            continue
        if view.part.status != "waiting":
            raise LookupError(f"{service_code} is not waiting")
        if view.waiting_for:
            raise DependencyNotMet(service_code, view.waiting_for)
        return _start_part(session, bundle, view, actor_id=actor_id, actor_name=actor_name,
                           request_id=request_id)
    raise LookupError(f"{service_code} is not a part of this bundle")


def open_waiting_parts(session: Session, application: Application, outcome: str | None) -> None:
    """The flow of ``application`` ended with ``outcome``: the waiting parts of its bundle
    whose needs are all approved now become applications (in the same transaction)."""
    if outcome not in MET_OUTCOMES or application.id is None:
        return
    part = session.scalars(select(BundlePart)
                           .where(col(BundlePart.application_id) == application.id)).first()
    if part is None:
        return
    bundle = session.get(BundleApplication, part.bundle_id)
    if bundle is None:
        return
    session.flush()
    for view in parts(session, bundle):
        if view.part.status == "waiting" and not view.waiting_for:
            _start_part(session, bundle, view, actor_id=None, actor_name="system")


runtime.when_ended(open_waiting_parts)


def user_bundles(session: Session, user_id: int) -> list[BundleApplication]:
    return list(session.scalars(select(BundleApplication)
                                .where(col(BundleApplication.user_id) == user_id)
                                .order_by(col(BundleApplication.created_at).desc())))


def bundle_draft_ids(session: Session, bundle_ids: list[int]) -> set[int]:
    """The drafts of these bundle applications."""
    if not bundle_ids:
        return set()
    return set(session.scalars(select(col(BundlePart.draft_id))
                               .where(col(BundlePart.bundle_id).in_(bundle_ids))))


def bundle_of_draft(session: Session, draft_id: int | None) -> BundleApplication | None:
    if draft_id is None:
        return None
    part = session.scalars(select(BundlePart).where(col(BundlePart.draft_id) == draft_id)).first()
    return session.get(BundleApplication, part.bundle_id) if part is not None else None


__all__ = ["BundleIncomplete", "BundleUnavailable", "DependencyNotMet", "PartView",
           "bundle_draft_ids", "by_reference", "bundle_of_draft", "definition", "incomplete", "load",
           "open_waiting_parts", "own_pages_seen", "parts", "precheck", "published", "share_answers",
           "shared_given", "shared_pages", "start", "start_part", "submit_bundle",
           "user_bundles"]
