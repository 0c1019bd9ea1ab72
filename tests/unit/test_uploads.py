"""Upload answers: the real type and size are checked, refusals leave nothing, names are safe."""

from __future__ import annotations

import ast
import hashlib
import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from werkzeug.datastructures import FileStorage

from tongban.forms import uploads
from tongban.forms.uploads import (
    CHUNK_BYTES,
    UploadPolicy,
    UploadRejected,
    display_name,
    format_size,
    open_stored,
    store_upload,
)
from tongban.i18n import CATALOGUE_ZH

MB = 1024 * 1024
DOCUMENTS = UploadPolicy(["pdf", "jpg", "png"], max_bytes=5 * MB)
PHOTOS = UploadPolicy(["jpeg", "png", "heic"], max_bytes=5 * MB)

PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(60)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(60)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(60)
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(60)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(60)
HEIF_MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + bytes(60)
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(60)

TYPE_MESSAGE = "The selected file must be a PDF, JPG or PNG"

PO_FILE = CATALOGUE_ZH


def upload(
    content: bytes, filename: str | None = "file.pdf", content_type: str = ""
) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename, content_type=content_type)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


class CountingStream(io.RawIOBase):
    """An endless stream of ``prefix`` then zeros that counts what was read from it."""

    def __init__(self, prefix: bytes, total: int) -> None:
        self.data = prefix
        self.total = total
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.total - self.consumed if size < 0 else min(size, self.total - self.consumed)
        start = self.consumed
        self.consumed += size
        chunk = self.data[start : start + size]
        return chunk + bytes(size - len(chunk))


# --------------------------------------------------------------------------- refusals

ONLY_PHOTOS = "The selected file must be a JPG, PNG or HEIC"
TOO_LARGE = "The selected file must be smaller than 5 MB"
EXE, TYPE = "executable", "type"

# The browser's Content-Type always claims the allowed type, to show it is never believed.
# fmt: off
BAD_INPUTS = [
    # (content, filename, claimed content type, policy, exact message, audit reason)
    pytest.param(b"", "empty.pdf", "application/pdf", DOCUMENTS,
                 "The selected file is empty", "empty", id="empty"),
    pytest.param(b"MZ\x90\x00\x03" + bytes(200), "receipt.pdf", "application/pdf", DOCUMENTS,
                 TYPE_MESSAGE, EXE, id="windows-exe-renamed-pdf"),
    pytest.param(b"\x7fELF\x02\x01\x01" + bytes(200), "scan.pdf", "application/pdf", DOCUMENTS,
                 TYPE_MESSAGE, EXE, id="linux-elf-renamed-pdf"),
    pytest.param(b"\xcf\xfa\xed\xfe" + bytes(200), "scan.png", "image/png", DOCUMENTS,
                 TYPE_MESSAGE, EXE, id="macos-mach-o-renamed-png"),
    pytest.param(b"#!/bin/sh\nrm -rf /\n", "id-card.jpg", "image/jpeg", DOCUMENTS,
                 TYPE_MESSAGE, EXE, id="shell-script-renamed-jpg"),
    pytest.param(b"<!doctype html><script>alert(1)</script>", "receipt.pdf", "application/pdf",
                 DOCUMENTS, TYPE_MESSAGE, TYPE, id="html-renamed-pdf"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                 "photo.png", "image/png", DOCUMENTS, TYPE_MESSAGE, TYPE, id="svg-with-script"),
    pytest.param(b"<?php system($_GET['c']); ?>", "photo.jpg", "image/jpeg", DOCUMENTS,
                 TYPE_MESSAGE, TYPE, id="php-renamed-jpg"),
    pytest.param(b" %PDF-1.7\n" + bytes(100), "late.pdf", "application/pdf", DOCUMENTS,
                 TYPE_MESSAGE, TYPE, id="pdf-signature-not-at-start"),
    pytest.param(b"PK\x03\x04\x14\x00" + bytes(100), "form.pdf", "application/pdf", DOCUMENTS,
                 TYPE_MESSAGE, TYPE, id="zip-renamed-pdf"),
    pytest.param(b"x", "one-byte.pdf", "application/pdf", DOCUMENTS,
                 TYPE_MESSAGE, TYPE, id="one-byte"),
    pytest.param(PDF, "scan.pdf", "image/jpeg", PHOTOS,
                 ONLY_PHOTOS, TYPE, id="pdf-where-only-photos-allowed"),
    pytest.param(AVIF, "photo.heic", "image/heic", PHOTOS,
                 ONLY_PHOTOS, TYPE, id="avif-is-not-heic"),
    pytest.param(PNG, "photo.jpg", "image/jpeg", UploadPolicy(["jpg"], 1000),
                 "The selected file must be a JPG", TYPE, id="one-allowed-type"),
    pytest.param(PDF + bytes(5 * MB + 1 - len(PDF)), "big.pdf", "application/pdf", DOCUMENTS,
                 TOO_LARGE, "too_large", id="limit-plus-one-byte"),
    pytest.param(PNG + bytes(600 * 1024), "big.png", "image/png", UploadPolicy(["png"], 500 * 1024),
                 "The selected file must be smaller than 500 KB", "too_large", id="limit-in-kb"),
    pytest.param(b"", "", "application/octet-stream", DOCUMENTS,
                 "Select a file", "missing", id="no-file-chosen"),
    pytest.param(PDF, None, "application/pdf", DOCUMENTS,
                 "Select a file", "missing", id="no-filename"),
]
# fmt: on


