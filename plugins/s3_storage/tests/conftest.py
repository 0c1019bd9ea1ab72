import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tongban.testkit import *  # noqa: F403 - the test kit's fixtures

# The plugin is loaded from its folder, never installed into the shared environment.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BUCKET = "tongban-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server, on loopback for the session."""
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed: pip install 'moto[server]'")
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import boto3

    settings = {"S3_ENDPOINT_URL": s3_endpoint, "S3_BUCKET": BUCKET, "S3_REGION": "us-east-1",
                "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    existing = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    if BUCKET not in existing:
        client.create_bucket(Bucket=BUCKET)
    return settings


@pytest.fixture
def tongban_plugins():
    import tongban_s3_storage

    return [tongban_s3_storage]


@pytest.fixture
def tongban_settings(s3_settings):
    return {**s3_settings, "MATERIAL_STORAGE": "s3"}
