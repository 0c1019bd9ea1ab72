"""Issue 16 item 1 (and item 4's first half): the residence-points form offers the applicant's
stored 身份证 and 学历证书 instead of an upload, with JavaScript and without; choosing one and
going on answers the question with the stored material, and an upload is still possible."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from tongban import db
from tongban.extend.manager import material_storage
from tongban.ledger_demo import CITIZEN_ID_NUMBER
from tongban.materials import library
from tongban.models import Draft, StoredUpload

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
    from .axe import run_axe, summarize
except ImportError:
    from axe import run_axe, summarize  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

PDF = b"%PDF-1.4\n% stored once\n%%EOF\n"


def _store(app, type_code: str, name: str) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        stored = material_storage(app).put(PDF + name.encode(), content_type="application/pdf",
                                           name=name)
    with db.new_session(app.extensions["tongban.engine"]) as session:
        material = library.add_material(
            session, owner=CITIZEN_ID_NUMBER, type_code=type_code,
            types=library.catalogue(session), storage="local", stored=stored,
            original_name=name, source="uploaded", trust_level="C", today=date.today())
        session.commit()
        return material.public_id


def test_the_form_offers_the_stored_id_card_and_diploma_instead_of_an_upload(
        demo, live_server, browser_page):
    page, js = browser_page
    id_card = _store(demo, "id-card", "旧身份证.pdf")
    diploma = _store(demo, "diploma", "硕士学位证书.pdf")
    base = live_server.url
    flows.sign_in(page, base)
    token = flows.start(page, base, "residence-points")
    page.goto(f"{base}/apply/{token}/pages/applicant")
    flows.fill_residence_up_to_materials(page)

    offered = page.locator(f'input[name="materials.id_card:material"][value="{id_card}"]')
    expect(offered).to_be_checked()  # the newest stored one is chosen at first
    expect(page.locator(f'label[for="{offered.get_attribute("id")}"]')).to_contain_text(
        "使用您于")
    expect(page.locator("main")).to_contain_text("C级：申请人上传，使用前须核对原件")
    # axe runs in the page: only where JavaScript is on.
    found = {"materials page": run_axe(page, needs_review=True)} if js else {}
    chooser = page.locator('input[type=file][name="materials.id_card"]')
    if js:  # the file chooser is out of the way while a stored one is chosen
        expect(chooser).to_be_hidden()
        page.check('input[name="materials.id_card:material"][value="upload"]')
        expect(chooser).to_be_visible()
        offered.check()
        expect(chooser).to_be_hidden()
    else:
        expect(chooser).to_be_visible()
    expect(page.locator(f'input[name="materials.diploma:material"][value="{diploma}"]')
           ).to_be_checked()
    flows.upload(page, "materials.residence_permit", "居住证.pdf", PDF, "application/pdf")
    flows.send(page)
    assert page.url.endswith("/check"), page.url
    expect(page.locator("main")).to_contain_text("旧身份证.pdf")
    expect(page.locator("main")).to_contain_text("硕士学位证书.pdf")

    with db.new_session(demo.extensions["tongban.engine"]) as session:
        draft = session.scalars(select(Draft).where(Draft.token == token)).one()
        answered = draft.answers["materials"]
        rows = {u.field_key: u for u in session.scalars(select(StoredUpload).where(
            StoredUpload.public_id.in_([answered["id_card"], answered["diploma"]])))}
        assert rows["materials.id_card"].material_id is not None
        assert rows["materials.diploma"].material_id is not None
        assert rows["materials.id_card"].stored_name == ""

    page.goto(f"{base}/my/materials")
    expect(page.locator("main")).to_contain_text("水印：此件由申请人上传，使用前须核对原件")
    if js:
        found["my materials"] = run_axe(page, needs_review=True)
    page.click(f'main a[href^="/materials/{id_card}"]')
    expect(page.locator("main")).to_contain_text("可信等级 C")
    if js:
        found["a material"] = run_axe(page, needs_review=True)
    found = {name: violations for name, violations in found.items() if violations}
    assert not found, "\n".join(f"{name}:\n{summarize(v)}" for name, v in found.items())