@pytest.mark.parametrize(
    ("content", "filename", "content_type", "policy", "message", "reason"), BAD_INPUTS
)
def test_bad_uploads_are_refused_with_the_exact_message_and_leave_nothing_on_disk(
    tmp_path, content, filename, content_type, policy, message, reason
):
    with pytest.raises(UploadRejected) as refused:
        store_upload(upload(content, filename, content_type), policy, tmp_path)

    assert str(refused.value) == message
    assert refused.value.reason == reason
    assert files_under(tmp_path) == []


def test_no_upload_at_all_asks_the_citizen_to_select_a_file(tmp_path):
    with pytest.raises(UploadRejected, match="^Select a file$"):
        store_upload(None, DOCUMENTS, tmp_path)


def test_an_oversized_upload_is_read_only_one_byte_past_the_limit(tmp_path):
    stream = CountingStream(PDF, total=50 * MB)
    storage = FileStorage(stream=stream, filename="huge.pdf")

    with pytest.raises(UploadRejected, match="smaller than 1 MB"):
        store_upload(storage, UploadPolicy(["pdf"], max_bytes=1 * MB), tmp_path)

    assert stream.consumed == 1 * MB + 1
    assert files_under(tmp_path) == []


def test_a_large_disallowed_file_is_refused_after_its_first_chunk(tmp_path):
    stream = CountingStream(b"MZ\x90\x00", total=4 * MB)

    with pytest.raises(UploadRejected) as refused:
        store_upload(FileStorage(stream=stream, filename="setup.pdf"), DOCUMENTS, tmp_path)

    assert refused.value.reason == "executable"
    assert stream.consumed == CHUNK_BYTES
    assert files_under(tmp_path) == []


# --------------------------------------------------------------------------- accepted files


@pytest.mark.parametrize(
    ("content", "accept", "kind", "mime"),
    [
        (PDF, "pdf", "pdf", "application/pdf"),
        (JPEG, "jpeg", "jpeg", "image/jpeg"),
        (PNG, "png", "png", "image/png"),
        (WEBP, "webp", "webp", "image/webp"),
        (GIF, "gif", "gif", "image/gif"),
        (HEIC, "heic", "heic", "image/heic"),
        (HEIF_MIF1, "heic", "heic", "image/heic"),
    ],
)
def test_each_allowed_type_is_recognised_by_its_content(tmp_path, content, accept, kind, mime):
    stored = store_upload(upload(content, "whatever.bin"), UploadPolicy([accept], MB), tmp_path)

    assert (stored.kind, stored.mime) == (kind, mime)


