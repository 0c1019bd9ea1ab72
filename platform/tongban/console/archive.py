"""A service as a zip of its files in the repository layout: export, and the guarded reading
of an uploaded zip (paths, member count and sizes checked from the headers and again while
reading, so a lying header or a zip bomb is refused before it costs memory)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath

from sqlmodel import Session

from ..i18n import N_
from ..models import ServiceDraft, User
from .layout import case_of, is_case_of, kind_of, named_files, path_of
from .workspace import WorkspaceRefused, open_draft, replace_all

MAX_MEMBERS = 50
MAX_MEMBER_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
_CHUNK = 64 * 1024
# Members written with the date of the Unix epoch's first representable zip time, so the same
# files always make the same bytes.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def export_zip(files: Mapping[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path].encode("utf-8"))
    return out.getvalue()


def _member_path(name: str) -> str | None:
    """The member's path inside its folder, None when it would leave it (absolute, "..",
    a drive or a backslash)."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") \
            or (len(name) > 1 and name[1] == ":"):
        return None
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") for part in parts):
        return None
    return "/".join(parts)


def _strip_folder(paths: list[str]) -> dict[str, str]:
    """member path -> repository path: a zip whose files all sit in one top folder (as an
    unpacked-and-repacked export does) is read as if they did not."""
    tops = {path.split("/", 1)[0] for path in paths}
    if len(tops) == 1 and all("/" in p for p in paths) \
            and not all(kind_of(p) or case_of(p) for p in paths):
        return {path: path.split("/", 1)[1] for path in paths}
    return {path: path for path in paths}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The member's bytes, stopping as soon as it passes its own limit or what is left of the
    total: the header's sizes are not trusted."""
    limit = min(MAX_MEMBER_BYTES, budget)
    chunks, size = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > MAX_MEMBER_BYTES:
                    raise WorkspaceRefused(N_('"%(path)s" is larger than 5 MB uncompressed; '
                                              "nothing was imported."), path=info.filename)
                if size > limit:
                    raise WorkspaceRefused(N_("The zip holds more than 20 MB uncompressed; "
                                              "nothing was imported."))
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
        raise WorkspaceRefused(N_('"%(path)s" in the zip is damaged or encrypted; nothing was '
                                  "imported."), path=info.filename) from None
    return b"".join(chunks)


def read_zip(data: bytes, code: str) -> dict[str, str]:
    """The service's files in an uploaded zip, or WorkspaceRefused naming what is wrong."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise WorkspaceRefused(N_("The file is not a zip archive.")) from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise WorkspaceRefused(N_("The zip holds %(count)s files; at most 50 are accepted."),
                                   count=len(infos))
        paths = []
        for info in infos:
            path = _member_path(info.filename)
            if path is None:
                raise WorkspaceRefused(N_('"%(path)s" is outside the service\'s folder; nothing '
                                          "was imported."), path=info.filename)
            if info.file_size > MAX_MEMBER_BYTES:
                raise WorkspaceRefused(N_('"%(path)s" is larger than 5 MB uncompressed; '
                                          "nothing was imported."), path=info.filename)
            paths.append(path)
        if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise WorkspaceRefused(N_("The zip holds more than 20 MB uncompressed; nothing was "
                                      "imported."))
        renamed = _strip_folder(paths)
        files: dict[str, str] = {}
        budget = MAX_TOTAL_BYTES
        for info, member_path in zip(infos, paths, strict=True):
            path = renamed[member_path]
            if kind_of(path) is None and not is_case_of(path, code):
                raise WorkspaceRefused(N_('"%(path)s" is not one of the files of service '
                                          '"%(code)s".'), path=path, code=code)
            if path in files:
                raise WorkspaceRefused(N_('"%(path)s" is in the zip twice; nothing was '
                                          "imported."), path=path)
            raw = _read_member(archive, info, budget)
            budget -= len(raw)
            try:
                files[path] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise WorkspaceRefused(N_('"%(path)s" is not UTF-8 text; nothing was '
                                          "imported."), path=path) from None
    if path_of("service", code) not in files:
        raise WorkspaceRefused(N_('The zip holds no service file %(path)s; nothing was '
                                  "imported."), path=path_of("service", code))
    return files


def import_zip(session: Session, code: str, data: bytes, user: User) -> ServiceDraft:
    """Put the zip's files in the service's working copy (checked afterwards like any edit,
    never published directly). Files the service file does not name are refused."""
    files = read_zip(data, code)
    named = named_files(code, files[path_of("service", code)])
    for path in sorted(files):
        if path not in named and not is_case_of(path, code):
            raise WorkspaceRefused(N_('"%(path)s" is not one of the files of service '
                                      '"%(code)s".'), path=path, code=code)
    draft = open_draft(session, code, user)
    return replace_all(session, draft, files, user=user, action="workspace.import",
                       details={"bytes": len(data)})
