"""Service workspaces and their working copies: open, save with an optimistic lock, undo and
redo, check against what is published (docs/console.md, the contract of issue 14).

Every function takes an SQLModel session and leaves the commit to the caller; every change is
audited in that same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from .. import audit
from ..accounts import roles_of
from ..definitions.loader import CALENDAR_DIR, DEPARTMENTS_FILE, DefinitionSet, load_directory
from ..definitions.material_types import CATALOGUE_CODE as MATERIALS_CODE
from ..definitions.material_types import CATALOGUE_FILE as MATERIALS_FILE
from ..definitions.material_types import CATALOGUE_KIND as MATERIALS_KIND
from ..definitions.problems import Problem
from ..definitions.publish import content_hash, current_version, rules_range_problems
from ..definitions.tree import MemoryTree, ParsedTexts
from ..i18n import N_
from ..models import (
    DefinitionVersion,
    Role,
    ServiceDraft,
    ServiceWorkspace,
    User,
    saved_id,
    utcnow,
)
from ..policy import Actor, DepartmentTree, holds
from .layout import (
    CASES_DIR,
    SERVICE_CODE_PATTERN,
    case_path,
    is_case_of,
    named_files,
    parse,
    path_of,
    render_version,
)

STACK_LIMIT = 100  # undo and redo snapshots kept per working copy
PARSED = ParsedTexts()  # the files read by earlier checks, by text (definitions/tree.py)
RESERVED_CODES = frozenset({"departments"})  # file names the loader reads as something else
# The checkout (tongban.PROJECT_ROOT, which this module cannot import: a cycle through the app).
REPOSITORY = Path(__file__).resolve().parents[3]


class WorkspaceRefused(ValueError):
    """A refused change, nothing of it stored. ``message % params`` is the English text; the
    web layer shows ``message`` translated."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


class StaleDraft(Exception):
    """Another save came first: the working copy is at ``current_revision`` now."""

    def __init__(self, current_revision: int) -> None:
        self.current_revision = current_revision
        super().__init__(f"the working copy is at revision {current_revision} now")


def get_workspace(session: Session, code: str) -> ServiceWorkspace | None:
    return session.scalars(select(ServiceWorkspace)
                           .where(col(ServiceWorkspace.code) == code)).first()


def get_draft(session: Session, code: str) -> ServiceDraft | None:
    return session.scalars(
        select(ServiceDraft).join(ServiceWorkspace,
                                  col(ServiceWorkspace.id) == col(ServiceDraft.workspace_id))
        .where(col(ServiceWorkspace.code) == code)).first()


def workspace_of(session: Session, draft: ServiceDraft) -> ServiceWorkspace:
    workspace = session.get(ServiceWorkspace, draft.workspace_id)
    assert workspace is not None  # a foreign key
    return workspace


def live_versions(session: Session, code: str) -> dict[str, DefinitionVersion]:
    """path -> the latest published version of the service file and of each file it names."""
    service = current_version(session, "service", code)
    if service is None:
        return {}
    found = {path_of("service", code): service}
    for kind in ("rules", "form", "flow"):
        name = service.content.get(kind)
        if isinstance(name, str):
            row = current_version(session, kind, name)
            if row is not None:
                found[path_of(kind, name)] = row
    return found


def live_files(session: Session, code: str) -> dict[str, str]:
    return {path: render_version(row) for path, row in live_versions(session, code).items()}


def ensure_workspace(session: Session, code: str, user: User) -> ServiceWorkspace:
    workspace = get_workspace(session, code)
    if workspace is not None:
        return workspace
    service = current_version(session, "service", code)
    if service is None:
        raise WorkspaceRefused(N_('There is no service "%(code)s".'), code=code)
    workspace = ServiceWorkspace(code=code, department_code=service.content["department"]["code"],
                                 owner_id=user.id, status="live")
    session.add(workspace)
    session.flush()
    return workspace


