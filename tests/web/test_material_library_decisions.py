"""Issue 16 items 1 and 2 together: a sealed decision document (here the 受理通知书 of a
residence-points application) joins the applicant's material library as an A-level material
issued by the department, its watermark naming the issuer; the applicant and the reviewer see
it like any other material."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tongban import decisions
from tongban.extend.manager import decision_sealing
from tongban.ledger_demo import CITIZEN_ID_NUMBER
from tongban.models import Application, FlowInstance, FlowTask, Material

from .. import seal_plugins
from ..conftest import csrf_token
from .journey import PDF, RESIDENCE_PAGES, Journey


@pytest.fixture(scope="module")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("material-seals")


@pytest.fixture
def app_config(app_config: dict[str, object], seal_dir: Path,
               tmp_path: Path) -> dict[str, object]:
    return {**app_config, **seal_plugins.settings(seal_dir, tmp_path / "materials"),
            "DECISION_SIGNERS": "ofd-seal,pdf-seal"}


def _act(client, task_id: int, op: str, **data: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None, page[-500:]
    return client.post(f"/review/tasks/{task_id}", data={
        "csrf_token": csrf_token(client, f"/review/tasks/{task_id}"), "op": op,
        "version": version.group(1), **data})


def test_a_sealed_decision_joins_the_applicants_library_as_an_a_level_material(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    for page_id, data in RESIDENCE_PAGES:
        assert journey.post(page_id, data).status_code == 302, page_id
    assert journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "diploma.pdf")},
        content_type="multipart/form-data").status_code == 302
    reference = journey.submit().headers["Location"].split("/")[2]
    client.get("/logout")

    session.rollback()
    application = session.scalars(select(Application)
                                  .where(Application.reference == reference)).one()
    instance = session.scalars(select(FlowInstance)
                               .where(FlowInstance.application_id == application.id)).one()
    intake = session.scalars(select(FlowTask).where(FlowTask.instance_id == instance.id,
                                                    FlowTask.node == "intake")).one()
    personas.as_("deptadmin")  # no work district given: the bureau's administrator takes it in
    assert _act(client, intake.id, "claim").status_code in (200, 302, 303)
    assert _act(client, intake.id, "accept", comment="材料齐全").status_code in (200, 302, 303)
    client.get("/logout")

    with demo.app_context():
        sealing = decision_sealing(demo)
    assert sealing is not None
    outcomes = decisions.seal_due(demo.extensions["tongban.engine"], *sealing)
    assert [o.state for o in outcomes] == ["done"], outcomes

    session.rollback()
    filed = list(session.scalars(select(Material).where(Material.source == "decision")
                                 .order_by(Material.id)))
    assert [(m.type_code, m.owner, m.trust_level) for m in filed] == [
        ("decision", CITIZEN_ID_NUMBER, "A"), ("decision", CITIZEN_ID_NUMBER, "A")]
    assert len({m.mime for m in filed}) == 2  # one OFD, one PDF
    assert all(m.expires_on is None and m.application_id == application.id for m in filed)

    personas.as_("citizen")
    mine = client.get("/my/materials").get_data(as_text=True)
    issuer = filed[0].issuer
    assert f"水印：此件由{issuer}提供，仅供办理政务服务事项时使用，有效期至长期" in mine
    opened = client.get(f"/materials/{filed[0].public_id}/file")
    assert opened.status_code == 200 and opened.headers["X-Material-Trust-Level"] == "A"
