"""The built-in plugins: local material storage (content-addressed files under MATERIAL_DIR)
and the null signer (the e-seal's development twin)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from tongban.plugin_api import MaterialNotFound, Signature


@pytest.fixture
def storage(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tongban_local_storage import LocalStorage

    return LocalStorage(tmp_path / "materials")


def test_the_same_bytes_are_stored_once_under_their_hash(storage, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = "户口簿首页".encode()
    first = storage.put(data, content_type="image/jpeg", name="../../etc/passwd")
    second = storage.put(data, content_type="image/jpeg", name="hukou.jpg")
    assert first == second
    assert first.key == first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.size == len(data)
    files = [p for p in (tmp_path / "materials").rglob("*") if p.is_file()]
    assert files == [tmp_path / "materials" / first.key[:2] / first.key[2:4] / first.key]


def test_get_delete_and_url(storage) -> None:  # type: ignore[no-untyped-def]
    stored = storage.put(b"%PDF-1.7", content_type="application/pdf")
    assert storage.get(stored.key) == b"%PDF-1.7"
    assert storage.url(stored.key, expires_in=300) is None  # the core serves the bytes
    storage.delete(stored.key)
    storage.delete(stored.key)  # not there any more: not an error
    with pytest.raises(MaterialNotFound, match=f"the local storage holds no {stored.key}"):
        storage.get(stored.key)


@pytest.mark.parametrize("key", ["../secret_key", "AB" * 32, "", "/etc/passwd", "a" * 63])
def test_a_key_that_is_not_a_content_hash_is_refused(storage, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MaterialNotFound, match="not a key of the local storage"):
        storage.get(key)


def test_writers_at_once_leave_one_whole_file(storage) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 4096
    threads = [threading.Thread(target=storage.put, args=(data,),
                                kwargs={"content_type": "application/pdf"}) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    key = hashlib.sha256(data).hexdigest()
    assert storage.get(key) == data
    assert not list(storage.root.rglob(".put-*"))  # no temporary file left behind


def test_the_storage_is_down_when_its_folder_cannot_be_written(tmp_path: Path) -> None:
    from tongban_local_storage import LocalStorage

    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    report = LocalStorage(blocker / "materials").health()
    assert report.state == "down" and report.detail.startswith(f"cannot write to {blocker}")
    assert LocalStorage(tmp_path / "ok").health().state == "ok"


def test_the_null_signer_finds_any_change_and_a_foreign_signature() -> None:
    from tongban_null_signer import NullSigner

    signer = NullSigner()
    approved, refused = "准予迁入".encode(), "不予迁入".encode()
    signature = signer.sign(approved, purpose="decision")
    assert (signature.signer_id, signature.value) == ("null", hashlib.sha256(approved).hexdigest())
    assert signer.verify(approved, signature).valid
    changed = signer.verify(refused, signature)
    assert (changed.valid, changed.reason) == (False, "the document changed after it was signed")
    foreign = Signature(signer_id="ca-seal", value=signature.value, algorithm="SM2")
    assert signer.verify(approved, foreign).reason == "signed by 'ca-seal', not the null signer"
