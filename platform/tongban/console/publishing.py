"""Publish a working copy whole, with an effective date and a comment; four-eyes approval;
version history and rollback as a new version (docs/console.md).

Publishing goes through :func:`tongban.definitions.publish`: every file of the service in one
transaction, nothing when any check fails, and applications already started keep the versions
they are pinned to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..definitions.loader import DefinitionSet
from ..definitions.problems import Problem
from ..definitions.publish import PublishResult, publish
from ..i18n import N_
from ..models import DefinitionVersion, PublishRequest, ServiceDraft, User, saved_id, utcnow
from .diff import FileDiff, diff_files
from .layout import kind_of, named_files, path_of, render
from .service_cases import CaseResult, run_cases
from .workspace import (
    WorkspaceRefused,
    ensure_workspace,
    get_draft,
    get_workspace,
    is_platform_admin,
    live_versions,
    load_files,
    open_draft,
    replace_all,
    workspace_of,
)

Marks = dict[str, int]  # path -> published version number


class ProblemsFound(Exception):
    """The files have problems; nothing was published."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); nothing was published")


class CasesFailed(Exception):
    """A test case of the service fails on the files to publish; nothing was published.
    ``failed`` holds each failing case's result (what differed)."""

    message = N_("%(count)s test case(s) of the service failed; nothing was published.")

    def __init__(self, failed: list[CaseResult]) -> None:
        self.failed = failed
        super().__init__(self.message % {"count": len(failed)})


class PublishConflict(Exception):
    """Someone published the service since the page was opened: ``changes`` is what they
    published (their live against the live the page showed), ``authors`` who."""

    def __init__(self, changes: list[FileDiff], authors: list[str]) -> None:
        self.changes = changes
        self.authors = authors
        super().__init__("the service was published by " + ", ".join(authors)
                         + " since the page was opened")


def live_marks(session: Session, code: str) -> Marks:
    return {path: row.version for path, row in live_versions(session, code).items()}


def marks_text(marks: Marks) -> str:
    """The marks as one form field: path=version,path=version."""
    return ",".join(f"{path}={version}" for path, version in sorted(marks.items()))


def parse_marks(text: str) -> Marks:
    marks: Marks = {}
    for part in filter(None, text.split(",")):
        path, _, version = part.rpartition("=")
        if kind_of(path) is None or not version.isdigit():
            raise WorkspaceRefused(N_("The page was incomplete; open it again."))
        marks[path] = int(version)
    return marks


def _version(session: Session, kind: str, code: str, version: int) -> DefinitionVersion | None:
    return session.scalars(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code) == code,
        col(DefinitionVersion.version) == version)).first()


def files_at(session: Session, marks: Marks) -> dict[str, str]:
    """The text of each file at the version its mark names."""
    files = {}
    for path, version in marks.items():
        kind, code = kind_of(path) or ("", "")
        row = _version(session, kind, code, version)
        if row is not None:
            files[path] = render(kind, row.content)
    return files


def _check_unchanged_since(session: Session, code: str, seen: Marks) -> None:
    """PublishConflict unless live is still what ``seen`` says. The workspace row is locked
    first, so of two publishes at once the second waits and then sees the first's versions."""
    workspace = get_workspace(session, code)
    if workspace is not None:
        session.refresh(workspace, with_for_update=True)
    now = live_marks(session, code)
    if now == seen:
        return
    authors = sorted({row.author for path, row in live_versions(session, code).items()
                      if seen.get(path) != row.version})
    raise PublishConflict(diff_files(files_at(session, seen), files_at(session, now)), authors)


def _own_definitions(loaded: DefinitionSet, files: dict[str, str]) -> DefinitionSet:
    """Of everything loaded (the service's files and what they were checked against), only the
    service's own files: the catalogue and calendars are published elsewhere."""
    subset = DefinitionSet()
    groups = {"service": subset.services, "form": subset.forms, "flow": subset.flows,
              "rules": subset.rules}
    sources = {"service": loaded.services, "form": loaded.forms, "flow": loaded.flows,
               "rules": loaded.rules}
    for path in files:
        kind, code = kind_of(path) or ("", "")
        if kind in sources and code in sources[kind]:
            groups[kind][code] = sources[kind][code]
    return subset