def open_draft(session: Session, code: str, user: User) -> ServiceDraft:
    """The service's working copy, made from its live versions when it has none."""
    workspace = ensure_workspace(session, code, user)
    draft = session.scalars(select(ServiceDraft)
                            .where(col(ServiceDraft.workspace_id) == workspace.id)).first()
    if draft is not None:
        return draft
    versions = live_versions(session, code)
    files = {path: render_version(row) for path, row in versions.items()}
    cases = repository_cases(code)
    draft = ServiceDraft(workspace_id=saved_id(workspace), files={**files, **cases},
                         base_versions={**{path: row.version for path, row in versions.items()},
                                        **dict.fromkeys(cases)},
                         updated_by=user.id)
    session.add(draft)
    session.flush()
    audit.record(session, action="workspace.open", object_type="service_workspace",
                 object_id=code, actor_id=user.id, actor_name=user.username,
                 after={"revision": draft.revision, "files": sorted(draft.files)})
    return draft


def repository_cases(code: str) -> dict[str, str]:
    """The test cases the repository ships for a service (workflow_definitions/tests/<code>/),
    brought into its working copy when that is first opened: cases are never published."""
    folder = REPOSITORY / CASES_DIR / code
    found = {}
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        path = case_path(code, file.stem)
        if is_case_of(path, code):
            found[path] = file.read_text(encoding="utf-8")
    return found


def set_status(session: Session, code: str, user: User, *, archived: bool,
               request_id: str = "") -> ServiceWorkspace:
    """Archive a service (no longer offered to new applicants; applications in progress go
    on), or bring it back: live again when it was ever published, else a draft."""
    workspace = ensure_workspace(session, code, user)
    before = workspace.status
    if archived:
        workspace.status = "archived"
    elif before == "archived":
        published = current_version(session, "service", code) is not None
        workspace.status = "live" if published else "draft"
    if workspace.status != before:
        workspace.updated_at = utcnow()
        session.add(workspace)
        audit.record(session, action="workspace.archive" if archived else "workspace.restore",
                     object_type="service_workspace", object_id=code, actor_id=user.id,
                     actor_name=user.username, request_id=request_id,
                     before={"status": before}, after={"status": workspace.status})
    return workspace


def check_code(session: Session, code: str) -> None:
    """A new service's code: well formed and not used by a service, published or not."""
    if not re.fullmatch(SERVICE_CODE_PATTERN, code) or code in RESERVED_CODES:
        raise WorkspaceRefused(N_("A service code is 3 to 64 lower-case letters, digits and "
                                  "hyphens, starting with a letter (for example "
                                  "residence-permit)."))
    if get_workspace(session, code) is not None \
            or current_version(session, "service", code) is not None:
        raise WorkspaceRefused(N_('The service code "%(code)s" is already used.'), code=code)


def create_service(session: Session, code: str, department_code: str, files: Mapping[str, str],
                   user: User, *, source: str) -> ServiceDraft:
    """A new service in draft: a workspace and a working copy holding ``files`` (a template's or
    a copied service's). ``source`` says which, for the audit trail."""
    check_code(session, code)
    allowed = named_files(code, files.get(path_of("service", code)))
    stray = sorted(path for path in set(files) - set(allowed) if not is_case_of(path, code))
    if stray:
        raise WorkspaceRefused(N_('"%(path)s" is not one of the files of service "%(code)s".'),
                               path=stray[0], code=code)
    workspace = ServiceWorkspace(code=code, department_code=department_code, owner_id=user.id,
                                 status="draft")
    session.add(workspace)
    session.flush()
    draft = ServiceDraft(workspace_id=saved_id(workspace), files=dict(files),
                         base_versions=dict.fromkeys(files), updated_by=user.id)
    session.add(draft)
    session.flush()
    audit.record(session, action="workspace.create", object_type="service_workspace",
                 object_id=code, actor_id=user.id, actor_name=user.username,
                 after={"department": department_code, "source": source,
                        "files": sorted(files)})
    return draft


def allowed_paths(code: str, files: Mapping[str, str]) -> set[str]:
    """The paths a working copy may hold: the service file, the files its text names, and the
    files it already holds (a form renamed in the service keeps its old file until publish).
    Any test case path of the service is allowed too (see :func:`may_hold`)."""
    return set(named_files(code, files.get(path_of("service", code)))) | set(files)


def may_hold(code: str, files: Mapping[str, str], path: str) -> bool:
    return path in allowed_paths(code, files) or is_case_of(path, code)


Delta = dict[str, str | None]  # path -> its text then, None where the file was not there


