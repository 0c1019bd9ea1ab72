"""The clerk's desk (/counter, issue 17 items 1 and 2): look a person or an enterprise up by ID
number or USCC, read the population register when one is configured (else the clerk types the
name, unverified), see their materials, drafts and applications, check a service's material
checklist (scan a paper material in, at level B once the original is checked) and start any
service their window handles on their behalf (docs/counter.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit, connectors, counter_intake
from ..applications import start_draft
from ..counter import mandates, people
from ..definitions.publish import effective_version
from ..forms import date_limits, paths, uploads
from ..i18n import current_lang
from ..intake import pinned
from ..materials import library
from ..models import Draft, Mandate, Person, Role, saved_id, utcnow
from ..policy import Action, ServiceTarget
from ..services import PublishedService, current_services, get_service, names_of_versions
from . import connector_views, flow_views, materials
from .access import allowed, require_role
from .database import request_session, request_transaction
from .errors import render_error

bp = Blueprint("counter", __name__)

SCAN_KINDS = ("pdf", "jpeg", "png")
SCAN_MAX_BYTES = 10 * 1024 * 1024
NAME_FIELDS = {"person": ("applicant.name",), "enterprise": ("enterprise.name", "applicant.name")}


def _clerk() -> tuple[int, str]:
    return current_user.id, current_user.username


def _lookup_page(*, errors: dict[str, str] | None = None, number: str = "", name: str = "",
                 register: people.RegisterAnswer | None = None, status: int = 200
                 ) -> ResponseReturnValue:
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    return render_template("counter/index.html", errors=errors, summary=summary,
                           number=number, name=name, register=register), status


def _register() -> people.RegisterQuery | None:
    setting = current_app.config.get("COUNTER_REGISTER", "")
    code = setting.split("/")[0] if setting else ""
    service = get_service(request_session(), code) if code else None
    return people.register_query(setting, service.content if service else None)


@bp.get("/counter")
@require_role(Role.COUNTER_CLERK)
def index() -> ResponseReturnValue:
    return _lookup_page()


@bp.post("/counter/lookup")
@require_role(Role.COUNTER_CLERK)
def lookup() -> ResponseReturnValue:
    """An ID number or USCC typed or read from a card: the person's page, made from the
    register's record when it knows them; otherwise the clerk is asked for the name."""
    typed = request.form.get("number", "")
    try:
        kind, number = people.parse_number(typed)
    except people.PersonRefused as exc:
        return _lookup_page(errors={"number": _(exc.message)}, number=typed.strip(), status=422)
    session = request_session()
    found = people.by_number(session, number)
    if found is not None:
        return redirect(url_for("counter.person", public_id=found.public_id), code=303)
    clerk_id, clerk_name = _clerk()
    answer = people.read_register(session, connectors.registry(current_app),
                                  _register() if kind == "person" else None, number,
                                  actor_id=clerk_id, actor_name=clerk_name,
                                  request_id=g.request_id)
    if answer.status != "ok":
        return _lookup_page(number=number, register=answer)
    with request_transaction() as tx:
        person = people.by_number(tx, number) or people.create(
            tx, kind=kind, number=number, name=answer.name, clerk_id=clerk_id,
            clerk_name=clerk_name, verified_by=answer.source.get("zh") or None,
            request_id=g.request_id)
        public_id = person.public_id
    return redirect(url_for("counter.person", public_id=public_id), code=303)


@bp.post("/counter/people")
@require_role(Role.COUNTER_CLERK)
def create() -> ResponseReturnValue:
    """A person the register does not know (or no register): the name the clerk read from the
    papers shown, kept as unverified."""
    typed_number, typed_name = request.form.get("number", ""), request.form.get("name", "")
    errors: dict[str, str] = {}
    kind: people.Kind = "person"
    number, name = typed_number.strip(), typed_name.strip()
    try:
        kind, number = people.parse_number(typed_number)
    except people.PersonRefused as exc:
        errors["number"] = _(exc.message)
    try:
        name = people.clean_name(typed_name)
    except people.PersonRefused as exc:
        errors["name"] = _(exc.message)
    if errors:
        return _lookup_page(errors=errors, number=number, name=typed_name.strip(),
                            register=people.RegisterAnswer("typed"), status=422)
    clerk_id, clerk_name = _clerk()
    with request_transaction() as tx:
        person = people.by_number(tx, number) or people.create(
            tx, kind=kind, number=number, name=name, clerk_id=clerk_id, clerk_name=clerk_name,
            request_id=g.request_id)
        public_id = person.public_id
    return redirect(url_for("counter.person", public_id=public_id), code=303)


