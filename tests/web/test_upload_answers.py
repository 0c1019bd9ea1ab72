"""Answers to upload questions (issue 10): only this draft's files count, replaced files go,
the bytes a draft or an anonymous address may store are capped, NUL bytes are refused, and
the page and check answers say the same about what is attached."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sqlalchemy import func, select, update

from tongban.models import Application, Draft, StoredUpload

from .journey import PDF, PNG, RESIDENCE_PAGES, Journey, errors_in

PERMIT = "居住证-permit.pdf"
NOT_FOUND = "居民身份证正反面：找不到此项的文件，请重新上传"
EXECUTABLE = b"MZ\x90\x00" + b"\x00" * 200
CURRENT_FILE = re.compile(r'<p class="tb-body tb-file-current">(.*?)</p>', re.S)


def _current_files(html: str) -> list[str]:
    """The files the page says are attached, the residence permit (uploaded first) aside."""
    return [name for name in CURRENT_FILE.findall(html) if PERMIT not in name]


def _draft(session, journey: Journey) -> Draft:  # type: ignore[no-untyped-def]
    session.rollback()  # a new snapshot: the requests wrote on their own connections
    return session.scalars(select(Draft).where(Draft.token == journey.token)).one()


def _uploads(session) -> list[StoredUpload]:  # type: ignore[no-untyped-def]
    session.rollback()  # a new snapshot: the requests wrote on their own connections
    return list(session.scalars(select(StoredUpload).where(
        StoredUpload.field_key != "materials.residence_permit").order_by(StoredUpload.id)))


def _files_on_disk(app) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["UPLOAD_DIR"])
    with app.extensions["tongban.engine"].connect() as conn:
        permits = set(conn.scalars(select(StoredUpload.stored_name).where(
            StoredUpload.field_key == "materials.residence_permit")))
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in permits
                  and str(p.relative_to(root)) not in permits) if root.exists() else []


def _upload(journey: Journey, page: str = "materials", **files: tuple[bytes, str]):  # type: ignore[no-untyped-def]
    data: dict[str, object] = dict(getattr(journey, "kept_files", {}))  # hidden inputs, as a page posts them
    data.update({name: (io.BytesIO(content), filename)
                 for name, (content, filename) in files.items()})
    return journey.post(page, data, content_type="multipart/form-data")


def _id_card(content: bytes = PDF, filename: str = "身份证.pdf") -> dict[str, tuple[bytes, str]]:
    return {"materials.id_card": (content, filename)}


def _with_permit(journey: Journey) -> Journey:
    """The residence permit, required on the materials page, uploaded first; the tests below
    are about the other files, so it is taken out of the counts (``_uploads`` and
    ``_files_on_disk`` leave it out)."""
    response = _upload(journey, **{"materials.residence_permit": (PDF, PERMIT)})
    assert response.status_code == 422  # the ID card is still missing; the permit is kept
    kept = re.search(r'type="hidden" name="materials.residence_permit" value="([^"]+)"',
                     response.get_data(as_text=True))
    assert kept, "the page keeps the uploaded permit in a hidden input"
    journey.kept_files = {"materials.residence_permit": kept.group(1)}  # type: ignore[attr-defined]
    return journey


def _fill_residence(journey: Journey, education: str = "master") -> None:
    """Every page before the materials; with no education, no diploma is asked for."""
    for page_id, data in RESIDENCE_PAGES:
        if page_id == "education" and education == "none":
            data = {"education.level": "none"}
        assert journey.post(page_id, data).status_code == 302, page_id


def _ready(journey: Journey) -> Journey:
    """A residence-points draft whose materials page asks for the ID card alone."""
    _fill_residence(journey, education="none")
    return _with_permit(journey)


# ----------------------------------------------------------------- only this draft's files


def test_a_made_up_file_id_on_the_materials_page_is_refused_and_not_saved(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    response = journey.post("materials", {"materials.id_card": "no-file-here"})
    assert response.status_code == 422
    assert NOT_FOUND in errors_in(response.get_data(as_text=True))
    assert not _draft(session, journey).answers.get("materials")


def test_another_applicants_upload_id_is_refused_and_not_saved(personas, app, session) -> None:  # type: ignore[no-untyped-def]
    owner = _ready(Journey(personas.as_("citizen"), "residence-points"))
    assert _upload(owner, **_id_card()).status_code == 302
    theirs = _uploads(session)[0].public_id

    other = Journey(app.test_client(), "urban-event-report")  # anyone, even signed out
    response = other.post("photos", {"photos.photo": theirs})
    assert response.status_code == 422
    assert "现场照片：找不到此项的文件，请重新上传" in errors_in(response.get_data(as_text=True))
    assert not _draft(session, other).answers.get("photos")

    second = _with_permit(Journey(personas.as_("citizen"), "residence-points"))  # the same person, new draft
    response = second.post("materials", {"materials.id_card": theirs})
    assert NOT_FOUND in errors_in(response.get_data(as_text=True))
    assert not _draft(session, second).answers.get("materials")


def test_a_file_uploaded_for_one_question_is_no_answer_to_another(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    _fill_residence(journey)
    assert _upload(journey, **_id_card(), **{"materials.diploma": (PDF, "diploma.pdf")}
                   ).status_code == 302
    saved = _draft(session, journey).answers["materials"]
    response = journey.post("materials", {**journey.kept_files,  # type: ignore[attr-defined]
                                          "materials.id_card": saved["id_card"],
                                          "materials.diploma": saved["id_card"]})
    assert response.status_code == 422
    assert "学历（学位）证书：找不到此项的文件，请重新上传" in errors_in(
        response.get_data(as_text=True))
    assert _draft(session, journey).answers["materials"] == saved  # the diploma kept


def test_a_draft_whose_saved_answer_names_no_file_of_its_own_is_not_submitted(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    _fill_residence(journey)
    assert _upload(journey, **_id_card(), **{"materials.diploma": (PDF, "diploma.pdf")}
                   ).status_code == 302
    # Answers written by another path than the page post (a clerk's tool, an import, an old
    # draft): the submit checks them again.
    draft = _draft(session, journey)
    answers = {**draft.answers, "materials": {**draft.answers["materials"],
                                              "id_card": "no-file-here"}}
    session.execute(update(Draft).where(Draft.id == draft.id).values(answers=answers))
    session.commit()

    check = journey.client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    assert "no-file-here" not in check
    response = journey.submit()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/apply/{journey.token}/pages/materials")
    assert session.scalar(select(func.count()).select_from(Application)) == 0


# ----------------------------------------------------------------- disk filling


def test_a_replaced_upload_is_deleted_with_its_file(personas, app, session) -> None:  # type: ignore[no-untyped-def]
    journey = _ready(Journey(personas.as_("citizen"), "residence-points"))
    assert _upload(journey, **_id_card(filename="first.pdf")).status_code == 302
    first_id = _uploads(session)[0].public_id
    draft = _draft(session, journey)
    assert _upload(journey, **_id_card(PDF + b"%second", "second.pdf"),
                   ).status_code == 302
    [second] = _uploads(session)
    assert second.original_name == "second.pdf" and second.public_id != first_id
    assert _draft(session, journey).answers["materials"]["id_card"] == second.public_id
    assert _files_on_disk(app) == [Path(app.config["UPLOAD_DIR"]) / second.stored_name]
    assert draft.id == second.draft_id


def test_a_replaced_file_stays_on_disk_when_the_save_that_deletes_its_row_fails(
        personas, app, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tongban import intake

    journey = _ready(Journey(personas.as_("citizen"), "residence-points"))
    assert _upload(journey, **_id_card(filename="first.pdf")).status_code == 302
    [first] = _uploads(session)
    old_file = Path(app.config["UPLOAD_DIR"]) / first.stored_name

    def failing_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    # The delete of the old row has run in the unit of work when the answers' UPDATE fails.
    monkeypatch.setattr(intake, "save_answers", failing_save)
    with pytest.raises(RuntimeError):
        _upload(journey, **_id_card(PDF + b"%second", "second.pdf"))
    assert [u.public_id for u in _uploads(session)] == [first.public_id]
    assert old_file.exists()


def test_a_file_whose_question_is_no_longer_asked_is_deleted(personas, app, session) -> None:  # type: ignore[no-untyped-def]
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    _fill_residence(journey)  # a master's degree: the diploma is asked for
    assert _upload(journey, **_id_card(), **{"materials.diploma": (PDF, "diploma.pdf")}
                   ).status_code == 302
    assert len(_uploads(session)) == 2 and len(_files_on_disk(app)) == 2
    assert journey.post("education", {"education.level": "none"}).status_code == 302
    [kept] = _uploads(session)
    assert kept.field_key == "materials.id_card"
    assert _files_on_disk(app) == [Path(app.config["UPLOAD_DIR"]) / kept.stored_name]


def test_a_file_over_what_one_draft_may_hold_is_refused_and_nothing_is_stored(
        personas, app, session) -> None:  # type: ignore[no-untyped-def]
    app.config["UPLOAD_MAX_BYTES_PER_DRAFT"] = 2048
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    _fill_residence(journey)
    _upload(journey, **_id_card(PDF + b"0" * 1500))  # the diploma still to come
    assert len(_uploads(session)) == 1
    response = _upload(journey, **_id_card(PDF + b"0" * 1500),
                       **{"materials.diploma": (PDF + b"0" * 1000, "diploma.pdf")})
    assert response.status_code == 422
    assert "学历（学位）证书：一件申请的文件合计不能超过2 KB，请上传较小的文件" in errors_in(
        response.get_data(as_text=True))
    uploads = _uploads(session)
    # The replacement of the ID card fitted (its old file is freed); the diploma did not.
    assert [u.field_key for u in uploads] == ["materials.id_card"]
    assert len(_files_on_disk(app)) == 1
    assert "diploma" not in _draft(session, journey).answers["materials"]


def test_visitors_who_are_not_signed_in_may_store_only_so_much_a_day_from_one_address(
        demo, app, session) -> None:  # type: ignore[no-untyped-def]
    app.config["UPLOAD_MAX_BYTES_PER_ADDRESS_PER_DAY"] = len(PNG) * 2 + 10
    stored = []
    for number in range(3):
        journey = Journey(app.test_client(), "urban-event-report")
        response = _upload(journey, "photos", **{"photos.photo": (PNG, f"photo{number}.png")})
        stored.append(response.status_code)
    assert stored == [302, 302, 422]
    assert "现场照片：未登录时每天最多可上传144 B的文件，请登录后上传，或明天再试" in errors_in(
        response.get_data(as_text=True))
    uploads = _uploads(session)
    assert [u.original_name for u in uploads] == ["photo0.png", "photo1.png"]
    assert {u.uploaded_from for u in uploads} == {"127.0.0.1"}
    assert len(_files_on_disk(app)) == 2

    other_address = Journey(app.test_client(), "urban-event-report")
    response = other_address.client.post(
        other_address.url("photos"), content_type="multipart/form-data",
        data={"csrf_token": other_address.token_value, "photos.photo": (io.BytesIO(PNG), "p.png")},
        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302
    assert len(_uploads(session)) == 3


def test_signed_in_users_are_not_held_to_the_per_address_cap(personas, app, session) -> None:  # type: ignore[no-untyped-def]
    app.config["UPLOAD_MAX_BYTES_PER_ADDRESS_PER_DAY"] = 1
    journey = _ready(Journey(personas.as_("citizen"), "residence-points"))
    assert _upload(journey, **_id_card()).status_code == 302
    assert len(_uploads(session)) == 1


# ----------------------------------------------------------------- NUL bytes


def test_a_nul_character_in_an_answer_is_refused_and_nothing_of_it_is_saved(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    applicant = dict(RESIDENCE_PAGES[0][1])
    response = journey.post("applicant", {**applicant, "applicant.name": "张\x00三"})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == [
        "姓名含有无法保存的隐藏控制字符（NUL），请删除后重新输入"]
    saved = _draft(session, journey).answers["applicant"]
    assert "name" not in saved and saved["mobile"] == "13812345678"

    response = journey.client.post(
        f"/apply/{journey.token}/pages/applicant/field",
        data={"csrf_token": journey.token_value, "applicant.employer": "示例\x00公司"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "applicant.employer"})
    assert response.status_code == 200
    assert errors_in(response.get_data(as_text=True)) == [
        "工作单位名称含有无法保存的隐藏控制字符（NUL），请删除后重新输入"]


# ----------------------------------------------------------------- one truth on the page


def test_after_an_upload_the_page_shows_the_files_name_not_its_id(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = _ready(Journey(personas.as_("citizen"), "residence-points"))
    assert _upload(journey, **_id_card()).status_code == 302
    [upload] = _uploads(session)
    html = journey.client.get(journey.url("materials")).get_data(as_text=True)
    assert _current_files(html) == ["已上传：身份证.pdf"]
    assert f'value="{upload.public_id}"' in html  # kept when the page is sent again


def test_a_refused_replacement_keeps_the_old_file_on_the_page_and_in_check_answers(
        personas, app, session) -> None:  # type: ignore[no-untyped-def]
    journey = _ready(Journey(personas.as_("citizen"), "residence-points"))
    assert _upload(journey, **_id_card()).status_code == 302
    [upload] = _uploads(session)
    response = journey.client.post(
        journey.url("materials"), content_type="multipart/form-data",
        data={"csrf_token": journey.token_value, "materials.id_card": upload.public_id,
              **{"materials.id_card": (io.BytesIO(EXECUTABLE), "new.pdf")}})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "居民身份证正反面：所选文件必须是PDF、JPG或PNG格式" in errors_in(html)
    assert _current_files(html) == ["已上传：身份证.pdf"]
    assert _draft(session, journey).answers["materials"]["id_card"] == upload.public_id
    check = journey.client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    assert "身份证.pdf" in check
    assert [u.public_id for u in _uploads(session)] == [upload.public_id]
    assert len(_files_on_disk(app)) == 1


def test_a_refused_first_upload_shows_no_file_on_the_page_and_not_provided_in_check_answers(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = _with_permit(Journey(personas.as_("citizen"), "residence-points"))
    _fill_residence(journey)
    response = _upload(journey, **_id_card(EXECUTABLE, "new.pdf"))
    assert response.status_code == 422
    assert _current_files(response.get_data(as_text=True)) == []
    check = journey.client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    row = re.search(r"居民身份证正反面</dt>\s*<dd[^>]*>(.*?)</dd>", check, re.S)
    assert row and row.group(1).strip() == "未提供"