def _delta(target: Mapping[str, str], current: Mapping[str, str]) -> Delta:
    """What turns ``current`` back into ``target``: only the files that differ, so a stack of
    100 steps on a large form holds the form once per step that changed it."""
    return {path: target.get(path) for path in sorted(set(target) | set(current))
            if target.get(path) != current.get(path)}


def _apply(files: Mapping[str, str], delta: Delta) -> dict[str, str]:
    changed = {**files, **delta}
    return {path: text for path, text in changed.items() if text is not None}


def _push(stack: list[Delta], target: Mapping[str, str],
          current: Mapping[str, str]) -> list[Delta]:
    return [*stack, _delta(target, current)][-STACK_LIMIT:]


def _replace_files(session: Session, draft: ServiceDraft, files: dict[str, str], *,
                   undo_stack: list[Delta], redo_stack: list[Delta], user: User) -> None:
    draft.files = files
    draft.undo_stack = undo_stack
    draft.redo_stack = redo_stack
    draft.updated_by = user.id
    draft.updated_at = utcnow()
    session.add(draft)
    workspace = workspace_of(session, draft)
    workspace.updated_at = draft.updated_at
    session.add(workspace)


def _lock(session: Session, draft: ServiceDraft, expected_revision: int) -> None:
    """Compare and bump the revision in one statement, so two concurrent saves cannot both
    pass (the second waits for the first's row lock, then finds the revision moved)."""
    session.flush()
    bumped = session.execute(
        update(ServiceDraft).where(col(ServiceDraft.id) == draft.id,
                                   col(ServiceDraft.revision) == expected_revision)
        .values(revision=expected_revision + 1)
        .execution_options(synchronize_session=False))
    session.refresh(draft)
    if bumped.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
        raise StaleDraft(draft.revision)


def save_file(session: Session, draft: ServiceDraft, path: str, text: str, *,
              expected_revision: int, user: User) -> ServiceDraft:
    """Write one file of the working copy. Raises StaleDraft when another save came first,
    WorkspaceRefused for a path that is not one of the service's files."""
    workspace = workspace_of(session, draft)
    if not may_hold(workspace.code, draft.files, path):
        raise WorkspaceRefused(N_('"%(path)s" is not one of the files of service "%(code)s".'),
                               path=path, code=workspace.code)
    _lock(session, draft, expected_revision)
    before = draft.files
    files = {**before, path: text}
    if path not in draft.base_versions:
        draft.base_versions = {**draft.base_versions, path: None}
    _replace_files(session, draft, files, undo_stack=_push(draft.undo_stack, before, files),
                   redo_stack=[], user=user)
    session.flush()
    audit.record(session, action="workspace.save", object_type="service_workspace",
                 object_id=workspace.code, actor_id=user.id, actor_name=user.username,
                 after={"path": path, "revision": draft.revision,
                        "hash": content_hash({"text": text})})
    return draft


def _step(session: Session, draft: ServiceDraft, user: User, *, back: bool) -> ServiceDraft:
    source = draft.undo_stack if back else draft.redo_stack
    if not source:
        raise WorkspaceRefused(N_("There is nothing to undo.") if back
                               else N_("There is nothing to redo."))
    workspace = workspace_of(session, draft)
    _lock(session, draft, draft.revision)
    target = _apply(draft.files, source[-1])
    if back:
        stacks = {"undo_stack": draft.undo_stack[:-1],
                  "redo_stack": _push(draft.redo_stack, draft.files, target)}
    else:
        stacks = {"undo_stack": _push(draft.undo_stack, draft.files, target),
                  "redo_stack": draft.redo_stack[:-1]}
    _replace_files(session, draft, target, user=user, **stacks)
    session.flush()
    audit.record(session, action="workspace.undo" if back else "workspace.redo",
                 object_type="service_workspace", object_id=workspace.code, actor_id=user.id,
                 actor_name=user.username, after={"revision": draft.revision})
    return draft


def undo(session: Session, draft: ServiceDraft, user: User) -> ServiceDraft:
    return _step(session, draft, user, back=True)


def redo(session: Session, draft: ServiceDraft, user: User) -> ServiceDraft:
    return _step(session, draft, user, back=False)


