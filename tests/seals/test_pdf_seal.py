"""Issue 16 item 2: PAdES on PDF decisions (WeasyPrint with a CJK font, pyHanko), each verdict
on real signatures: valid; a flipped byte or a page changed by a later incremental update is
tampering; a certificate of the CA that is no department's seal may not seal; a certificate
that had expired when it signed; another CA's certificate or an unsigned PDF is unknown."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from tongban_pdf_seal import PdfSealSigner, pades
from tongban_pdf_seal.keystore import Holder, KeyStore, make_certificate

from tongban.plugin_api import DocumentDraft

DRAFT = DocumentDraft(
    title="准予行政许可决定书",
    paragraphs=("申请人张三：", "你于2026年11月1日提出的居住证积分申请，经审查，符合规定条件，"
                "决定准予许可。"),
    issuer="某市公安局", issued_on=date(2026, 12, 3), reference="某公许〔2026〕001号",
    department="police")
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> PdfSealSigner:
    return PdfSealSigner(tmp_path_factory.mktemp("pdf-keys"))


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return pades.render(DRAFT)


@pytest.fixture(scope="module")
def sealed(signer: PdfSealSigner) -> bytes:
    return signer.seal(DRAFT, purpose="decision").content


def _holder(store: KeyStore, *, not_before: datetime, not_after: datetime,
            issuer: Holder | None = None) -> Holder:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = issuer or store.ca
    return Holder(make_certificate("某街道办事处 (test only)", key, (ca.certificate, ca.key),
                                   not_before=not_before, not_after=not_after), key, "某街道办事处")


def test_the_decision_is_a_pdf_set_in_a_cjk_font_with_a_pades_signature(
        signer: PdfSealSigner, sealed: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(sealed))
    fonts = reader.root["/Pages"]["/Kids"][0]["/Resources"]["/Font"]
    names = [str(font.get_object()["/BaseFont"]) for font in fonts.values()]
    assert any("WenQuanYi" in name for name in names), names
    (signature,) = reader.embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_a_sealed_pdf_verifies_and_says_who_sealed_it_when(signer: PdfSealSigner,
                                                           sealed: bytes) -> None:
    found = signer.verify_document(sealed)
    assert found is not None and found.verdict == "valid" and found.valid
    assert found.sealed_by == "某市公安局电子印章(test only)"
    assert found.signer == "某市公安局 (test only)"
    assert found.signed_at is not None and abs(found.signed_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_one_flipped_byte_in_the_signed_range_is_tampering(signer: PdfSealSigner,
                                                           sealed: bytes) -> None:
    changed = bytearray(sealed)
    changed[sealed.index(b"/Contents <") - 3000] ^= 0x01
    found = signer.verify_document(bytes(changed))
    assert found is not None and found.verdict == "tampered"
    assert found.reason == "the signed bytes changed after signing"


def test_a_page_changed_by_a_later_incremental_update_is_tampering(signer: PdfSealSigner,
                                                                    sealed: bytes) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    forged = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td "
                                                                b"(FORGED) Tj ET"))
    writer.add_stream_to_page(0, forged)
    out = io.BytesIO()
    writer.write(out)
    found = signer.verify_document(out.getvalue())
    assert found is not None and found.verdict == "tampered"
    assert found.reason == "content was added after signing"


def test_a_certificate_of_the_ca_that_is_no_departments_seal_may_not_seal(
        signer: PdfSealSigner, unsigned: bytes) -> None:
    stranger = _holder(signer.store, not_before=NOW - timedelta(days=1),
                       not_after=NOW + timedelta(days=30))
    found = signer.verify_document(pades.sign(unsigned, stranger, signer.store.ca, reason="x"))
    assert found is not None and found.verdict == "not_allowed"
    assert found.reason == "the certificate is not one of the departments' seals"


def test_a_certificate_that_had_expired_when_it_signed_is_expired(
        signer: PdfSealSigner, unsigned: bytes) -> None:
    lapsed = _holder(signer.store, not_before=NOW - timedelta(days=400),
                     not_after=NOW - timedelta(days=30))
    found = signer.verify_document(pades.sign(unsigned, lapsed, signer.store.ca, reason="x"))
    assert found is not None and found.verdict == "expired"
    assert found.reason == "the certificate was not valid at signing time"


def test_another_cas_certificate_is_unknown(signer: PdfSealSigner, unsigned: bytes,
                                            tmp_path: Path) -> None:
    other = KeyStore(tmp_path)
    holder = other.seal_for("police", "某市公安局")
    found = signer.verify_document(pades.sign(unsigned, holder, other.ca, reason="x"))
    assert found is not None and found.verdict == "unknown"


def test_an_unsigned_pdf_is_unknown_and_a_file_that_is_no_pdf_is_not_the_pdf_signers(
        signer: PdfSealSigner, unsigned: bytes) -> None:
    found = signer.verify_document(unsigned)
    assert found is not None and found.verdict == "unknown"
    assert found.reason == "the PDF carries no signature"
    assert signer.verify_document(b"PK\x03\x04 not a pdf") is None


def test_the_detached_signature_half_of_the_contract_finds_any_change(
        signer: PdfSealSigner) -> None:
    signature = signer.sign(b"decision 2026-001", purpose="decision")
    assert signer.verify(b"decision 2026-001", signature).valid
    assert not signer.verify(b"decision 2026-002", signature).valid