def _person_or_404(public_id: str) -> Person:
    person = people.by_public_id(request_session(), public_id)
    if person is None:
        abort(404)
    return person


def _window_services() -> list[PublishedService]:
    """The services this clerk's window handles: those they may start on someone's behalf."""
    return [s for s in current_services(request_session(), offered=True)
            if allowed(Action.START_ON_BEHALF, ServiceTarget.of(s.content))]


def _audit_list(person: Person, page: str) -> None:
    clerk_id, clerk_name = _clerk()
    with request_transaction() as tx:
        audit.record(tx, action="material.list", object_type="material_owner",
                     object_id=person.id_number, actor_id=clerk_id, actor_name=clerk_name,
                     after={"page": page}, request_id=g.request_id)


def _person_page(found: Person, *, errors: dict[str, str] | None = None,
                 status: int = 200) -> ResponseReturnValue:
    session = request_session()
    drafts = people.open_drafts(session, found)
    applications = people.applications(session, found)
    names = names_of_versions(session, {d.service_version_id for d in drafts}
                              | {a.service_version_id for a in applications})
    given = mandates.of_principal(session, found)
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    page = render_template(
        "counter/person.html", person=found, services=_window_services(),
        all_services=current_services(session, offered=True),
        rows=materials.rows_of(library.materials_of(session, found.id_number)),
        drafts=drafts, applications=applications, names=names, lang=current_lang(),
        status_name=flow_views.status_name, clerk_id=current_user.id,
        mandates=given, mandate_people=mandates.people_of(session, given),
        revokers=mandates.revokers_of(session, given),
        record_open=any(not field.startswith("reason-") for field in errors),
        today=date_limits.today(), errors=errors, summary=summary, typed=request.form)
    _audit_list(found, "counter.person")
    return page, status


@bp.get("/counter/people/<public_id>")
@require_role(Role.COUNTER_CLERK)
def person(public_id: str) -> ResponseReturnValue:
    return _person_page(_person_or_404(public_id))


def _service_or_refuse(code: str) -> PublishedService | ResponseReturnValue:
    service = get_service(request_session(), code, offered=True)
    if service is None:
        abort(404)
    if not allowed(Action.START_ON_BEHALF, ServiceTarget.of(service.content)):
        department = service.content["department"]
        return render_error(403, _(
            "Your counter window does not handle this service: %(service)s is handled by "
            "%(department)s. Nothing was started.", service=_pick(service.content["name"]),
            department=_pick(department.get("name") or {"zh": department["code"]})))
    return service


def _pick(text: dict[str, str]) -> str:
    return text.get(current_lang()) or text.get("zh") or next(iter(text.values()), "")


def seeded_answers(person: Person, form: Any) -> dict[str, Any]:
    """What the counter knows of the applicant, put in the form's questions for it: the ID
    number (or USCC) and the name. The service's prefill then reads the registers."""
    answers: dict[str, Any] = {}
    number_format = "cn-id-number" if person.kind == "person" else "cn-uscc"
    wanted = [(key, person.id_number) for key in library.OWNER_FIELDS
              if key in form.fields and form.fields[key][0].format == number_format]
    name_key = next((k for k in NAME_FIELDS[person.kind] if k in form.fields), None)
    if name_key is not None and wanted:
        wanted.append((name_key, person.name))
    for key, value in wanted:
        node = answers
        *parents, last = paths.split(key)
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return answers


def start_for(found: Person, service: PublishedService, *, clerk_id: int | None,
              user_id: int | None, mandate: Mandate | None = None) -> ResponseReturnValue:
    """A draft of ``service`` for ``found``, started by a clerk at the counter or by the
    person's agent online (``mandate``), with what is known of them filled in; then its first
    page."""
    code = service.code
    with request_transaction() as tx:
        service_row = effective_version(tx, "service", code)
        form_row = effective_version(tx, "form", service.content["form"])
        if service_row is None or form_row is None:
            abort(404)
        form = pinned(tx, saved_id(service_row), saved_id(form_row)).form
        draft = start_draft(tx, service_row, form_row, user_id=user_id, clerk_id=clerk_id,
                            person_id=found.id, answers=seeded_answers(found, form),
                            mandate_id=mandate.id if mandate else None)
        if mandate is not None:
            mandates.record_use(tx, mandate, service_code=code, draft_id=draft.id,
                                channel="counter" if clerk_id else "online",
                                actor_id=current_user.id, actor_name=current_user.username,
                                request_id=g.request_id)
        if clerk_id is not None:
            audit.record(tx, action="counter.start", object_type="draft", object_id=draft.id,
                         actor_id=current_user.id, actor_name=current_user.username,
                         after={"service": code, "person": found.public_id,
                                "mandate": mandate.public_id if mandate else None},
                         request_id=g.request_id)
        token = draft.token
    pinned_defs = pinned(request_session(), draft.service_version_id, draft.form_version_id)
    connector_views.prefill(draft, pinned_defs, starting=True)
    if pinned_defs.form.sections:
        return redirect(url_for("apply.tasks", token=token), code=303)
    return redirect(url_for("apply.page", token=token, page_id=pinned_defs.form.pages[0].id),
                    code=303)


