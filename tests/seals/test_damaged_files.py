"""Damaged files handed to the public verification page: a sealed OFD or PDF with random bytes
changed, or cut short, is never "valid" and never an error page: each signer says tampered (or
unknown, or "not mine" when the file no longer looks like its kind). A fixed seed keeps the
cases the same on every run. A package that would unpack to more than the limit is not
unpacked."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterator
from datetime import date

import pytest
from tongban_ofd_seal import OfdSealSigner, ofd
from tongban_pdf_seal import PdfSealSigner

from tongban.plugin_api import DocumentDraft, Signer

DRAFT = DocumentDraft(title="准予行政许可决定书", paragraphs=("申请人张三：", "决定准予许可。"),
                      issuer="某市公安局", issued_on=date(2026, 12, 3),
                      reference="某公许〔2026〕001号", department="police")


@pytest.fixture(scope="module")
def signers(tmp_path_factory: pytest.TempPathFactory) -> list[Signer]:
    folder = tmp_path_factory.mktemp("damaged")
    return [OfdSealSigner(folder / "ofd"), PdfSealSigner(folder / "pdf")]


def _damaged(content: bytes, seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    yield content[:len(content) // 2]
    yield content[:-40]
    for _ in range(count):
        changed = bytearray(content)
        for _ in range(rng.randrange(1, 6)):
            changed[rng.randrange(len(changed))] = rng.randrange(256)
        if bytes(changed) != content:
            yield bytes(changed)


def test_damaged_sealed_files_are_never_valid_and_never_break_a_signer(
        signers: list[Signer]) -> None:
    for index, maker in enumerate(signers):
        sealed = maker.seal(DRAFT, purpose="decision").content
        for damaged in _damaged(sealed, seed=16 + index, count=25):
            for checker in signers:
                found = checker.verify_document(damaged)
                assert found is None or found.verdict in ("tampered", "unknown"), found


def test_a_package_that_unpacks_past_the_limit_is_not_unpacked(
        signers: list[Signer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ofd, "MAX_UNPACKED_BYTES", 10_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", b"<ofd:OFD/>")
        archive.writestr("Doc_0/big.bin", b"\0" * (ofd.MAX_UNPACKED_BYTES + 1))
    found = signers[0].verify_document(buffer.getvalue())
    assert found is not None and found.verdict == "unknown"
    assert found.reason == ("the package has more than 2,000 parts or unpacks to more than "
                            "10,000 bytes")
