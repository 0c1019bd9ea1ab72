"""A service as a zip: export then import gives identical definitions; bad zips are refused
with their reason and change nothing."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col

from tongban.console import archive
from tongban.console import workspace as ws
from tongban.console.layout import path_of
from tongban.models import User

SERVICE = "household-transfer"
SERVICE_FILE = path_of("service", SERVICE)


def user(session: Session, username: str) -> User:
    found: User = session.scalars(select(User).where(col(User.username) == username)).one()
    return found


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as made:
        for name, data in members.items():
            made.writestr(name, data)
    return out.getvalue()


def test_export_then_import_gives_identical_definitions(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    live = ws.live_files(session, SERVICE)
    exported = archive.export_zip(live)
    assert sorted(zipfile.ZipFile(io.BytesIO(exported)).namelist()) == sorted(live)
    assert archive.export_zip(live) == exported  # the same files make the same bytes
    draft = archive.import_zip(session, SERVICE, exported, admin)
    session.commit()
    assert draft.files == live
    loaded, problems = ws.load_draft(session, draft)
    assert problems == []
    for path, row in ws.live_versions(session, SERVICE).items():
        kind, code = row.kind, row.code
        own = {"service": loaded.services, "form": loaded.forms, "flow": loaded.flows,
               "rules": loaded.rules}[kind]
        assert own[code].content == row.content, path


def test_a_zip_in_one_top_folder_is_read_as_the_repository_layout(
        demo: Flask, session: Session) -> None:
    live = ws.live_files(session, SERVICE)
    wrapped = zip_of({f"{SERVICE}/{path}": text.encode() for path, text in live.items()})
    assert archive.read_zip(wrapped, SERVICE) == live


def test_an_imported_zip_is_checked_not_published(demo: Flask, session: Session) -> None:
    admin = user(session, "admin")
    live = ws.live_files(session, SERVICE)
    broken = {**live, SERVICE_FILE: live[SERVICE_FILE].replace("statutory_days: 20",
                                                               "statutory_days: many")}
    draft = archive.import_zip(session, SERVICE, zip_of(
        {path: text.encode() for path, text in broken.items()}), admin)
    assert [p.pointer for p in ws.check_draft(session, draft)] == ["/guide/statutory_days"]
    assert ws.live_files(session, SERVICE) == live


def _claiming(size: int) -> bytes:
    """A zip of one small member whose headers claim ``size`` bytes uncompressed."""
    data = bytearray(zip_of({SERVICE_FILE: b"code: x\n"}))
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, size)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def _lying() -> bytes:
    """A member of 6 MB whose headers claim 100 bytes."""
    data = bytearray(zip_of({SERVICE_FILE: b"#" * (6 * 1024 * 1024)}))
    struct.pack_into("<I", data, data.find(b"PK\x03\x04") + 22, 100)
    struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 24, 100)
    return bytes(data)


BAD_ZIPS = [
    ("not a zip", lambda: b"hello", "The file is not a zip archive."),
    ("a path outside", lambda: zip_of({"../workflow_definitions/x.yaml": b"x"}),
     '"../workflow_definitions/x.yaml" is outside the service\'s folder; nothing was imported.'),
    ("an absolute path", lambda: zip_of({"/etc/passwd": b"x"}),
     '"/etc/passwd" is outside the service\'s folder; nothing was imported.'),
    ("a backslash", lambda: zip_of({"form_definitions\\..\\x.json": b"x"}),
     '"form_definitions\\..\\x.json" is outside the service\'s folder; nothing was imported.'),
    ("a 1 GB member", lambda: _claiming(1024 ** 3),
     f'"{SERVICE_FILE}" is larger than 5 MB uncompressed; nothing was imported.'),
    ("a header that lies", _lying,
     f'"{SERVICE_FILE}" in the zip is damaged or encrypted; nothing was imported.'),
    ("over 20 MB in all", lambda: zip_of({f"form_definitions/f{n}.json": b" " * (4 * 1024 * 1024)
                                          for n in range(6)}),
     "The zip holds more than 20 MB uncompressed; nothing was imported."),
    ("51 members", lambda: zip_of({f"form_definitions/f{n}.json": b"{}" for n in range(51)}),
     "The zip holds 51 files; at most 50 are accepted."),
    ("another file", lambda: zip_of({SERVICE_FILE: b"code: x", "README.md": b"x"}),
     f'"README.md" is not one of the files of service "{SERVICE}".'),
    ("not UTF-8", lambda: zip_of({SERVICE_FILE: "户口".encode("gbk")}),
     f'"{SERVICE_FILE}" is not UTF-8 text; nothing was imported.'),
    ("no service file", lambda: zip_of({"form_definitions/a.json": b"{}"}),
     f"The zip holds no service file {SERVICE_FILE}; nothing was imported."),
    ("a file the service does not name",
     lambda: zip_of({SERVICE_FILE: b"code: household-transfer\nform: a\n",
                     "form_definitions/b.json": b"{}"}),
     f'"form_definitions/b.json" is not one of the files of service "{SERVICE}".'),
]


@pytest.mark.parametrize(("case", "make", "message"), BAD_ZIPS, ids=[c[0] for c in BAD_ZIPS])
def test_a_bad_zip_is_refused_and_changes_nothing(demo: Flask, session: Session, case: str,
                                                  make: object, message: str) -> None:
    admin = user(session, "admin")
    draft = ws.open_draft(session, SERVICE, admin)
    session.commit()
    before = (dict(draft.files), draft.revision)
    assert callable(make)
    with pytest.raises(ws.WorkspaceRefused) as refused:
        archive.import_zip(session, SERVICE, make(), admin)
    assert str(refused.value) == message
    session.rollback()
    stored = ws.get_draft(session, SERVICE)
    assert stored is not None and (stored.files, stored.revision) == before
