"""The S3-compatible material storage against moto's S3 server on loopback: what goes in comes
back by its key, the same bytes are one object, a missing or foreign key is MaterialNotFound,
a presigned address fetches the bytes, and a store that does not answer is a transient error."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
import tongban_s3_storage
from tongban_s3_storage import S3Storage

from tongban.extend.manager import material_storage
from tongban.plugin_api import ConnectorError, MaterialNotFound

PDF = b"%PDF-1.7\n" + b"x" * 300


def test_a_put_file_comes_back_by_its_content_addressed_key(s3_settings):
    storage = S3Storage.from_settings(s3_settings)
    stored = storage.put(PDF, content_type="application/pdf", name="../../etc/passwd")
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored.key == f"materials/{digest[:2]}/{digest}"
    assert (stored.sha256, stored.size, stored.content_type) == (digest, len(PDF),
                                                                 "application/pdf")
    assert storage.get(stored.key) == PDF
    assert storage.put(PDF, content_type="application/pdf").key == stored.key


def test_a_deleted_or_made_up_key_is_not_found(s3_settings):
    storage = S3Storage.from_settings(s3_settings)
    key = storage.put(b"%PDF-1.4 delete me", content_type="application/pdf").key
    storage.delete(key)
    storage.delete(key)  # deleting what is not there is no error
    with pytest.raises(MaterialNotFound):
        storage.get(key)
    with pytest.raises(MaterialNotFound):
        storage.get("../secret")
    with pytest.raises(MaterialNotFound):
        storage.url("materials/../../x", expires_in=60)


def test_a_presigned_address_fetches_the_bytes(s3_settings):
    storage = S3Storage.from_settings(s3_settings)
    key = storage.put(PDF, content_type="application/pdf").key
    address = storage.url(key, expires_in=60)
    assert address is not None and "Signature" in address
    with urllib.request.urlopen(address, timeout=5) as answer:  # noqa: S310 - loopback test server
        assert answer.read() == PDF


def test_health_names_the_bucket_and_a_missing_one_is_down(s3_settings):
    assert S3Storage.from_settings(s3_settings).health().state == "ok"
    missing = S3Storage.from_settings({**s3_settings, "S3_BUCKET": "no-such-bucket"})
    report = missing.health()
    assert report.state == "down" and "no-such-bucket" in report.detail


def test_a_store_that_does_not_answer_is_a_transient_error(s3_settings):
    storage = S3Storage.from_settings({**s3_settings, "S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    with pytest.raises(ConnectorError) as caught:
        storage.put(PDF, content_type="application/pdf")
    assert caught.value.transient


def test_the_app_uses_it_when_the_setting_names_it(tongban_app):
    storage = material_storage(tongban_app)
    assert isinstance(storage, S3Storage) and storage.id == "s3"
    assert tongban_s3_storage.PLUGIN_NAME == "s3_storage"