def mandate_refusal(mandate: Mandate, service: PublishedService, *,
                    channel: str) -> ResponseReturnValue | None:
    """The 403 page when ``mandate`` does not allow applying for ``service`` now (ended,
    revoked, not naming it); the refused use is audited and nothing is started."""
    try:
        mandates.check_use(mandate, service.code, _pick(service.content["name"]),
                           date_limits.today())
    except mandates.MandateRefused as exc:
        with request_transaction() as tx:
            mandates.record_refusal(tx, mandate, exc, service_code=service.code,
                                    channel=channel, actor_id=current_user.id,
                                    actor_name=current_user.username, request_id=g.request_id)
        return render_error(403, _(exc.message, **exc.params))
    return None


def revoke_mandate(mandate: Mandate, principal: Person | None, *, via: str,
                   page: Any) -> ResponseReturnValue | None:
    """Revoke ``mandate`` of ``principal`` with the posted reason, audited; None when done.
    Refused: no reason, the form again with the message (``page(errors)``, 422); another's
    mandate 403; revoked already or ended 409; each with its message, nothing changed."""
    reason = request.form.get("reason", "")
    try:
        with request_transaction() as tx:
            row = tx.get(Mandate, mandate.id)
            if row is None:
                abort(404)
            if principal is None:
                raise mandates.MandateRefused("not_theirs", mandates.MSG_NOT_THEIRS)
            mandates.revoke(tx, row, principal=principal, reason=reason, via=via,
                            actor_id=current_user.id, actor_name=current_user.username,
                            now=utcnow(), today=date_limits.today(), request_id=g.request_id)
    except mandates.MandateRefused as exc:  # rolled back: nothing changed
        message = _(exc.message, **exc.params)
        if exc.code == "reason":
            return page({f"reason-{mandate.public_id}": message})
        return render_error(403 if exc.code == "not_theirs" else 409, message)
    return None


@bp.post("/counter/people/<public_id>/services/<code>/start")
@require_role(Role.COUNTER_CLERK)
def start(public_id: str, code: str) -> ResponseReturnValue:
    """Start a service for the person; with ``mandate``, brought by their agent (代办)."""
    found = _person_or_404(public_id)
    service = _service_or_refuse(code)
    if not isinstance(service, PublishedService):
        return service
    mandate = None
    if request.form.get("mandate"):
        mandate = mandates.by_public_id(request_session(), request.form["mandate"])
        if mandate is None or mandate.principal_id != found.id:
            abort(404)
        refused = mandate_refusal(mandate, service, channel="counter")
        if refused is not None:
            return refused
    return start_for(found, service, clerk_id=current_user.id, user_id=None, mandate=mandate)


# --- mandates (代办) ---------------------------------------------------------------------------