def test_a_stored_file_records_the_sha256_size_and_type_of_its_content(tmp_path):
    content = PDF + bytes(300_000)  # several chunks

    stored = store_upload(upload(content, "申请表.pdf", "text/html"), DOCUMENTS, tmp_path)

    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert (stored.kind, stored.mime) == ("pdf", "application/pdf")
    assert stored.original_name == "申请表.pdf"
    with open_stored(tmp_path, stored.stored_name) as stored_file:
        assert stored_file.read() == content


def test_a_file_exactly_at_the_limit_is_accepted(tmp_path):
    content = PNG + bytes(1000 - len(PNG))

    stored = store_upload(upload(content, "a.png"), UploadPolicy(["png"], 1000), tmp_path)

    assert stored.size == 1000


def test_stored_files_get_a_random_name_under_a_hash_prefix_and_no_part_of_the_filename(
    tmp_path,
):
    stored = store_upload(upload(PDF, "../../etc/passwd.pdf"), DOCUMENTS, tmp_path)

    prefix, name = stored.stored_name.split("/")
    assert prefix == stored.sha256[:2]
    assert name == stored.id and re.fullmatch(r"[A-Za-z0-9_-]{24}", name)
    assert "passwd" not in stored.stored_name
    assert files_under(tmp_path) == [tmp_path / prefix / name]  # nothing left in .incoming


def test_the_same_content_uploaded_twice_is_stored_as_two_files(tmp_path):
    first = store_upload(upload(PDF), DOCUMENTS, tmp_path)
    second = store_upload(upload(PDF), DOCUMENTS, tmp_path)

    assert first.sha256 == second.sha256
    assert first.stored_name != second.stored_name
    assert len(files_under(tmp_path)) == 2


# --------------------------------------------------------------------------- display names


@pytest.mark.parametrize(
    ("original", "kind", "shown"),
    [
        ("申请表.pdf", "pdf", "申请表.pdf"),
        ("Photo.JPEG", "jpeg", "Photo.JPEG"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("..\\..\\x.pdf", "pdf", "x.pdf"),
        ("C:\\Users\\张三\\Desktop\\身份证.jpg", "jpeg", "身份证.jpg"),
        ("a.pdf%00.exe", "pdf", "a.pdf_00.pdf"),
        ("a.pdf\x00.exe", "pdf", "a.pdf.pdf"),
        ("\u202efdp.exe", "pdf", "fdp.pdf"),  # shows as "exe.pdf" with the override
        ("photo.png", "jpeg", "photo.jpg"),  # content decides the extension
        ("scan", "pdf", "scan.pdf"),
        ("报告.终稿", "pdf", "报告.终稿.pdf"),
        ("CON.pdf", "pdf", "_CON.pdf"),
        ("com1.jpg", "jpeg", "_com1.jpg"),
        ('a<b>c:"d"|e?f*.pdf', "pdf", "a_b_c__d__e_f_.pdf"),
        ("  ...  .pdf", "pdf", "file.pdf"),
        (".pdf", "pdf", "file.pdf"),
        (".bashrc", "pdf", "bashrc.pdf"),
        ("scan.pdf. . ", "pdf", "scan.pdf"),
        ("tab\there\nnewline.pdf", "pdf", "tab here newline.pdf"),
        ("x" * 300 + ".pdf", "pdf", "x" * 116 + ".pdf"),
    ],
)
def test_the_original_filename_is_sanitised_for_display(original, kind, shown):
    assert display_name(original, kind) == shown


# --------------------------------------------------------------------------- reading back


def test_open_stored_reads_back_what_was_stored(tmp_path):
    stored = store_upload(upload(JPEG, "a.jpg"), DOCUMENTS, tmp_path)

    with open_stored(tmp_path, stored.stored_name) as stored_file:
        assert stored_file.read() == JPEG


@pytest.mark.parametrize(
    "stored_name",
    [
        "../outside",
        "../../etc/passwd",
        "/etc/passwd",
        "ab/../../outside/aaaaaaaaaaaaaaaaaaaaaaaa",
        "ab/..%2f..%2foutside",
        "ab\\..\\..\\outside",
        ".incoming/aaaaaaaaaaaaaaaaaaaaaaaa.part",
        "ab/aaaaaaaaaaaaaaaaaaaaaaaa/../../../outside",
        "AB/aaaaaaaaaaaaaaaaaaaaaaaa",
        "",
    ],
)
def test_open_stored_refuses_any_name_store_upload_could_not_have_made(tmp_path, stored_name):
    root = tmp_path / "uploads"
    root.mkdir()
    (tmp_path / "outside").write_bytes(b"secret")

    with pytest.raises(FileNotFoundError):
        open_stored(root, stored_name)


def test_open_stored_refuses_a_subfolder_that_is_a_symlink_out_of_the_root(tmp_path):
    root, outside = tmp_path / "uploads", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "aaaaaaaaaaaaaaaaaaaaaaaa").write_bytes(b"secret")
    (root / "ab").symlink_to(outside)

    with pytest.raises(FileNotFoundError):
        open_stored(root, "ab/aaaaaaaaaaaaaaaaaaaaaaaa")


