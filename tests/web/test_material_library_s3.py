"""The material library on the S3-compatible storage (issue 16 item 1): the same journey as on
the local disk, against moto's S3 server started on loopback; the plugin is loaded from its
folder (plugins/s3_storage), never installed. A store that stops answering during an upload
keeps the answers and says so."""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tongban.extend.manager import material_storage
from tongban.models import Draft, Material

from .journey import PDF, RESIDENCE_PAGES, Journey, errors_in

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugins" / "s3_storage"
BUCKET = "tongban-web-test"
STORAGE_DOWN = "居民身份证正反面：文件暂时无法保存。您的其他填写内容已保存，请几分钟后重新上传文件"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed: pip install 'moto[server]'")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, object], s3_endpoint: str) -> dict[str, object]:
    if str(PLUGIN_DIR) not in sys.path:
        sys.path.insert(0, str(PLUGIN_DIR))
    import boto3
    import tongban_s3_storage

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    if BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=BUCKET)
    return {**app_config, "PLUGINS": [tongban_s3_storage], "MATERIAL_STORAGE": "s3",
            "S3_ENDPOINT_URL": s3_endpoint, "S3_BUCKET": BUCKET,
            "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}


def _fill(journey: Journey) -> None:
    for page_id, data in RESIDENCE_PAGES:
        if page_id == "education":
            data = {"education.level": "none"}
        assert journey.post(page_id, data).status_code == 302, page_id


def _upload(journey: Journey):  # type: ignore[no-untyped-def]
    return journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf")},
        content_type="multipart/form-data")


def test_uploads_land_in_the_bucket_and_become_materials_read_back_from_it(
        personas, demo, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill(journey)
    assert _upload(journey).status_code == 302
    assert journey.submit().status_code == 302
    session.rollback()
    kept = list(session.scalars(select(Material).order_by(Material.id)))
    assert [(m.type_code, m.storage) for m in kept] == [("id-card", "s3"),
                                                        ("residence-permit", "s3")]
    assert kept[0].storage_key.startswith("materials/")
    with demo.app_context():
        assert material_storage(demo).get(kept[0].storage_key) == PDF
    opened = client.get(f"/materials/{kept[0].public_id}/file")
    assert opened.status_code == 200 and opened.data == PDF


def test_a_bucket_that_stops_answering_during_an_upload_keeps_the_answers(
        personas, demo, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import boto3

    journey = Journey(personas.as_("citizen"), "residence-points")
    _fill(journey)
    storage = material_storage(demo)
    dead = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
    monkeypatch.setattr(type(storage), "client", property(lambda _storage: dead))
    response = _upload(journey)
    assert response.status_code == 422
    assert STORAGE_DOWN in errors_in(response.get_data(as_text=True))
    session.rollback()
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert draft.answers["applicant"]["name"] == "张三"
    assert "id_card" not in draft.answers.get("materials", {})