@bp.post("/counter/people/<public_id>/mandates")
@require_role(Role.COUNTER_CLERK)
def record_mandate(public_id: str) -> ResponseReturnValue:
    """Record a mandate the person gives an agent: the services, the end date and the signed
    power of attorney, scanned in (level B: the clerk holds the original)."""
    found = _person_or_404(public_id)
    session = request_session()
    offered = [s.code for s in current_services(session, offered=True)]
    form = request.form
    errors: dict[str, str] = {}
    agent_name = " ".join(form.get("agent_name", "").split())
    try:
        number, chosen, ends = mandates.check_request(
            found, form.get("agent_number", ""), form.getlist("services"), offered,
            form.get("expires_on", ""), date_limits.today())
    except people.PersonRefused as exc:
        errors[exc.field] = _(exc.message)
        number, chosen, ends = "", [], None
    agent = people.by_number(session, number) if number else None
    if number and agent is None and not agent_name:
        errors["agent_name"] = _("Enter the agent's name as it is on their papers")
    scan: tuple[bytes, str, str] | None = None
    try:
        scan = _scan("mandate")
    except uploads.UploadRejected as exc:
        errors["file-mandate"] = exc.render(_, str(get_locale() or "zh_CN"))
    types = library.catalogue(session)
    if errors or scan is None or ends is None or mandates.EVIDENCE_TYPE not in types:
        return _person_page(found, errors=errors, status=422)
    store = materials.storage()
    try:
        if store is None:
            raise library.MaterialStorageFailed("no storage")
        stored = library.put_bytes(store, scan[0], content_type=scan[1], name=scan[2])
    except library.MaterialStorageFailed:
        return render_error(503, _("The material storage is not answering. Try again in a "
                                   "few minutes."))
    clerk_id, clerk_name = _clerk()
    with request_transaction() as tx:
        agent = people.by_number(tx, number) or people.create(
            tx, kind="person", number=number, name=agent_name, clerk_id=clerk_id,
            clerk_name=clerk_name, request_id=g.request_id)
        evidence = library.add_material(
            tx, owner=found.id_number, type_code=mandates.EVIDENCE_TYPE, types=types,
            storage=store.id, stored=stored, original_name=scan[2], source="uploaded",
            trust_level="B", today=date_limits.today(), expires_on=ends, created_by=clerk_id)
        principal = tx.get(Person, found.id)
        if principal is None:
            abort(404)
        mandates.record(tx, principal=principal, agent=agent, services=chosen,
                        expires_on=ends, evidence=evidence, clerk_id=clerk_id,
                        clerk_name=clerk_name, request_id=g.request_id)
    return redirect(url_for("counter.person", public_id=public_id, _anchor="mandates"),
                    code=303)


@bp.post("/counter/people/<public_id>/mandates/<mandate_id>/revoke")
@require_role(Role.COUNTER_CLERK)
def revoke(public_id: str, mandate_id: str) -> ResponseReturnValue:
    """Revoke a mandate the person gave, before its end date, with the reason they give."""
    found = _person_or_404(public_id)
    mandate = mandates.by_public_id(request_session(), mandate_id)
    if mandate is None:
        abort(404)
    refused = revoke_mandate(mandate, found, via="counter", page=lambda errors: _person_page(
        found, errors=errors, status=422))
    if refused is not None:
        return refused
    return redirect(url_for("counter.person", public_id=public_id, _anchor="mandates"),
                    code=303)


# --- the materials check ----------------------------------------------------------------------

def _clerk_draft(found: Person, code: str) -> Draft | None:
    """The open draft a clerk fills in for this person and service (the latest), if any."""
    return next((d for d in people.open_drafts(request_session(), found)
                 if d.service_code == code and d.clerk_id is not None), None)


def _checklist_page(found: Person, service: PublishedService, *,
                    errors: dict[str, str] | None = None, status: int = 200
                    ) -> ResponseReturnValue:
    session = request_session()
    owned = library.materials_of(session, found.id_number)
    rows = library.checklist(service.content, {}, {}, owned, date_limits.today())
    entries = service.content.get("materials") or []
    types = {entry["code"]: entry.get("type") for entry in entries}
    # Materials a clerk's draft may go without (容缺): those the form asks for.
    deferrable = {entry["code"] for entry in entries if entry.get("form_field")}
    draft = _clerk_draft(found, service.code)
    errors = errors or {}
    summary = [{"text": text, "href": f"#{code}" if code.startswith("defer-") else f"#file-{code}"}
               for code, text in errors.items()]
    return render_template("counter/checklist.html", person=found, service=service.content,
                           rows=rows, types=types, errors=errors, summary=summary,
                           deferrable=deferrable, draft=draft,
                           deferred=set(draft.deferred_materials) if draft else set(),
                           trust=library.TRUST_MEANING), status


@bp.get("/counter/people/<public_id>/services/<code>/materials")
@require_role(Role.COUNTER_CLERK)
def checklist(public_id: str, code: str) -> ResponseReturnValue:
    found = _person_or_404(public_id)
    service = _service_or_refuse(code)
    if not isinstance(service, PublishedService):
        return service
    page = _checklist_page(found, service)
    _audit_list(found, "counter.checklist")
    return page