def replace_all(session: Session, draft: ServiceDraft, files: dict[str, str], *, user: User,
                action: str, details: dict[str, Any]) -> ServiceDraft:
    """Put a whole set of files in the working copy (a rollback, an import), the previous files
    kept on the undo stack."""
    workspace = workspace_of(session, draft)
    _lock(session, draft, draft.revision)
    draft.base_versions = {**dict.fromkeys(files), **{
        path: version for path, version in draft.base_versions.items() if path in files}}
    _replace_files(session, draft, files,
                   undo_stack=_push(draft.undo_stack, draft.files, files), redo_stack=[],
                   user=user)
    session.flush()
    audit.record(session, action=action, object_type="service_workspace",
                 object_id=workspace.code, actor_id=user.id, actor_name=user.username,
                 after={"revision": draft.revision, "files": sorted(files), **details})
    return draft


def is_platform_admin(session: Session, user: User) -> bool:
    return user.id is not None and user.is_active and holds(
        Actor.of(user.id, roles_of(session, user.id)), [Role.PLATFORM_ADMIN])


def can_edit(session: Session, user: User, code: str) -> bool:
    """A platform admin, or a department admin of the service's department or a parent."""
    if user.id is None or not user.is_active:
        return False
    if is_platform_admin(session, user):
        return True
    actor = Actor.of(user.id, roles_of(session, user.id))
    workspace = get_workspace(session, code)
    if workspace is not None:
        department = workspace.department_code
    else:
        service = current_version(session, "service", code)
        if service is None:
            return False
        department = service.content["department"]["code"]
    return holds(actor, [Role.DEPARTMENT_ADMIN], department, DepartmentTree.load(session))


# -- checking ---------------------------------------------------------------------------------

def _published_context(session: Session, draft_files: Mapping[str, str],
                       named: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """What the draft is checked against: the department catalogue, every calendar, and the
    published form, flow and rule set its service names but the draft does not hold."""
    files: dict[str, str] = {}
    catalogue = current_version(session, "departments", "departments")
    if catalogue is not None:
        files[DEPARTMENTS_FILE] = render_version(catalogue)
    material_types = current_version(session, MATERIALS_KIND, MATERIALS_CODE)
    if material_types is not None:
        files[MATERIALS_FILE] = render_version(material_types)
    calendar_codes = session.scalars(select(col(DefinitionVersion.code)).distinct()
                                     .where(col(DefinitionVersion.kind) == "calendar")).all()
    for calendar in calendar_codes:
        row = current_version(session, "calendar", calendar)
        if row is not None:
            files[f"{CALENDAR_DIR}/{calendar}.yaml"] = render_version(row)
    for path, (kind, name) in named.items():
        if path not in draft_files:
            row = current_version(session, kind, name)
            if row is not None:
                files[path] = render_version(row)
    return files


def load_files(session: Session, code: str,
               files: Mapping[str, str]) -> tuple[DefinitionSet, list[Problem]]:
    """A service's files loaded over what is published, and every problem of them."""
    named = named_files(code, files.get(path_of("service", code)))
    own = {path: text for path, text in files.items() if path in named}
    loaded = load_directory(MemoryTree({**_published_context(session, own, named), **own},
                                       parsed=PARSED))
    problems = list(loaded.problems)
    service_file = path_of("service", code)
    if service_file not in own:
        problems.append(Problem(service_file, 1, 1, "", f"the service file {service_file} is "
                                "missing"))
    else:
        data = parse(service_file, own[service_file])
        if isinstance(data, dict) and data.get("code") != code:
            problems.append(Problem(service_file, 1, 1, "/code",
                                    f'the service code must stay "{code}" (the file says '
                                    f'"{data.get("code")}")'))
    for path, (kind, name) in named.items():
        if kind == "rules" and path in own and name in loaded.rules:
            latest = current_version(session, "rules", name)
            rules = loaded.rules[name]
            if latest is None or latest.content_hash != content_hash(rules.content):
                problems.extend(rules_range_problems(session, name, rules.content, path,
                                                     rules.document))
    return loaded, problems


def load_draft(session: Session, draft: ServiceDraft) -> tuple[DefinitionSet, list[Problem]]:
    return load_files(session, workspace_of(session, draft).code, draft.files)


def check_draft(session: Session, draft: ServiceDraft) -> list[Problem]:
    """Every check `tongban defs check` runs, on the draft's files with what is published."""
    return load_draft(session, draft)[1]