def test_open_stored_of_a_well_formed_but_unknown_name_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_stored(tmp_path, "ab/aaaaaaaaaaaaaaaaaaaaaaaa")


# --------------------------------------------------------------------------- policy


def test_policy_accepts_aliases_and_drops_duplicates():
    policy = UploadPolicy(["PDF", "jpg", "jpeg", "heif"], 10)

    assert policy.accept == ("pdf", "jpeg", "heic")


@pytest.mark.parametrize(
    ("accept", "max_bytes", "error"),
    [
        (["pdf", "exe"], 10, "unknown upload type 'exe'"),
        (["svg"], 10, "unknown upload type 'svg'"),
        ([], 10, "must accept at least one file type"),
        (["pdf"], 0, "max_bytes must be a whole number above 0, not 0"),
        (["pdf"], 5.5, "max_bytes must be a whole number above 0, not 5.5"),
        (["pdf"], True, "max_bytes must be a whole number above 0, not True"),
    ],
)
def test_a_bad_policy_fails_when_the_definition_loads(accept, max_bytes, error):
    with pytest.raises(ValueError, match=re.escape(error)):
        UploadPolicy(accept, max_bytes)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (5 * MB, "5 MB"),
        (MB + MB // 2, "1.5 MB"),
        (5_000_000, "4.7 MB"),  # rounded down: never promise more than the limit
        (500 * 1024, "500 KB"),
        (1024, "1 KB"),
        (100, "100 B"),
    ],
)
def test_size_limits_are_shown_as_people_read_them(size, shown):
    assert format_size(size) == shown


# --------------------------------------------------------------------------- messages


def _catalog():
    with PO_FILE.open("rb") as po:
        return read_po(po, locale="zh_CN")


def _marked_messages() -> set[str]:
    tree = ast.parse(Path(uploads.__file__).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_"
    }


def test_every_upload_message_has_a_chinese_translation_with_the_same_placeholders():
    catalog = _catalog()
    messages = _marked_messages()

    assert messages <= {m.id for m in catalog if m.id}
    for message in catalog:
        if message.id in messages:
            assert message.string, message.id
            placeholders = set(re.findall(r"%\((\w+)\)s", message.id))
            assert set(re.findall(r"%\((\w+)\)s", message.string)) == placeholders


@pytest.mark.parametrize(
    ("policy", "content", "chinese"),
    [
        (DOCUMENTS, b"MZ" + bytes(100), "所选文件必须是PDF、JPG或PNG格式"),
        (UploadPolicy(["pdf", "png"], 10), PDF, "所选文件必须小于10 B"),
        (DOCUMENTS, PDF + bytes(5 * MB), "所选文件必须小于5 MB"),
        (DOCUMENTS, b"", "所选文件是空文件，请重新选择"),
    ],
)
def test_refusals_render_in_chinese_with_the_list_joined_the_chinese_way(
    tmp_path, policy, content, chinese
):
    catalog = _catalog()
    with pytest.raises(UploadRejected) as refused:
        store_upload(upload(content), policy, tmp_path)

    assert refused.value.render(lambda s: catalog[s].string, locale="zh_CN") == chinese