def publish_files(session: Session, code: str, files: dict[str, str], user: User, *,
                  comment: str, effective_from: datetime | None, request_id: str,
                  action: str, cases: bool = True) -> PublishResult:
    """Check the service's files against what is published, run its test cases among
    ``files`` (unless ``cases`` is False: a rollback to a state that was live), and publish
    them, all or none."""
    workspace = ensure_workspace(session, code, user)
    if workspace.status == "archived":
        raise WorkspaceRefused(N_('Service "%(code)s" is archived; nothing was published.'),
                               code=code)
    own = {path: text for path, text in files.items()
           if path in named_files(code, files.get(path_of("service", code)))}
    loaded, problems = load_files(session, code, own)
    if problems:
        raise ProblemsFound(problems)
    if cases:
        require_passing_cases(loaded, code, files)
    result = publish(session, _own_definitions(loaded, own), author=user.username,
                     comment=comment, actor_id=user.id, request_id=request_id,
                     effective_from=effective_from)
    workspace.status = "live"
    workspace.updated_at = utcnow()
    session.add(workspace)
    draft = get_draft(session, code)
    if draft is not None:
        marks = live_marks(session, code)
        draft.base_versions = {path: marks.get(path) for path in draft.files}
        session.add(draft)
    audit.record(session, action=action, object_type="service_workspace", object_id=code,
                 actor_id=user.id, actor_name=user.username, request_id=request_id,
                 after={"created": [f"{v.kind}:{v.code}@{v.version}" for v in result.created],
                        "comment": comment,
                        "effective_from": effective_from.isoformat() if effective_from
                        else None})
    return result


def require_passing_cases(loaded: DefinitionSet, code: str, files: dict[str, str]) -> None:
    """CasesFailed unless every test case among ``files`` passes on ``loaded``."""
    failed = [result for result in run_cases(loaded, [], code, files) if not result.passed]
    if failed:
        raise CasesFailed(failed)


def publish_draft(session: Session, draft: ServiceDraft, user: User, *, seen: Marks,
                  comment: str, effective_from: datetime | None = None,
                  request_id: str = "") -> PublishResult:
    """Publish the working copy. ``seen`` is the live versions the publisher's page showed:
    PublishConflict when someone published the service since. Refused on a four-eyes service
    (see :func:`request_publish`)."""
    workspace = workspace_of(session, draft)
    if workspace.four_eyes:
        raise WorkspaceRefused(N_("This service needs a second administrator to approve each "
                                  "publish: ask for approval instead."))
    _check_unchanged_since(session, workspace.code, seen)
    return publish_files(session, workspace.code, draft.files, user, comment=comment,
                         effective_from=effective_from, request_id=request_id,
                         action="workspace.publish")


# -- four-eyes --------------------------------------------------------------------------------

def pending_request(session: Session, workspace_id: int) -> PublishRequest | None:
    return session.scalars(select(PublishRequest).where(
        col(PublishRequest.workspace_id) == workspace_id,
        col(PublishRequest.status) == "pending")).first()


def request_publish(session: Session, draft: ServiceDraft, user: User, *, seen: Marks,
                    comment: str, effective_from: datetime | None = None,
                    request_id: str = "") -> PublishRequest:
    """Ask another administrator to publish exactly this revision of the working copy. The
    files must pass the checks now; a pending request of the service is replaced."""
    workspace = workspace_of(session, draft)
    _check_unchanged_since(session, workspace.code, seen)
    loaded, problems = load_files(session, workspace.code, draft.files)
    if problems:
        raise ProblemsFound(problems)
    require_passing_cases(loaded, workspace.code, draft.files)
    earlier = pending_request(session, saved_id(workspace))
    if earlier is not None:
        earlier.status = "withdrawn"
        earlier.decided_by, earlier.decided_at = user.id, utcnow()
        session.add(earlier)
    request = PublishRequest(workspace_id=saved_id(workspace), revision=draft.revision,
                             live_versions=dict(seen), effective_from=effective_from,
                             comment=comment, requested_by=saved_id(user))
    session.add(request)
    session.flush()
    audit.record(session, action="workspace.publish_requested", object_type="service_workspace",
                 object_id=workspace.code, actor_id=user.id, actor_name=user.username,
                 request_id=request_id,
                 after={"request": request.id, "revision": draft.revision, "comment": comment})
    return request


def approve(session: Session, draft: ServiceDraft, user: User, *, request_id: str = "",
            ) -> PublishResult:
    """Publish the pending request of the service as its requester asked, by another
    administrator than the requester and the working copy's last editor."""
    workspace = workspace_of(session, draft)
    pending = pending_request(session, saved_id(workspace))
    if pending is None:
        raise WorkspaceRefused(N_("There is no publish waiting for approval."))
    if user.id in (pending.requested_by, draft.updated_by):
        raise WorkspaceRefused(N_("You edited this service or asked for this publish: another "
                                  "administrator must approve it."))
    if pending.revision != draft.revision:
        raise WorkspaceRefused(N_("The working copy changed after the approval was asked for; "
                                  "its editor must ask again."))
    _check_unchanged_since(session, workspace.code, dict(pending.live_versions))
    result = publish_files(session, workspace.code, draft.files, user, comment=pending.comment,
                           effective_from=pending.effective_from, request_id=request_id,
                           action="workspace.publish_approved")
    pending.status, pending.decided_by, pending.decided_at = "approved", user.id, utcnow()
    session.add(pending)
    return result