def _scan(item: str) -> tuple[bytes, str, str]:
    """The scanned file posted for ``item``: its bytes, mime type and a safe display name, or
    :class:`uploads.UploadRejected` with the form's own words."""
    upload = request.files.get(f"file-{item}")
    if upload is None or not upload.filename:
        raise uploads.UploadRejected(uploads.MSG_SELECT, "missing")
    data = upload.stream.read(SCAN_MAX_BYTES + 1)
    if not data:
        raise uploads.UploadRejected(uploads.MSG_EMPTY, "empty")
    policy = uploads.UploadPolicy(SCAN_KINDS, SCAN_MAX_BYTES)
    if len(data) > SCAN_MAX_BYTES:
        raise policy.size_error()
    kind = uploads.sniff(data[:uploads.SNIFF_BYTES])
    if kind not in SCAN_KINDS:
        raise policy.type_error("type")
    return data, uploads.KINDS[kind].mime, uploads.display_name(upload.filename, kind)


@bp.post("/counter/people/<public_id>/services/<code>/materials/<item>")
@require_role(Role.COUNTER_CLERK)
def scan(public_id: str, code: str, item: str) -> ResponseReturnValue:
    """A paper material scanned in at the counter: level B when the clerk checked the original
    (the box ticked), else C; kept in the person's library for every later service."""
    found = _person_or_404(public_id)
    service = _service_or_refuse(code)
    if not isinstance(service, PublishedService):
        return service
    entry = next((e for e in service.content.get("materials") or [] if e["code"] == item), None)
    types = library.catalogue(request_session())
    if entry is None or entry.get("type") not in types:
        abort(404)
    try:
        data, mime, name = _scan(item)
    except uploads.UploadRejected as exc:
        return _checklist_page(found, service, errors={
            item: exc.render(_, str(get_locale() or "zh_CN"))}, status=422)
    store = materials.storage()
    if store is None:
        return render_error(503, _("The material storage is not answering. Try again in a "
                                   "few minutes."))
    try:
        stored = library.put_bytes(store, data, content_type=mime, name=name)
    except library.MaterialStorageFailed:
        return render_error(503, _("The material storage is not answering. Try again in a "
                                   "few minutes."))
    level = "B" if request.form.get("checked_original") == "yes" else "C"
    with request_transaction() as tx:
        material = library.add_material(
            tx, owner=found.id_number, type_code=entry["type"], types=types, storage=store.id,
            stored=stored, original_name=name, source="uploaded", trust_level=level,
            today=date_limits.today(), created_by=current_user.id)
        audit.record(tx, action="material.scanned", object_type="material",
                     object_id=material.public_id, actor_id=current_user.id,
                     actor_name=current_user.username,
                     after={"owner": found.id_number, "type": entry["type"],
                            "trust_level": level, "service": code},
                     request_id=g.request_id)
    return redirect(url_for("counter.checklist", public_id=public_id, code=code), code=303)


@bp.post("/counter/people/<public_id>/services/<code>/materials/<item>/defer")
@require_role(Role.COUNTER_CLERK)
def defer(public_id: str, code: str, item: str) -> ResponseReturnValue:
    """容缺 at the materials check: the applicant brings ``item`` later, so the clerk's draft of
    this service may be sent without it (``defer=no`` takes the mark back). The clerk names it
    again in the 容缺受理 of the intake task; refused for a person on the credit bar list."""
    found = _person_or_404(public_id)
    service = _service_or_refuse(code)
    if not isinstance(service, PublishedService):
        return service
    entry = next((e for e in service.content.get("materials") or [] if e["code"] == item), None)
    if entry is None or not entry.get("form_field"):
        abort(404)
    on = request.form.get("defer", "yes") != "no"
    draft = _clerk_draft(found, code)
    if draft is None:
        return _checklist_page(found, service, errors={f"defer-{item}": _(
            "Start the service for the applicant first: the mark belongs to the application "
            "being filled in")}, status=422)
    bar = counter_intake.bar_of_number(request_session(), found.id_number)
    if on and bar is not None:
        return _checklist_page(found, service, errors={f"defer-{item}": _(
            "The applicant is on the credit bar list (%(reason)s): accepting on a commitment "
            "or with missing materials is not allowed", reason=bar.reason)}, status=422)
    chosen = [c for c in draft.deferred_materials if c != item] + ([item] if on else [])
    if chosen != list(draft.deferred_materials):
        with request_transaction() as tx:
            draft.deferred_materials = chosen
            tx.add(draft)
            audit.record(tx, action="counter.material_deferred" if on
                         else "counter.material_undeferred", object_type="draft",
                         object_id=draft.id, actor_id=current_user.id,
                         actor_name=current_user.username,
                         after={"person": found.public_id, "service": code, "material": item,
                                "deferred": chosen}, request_id=g.request_id)
    return redirect(url_for("counter.checklist", public_id=public_id, code=code,
                            _anchor=f"defer-{item}"), code=303)