# --------------------------------------------------------------------------- failures


class BrokenStream(io.RawIOBase):
    """The client goes away half way through the upload."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError("connection reset")
        return PDF + bytes(max(0, size - len(PDF)))


def test_a_stream_that_breaks_mid_upload_leaves_nothing_on_disk(tmp_path):
    with pytest.raises(OSError, match="connection reset"):
        store_upload(FileStorage(stream=BrokenStream(), filename="a.pdf"), DOCUMENTS, tmp_path)

    assert files_under(tmp_path) == []


def test_a_failure_while_moving_into_place_leaves_nothing_on_disk(tmp_path, monkeypatch):
    def fail_fsync(path):
        raise OSError("disk full")

    monkeypatch.setattr(uploads, "_fsync_dir", fail_fsync)

    with pytest.raises(OSError, match="disk full"):
        store_upload(upload(PDF), DOCUMENTS, tmp_path)

    assert files_under(tmp_path) == []


# --------------------------------------------------------------------------- quotas (issue 10)


def test_a_file_over_the_room_left_gets_the_quotas_message_and_leaves_nothing(tmp_path):
    quota = uploads.Quota(room=len(PDF) - 1, error=uploads.draft_full(2 * MB))
    with pytest.raises(UploadRejected) as refused:
        store_upload(upload(PDF), DOCUMENTS, tmp_path, quota)
    assert str(refused.value) == (
        "The files of one application can add up to 2 MB. Upload a smaller file")
    assert refused.value.reason == "quota"
    assert files_under(tmp_path) == []


def test_a_file_that_fits_the_room_left_exactly_is_stored(tmp_path):
    quota = uploads.Quota(room=len(PDF), error=uploads.address_full(MB))
    stored = store_upload(upload(PDF), DOCUMENTS, tmp_path, quota)
    assert stored.size == len(PDF) and len(files_under(tmp_path)) == 1


def test_a_file_over_the_questions_limit_gets_the_size_message_even_with_room_left(tmp_path):
    small = UploadPolicy(["pdf"], max_bytes=len(PDF) - 1)
    quota = uploads.Quota(room=10 * MB, error=uploads.draft_full(10 * MB))
    with pytest.raises(UploadRejected) as refused:
        store_upload(upload(PDF), small, tmp_path, quota)
    assert refused.value.reason == "too_large"


def test_with_no_room_left_a_large_upload_is_read_only_one_byte(tmp_path):
    stream = CountingStream(PDF, 50 * MB)
    quota = uploads.Quota(room=0, error=uploads.address_full(MB))
    with pytest.raises(UploadRejected):
        store_upload(FileStorage(stream=stream, filename="big.pdf"), DOCUMENTS, tmp_path, quota)
    assert stream.consumed == 1
    assert files_under(tmp_path) == []


# --------------------------------------------------------------------------- answers (issue 10)

FILE_FORM = {"title": {"zh": "材料", "en": "Documents"},
             "schema": {"type": "object", "properties": {
                 "id_card": {"type": "string", "contentMediaType": "application/pdf"},
                 "members": {"type": "array", "items": {"type": "object", "properties": {
                     "photo": {"type": "string", "contentMediaType": "image/jpeg"}}}}}}}


@pytest.mark.parametrize(("answers", "unknown"), [
    ({"id_card": "A"}, []),
    ({"id_card": "forged"}, [("id_card", "id_card")]),
    ({"id_card": "P1"}, [("id_card", "id_card")]),  # a file of another question
    ({"id_card": ["A"]}, [("id_card", "id_card")]),  # not an id at all
    ({"members": [{"photo": "P1"}, {"photo": "A"}, {}]}, [("members.1.photo", "members.photo")]),
    ({}, []),
])
def test_an_upload_answer_must_name_a_file_of_the_draft_for_that_question(answers, unknown):
    from tongban.forms.definition import load_form

    form = load_form(FILE_FORM, name="files.json")
    draft_files = {"A": "id_card", "P1": "members.photo"}
    assert uploads.unknown_file_answers(form, answers, draft_files) == unknown