def set_four_eyes(session: Session, code: str, on: bool, user: User,
                  request_id: str = "") -> None:
    """Any administrator of the service turns four-eyes on; only a platform administrator
    turns it off (else an editor could turn it off to publish alone)."""
    workspace = ensure_workspace(session, code, user)
    if workspace.four_eyes == on:
        return
    if not on and not is_platform_admin(session, user):
        raise WorkspaceRefused(N_("Only a platform administrator can turn four-eyes off."))
    workspace.four_eyes = on
    session.add(workspace)
    audit.record(session, action="workspace.four_eyes", object_type="service_workspace",
                 object_id=code, actor_id=user.id, actor_name=user.username,
                 request_id=request_id, after={"four_eyes": on})


# -- history and rollback ---------------------------------------------------------------------

@dataclass
class Snapshot:
    """The service as it was live after one publication: its files' versions."""

    id: int  # the definition version whose publication made this state
    at: datetime
    author: str
    comment: str
    versions: dict[str, DefinitionVersion] = field(default_factory=dict)
    effective_from: datetime | None = None

    @property
    def marks(self) -> Marks:
        return {path: row.version for path, row in self.versions.items()}


def _all_versions(session: Session, kind: str, codes: set[str]) -> list[DefinitionVersion]:
    if not codes:
        return []
    return list(session.scalars(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code).in_(sorted(codes)))))


def history(session: Session, code: str) -> list[Snapshot]:
    """Every state the service has been live in, newest first: a new one each time its
    service file or a file it named got a version."""
    services = _all_versions(session, "service", {code})
    named: dict[str, set[str]] = {"form": set(), "flow": set(), "rules": set()}
    for row in services:
        for kind, codes in named.items():
            if isinstance(row.content.get(kind), str):
                codes.add(row.content[kind])
    events = sorted([*services, *(row for kind, codes in named.items()
                                  for row in _all_versions(session, kind, codes))],
                    key=lambda row: (row.created_at, saved_id(row)))
    latest: dict[tuple[str, str], DefinitionVersion] = {}
    snapshots: list[Snapshot] = []
    for row in events:
        latest[(row.kind, row.code)] = row
        service = latest.get(("service", code))
        if service is None:
            continue
        versions = {path_of("service", code): service}
        for kind in named:
            name = service.content.get(kind)
            if isinstance(name, str) and (kind, name) in latest:
                versions[path_of(kind, name)] = latest[(kind, name)]
        marks = {path: v.version for path, v in versions.items()}
        if snapshots and snapshots[-1].marks == marks:
            continue
        if snapshots and snapshots[-1].at == row.created_at \
                and snapshots[-1].author == row.author:
            snapshots.pop()  # one publication of several files (one instant): one state
        snapshots.append(Snapshot(saved_id(row), row.created_at, row.author, row.comment,
                                  versions, row.effective_from))
    return snapshots[::-1]


def rollback(session: Session, code: str, snapshot_id: int, user: User, *, comment: str,
             request_id: str = "") -> PublishResult | None:
    """Publish an earlier state of the service again, as new versions: nothing is lost, and
    the working copy is kept as it is. On a four-eyes service the earlier state goes into the
    working copy instead (the copy before stays on the undo stack), to be approved like any
    publish; None then."""
    found = next((s for s in history(session, code) if s.id == snapshot_id), None)
    if found is None:
        other = session.get(DefinitionVersion, snapshot_id)
        if other is None:
            raise WorkspaceRefused(N_('There is no version %(id)s; nothing was rolled back.'),
                                   id=snapshot_id)
        raise WorkspaceRefused(N_('That is version %(version)s of "%(other)s", not a version '
                                  'of service "%(code)s"; nothing was rolled back.'),
                               version=other.version, other=other.code, code=code)
    files = {path: render(row.kind, row.content) for path, row in found.versions.items()}
    if ensure_workspace(session, code, user).four_eyes:
        replace_all(session, open_draft(session, code, user), files, user=user,
                    action="workspace.restore_state", details={"state": snapshot_id})
        return None
    note = comment or f"rollback to the state of {found.at:%Y-%m-%d %H:%M}"
    return publish_files(session, code, files, user, comment=note, effective_from=None,
                         request_id=request_id, action="workspace.rollback", cases=False)

