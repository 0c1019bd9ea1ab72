"""Issue 16 item 2: GB/T 38540 seals on OFD packages, each verdict on real SM2 signatures: a
sealed decision verifies; a changed byte, a changed page, an added part are tampering; a seal
used outside its validity window has expired; a certificate the seal does not list may not use
it; an unknown seal maker or a file that is no OFD cannot be vouched for."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tongban_ofd_seal import OfdSealSigner, ofd, seal, ses, sm2, stamp
from tongban_ofd_seal.keystore import KeyStore

from tongban.plugin_api import DocumentDraft

DRAFT = DocumentDraft(
    title="准予行政许可决定书",
    paragraphs=("申请人张三：", "你于2026年11月1日提出的居住证积分申请，经审查，符合规定条件，"
                "根据《居住证暂行条例》，决定准予许可。"),
    issuer="某市公安局", issued_on=date(2026, 12, 3), reference="某公许〔2026〕001号",
    department="police")
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> OfdSealSigner:
    return OfdSealSigner(tmp_path_factory.mktemp("ofd-keys"))


@pytest.fixture(scope="module")
def sealed(signer: OfdSealSigner) -> bytes:
    return signer.seal(DRAFT, purpose="decision").content


def _parts(package: bytes) -> dict[str, bytes]:
    return ofd.unpack(package)


def _seal_with(signer: OfdSealSigner, *, holder_code: str = "police",
               seal_code: str = "police", valid_start: datetime | None = None,
               valid_end: datetime | None = None, maker: KeyStore | None = None) -> bytes:
    """An OFD sealed with the seal of ``seal_code`` (remade with another window when given)
    by the certificate of ``holder_code``."""
    store = signer.store
    used = store.seal_for(seal_code, "某市公安局")
    holder = store.seal_for(holder_code, "某区民政局").holder
    der = used.seal
    if valid_start or valid_end or maker:
        maker_store = maker or store
        der = seal.make_seal(
            es_id="TEST-WINDOW", name="某市公安局电子印章（仅供测试）",
            maker_certificate=maker_store.maker.certificate, maker_sign=maker_store.maker.key.sign,
            allowed=[used.holder.certificate], valid_start=valid_start or NOW - timedelta(days=1),
            valid_end=valid_end or NOW + timedelta(days=30), picture=stamp.draw("测试"),
            created=NOW - timedelta(hours=1))
    package, layout = ofd.write(doc_id="test", title=DRAFT.title, paragraphs=DRAFT.paragraphs,
                                issuer=DRAFT.issuer, issued_on=DRAFT.issued_on)
    return seal.sign_ofd(package, seal=der, certificate=holder.certificate,
                         sign=holder.key.sign, when=NOW, stamp=layout.stamp)


def test_a_sealed_decision_is_a_gbt_33190_package_with_the_seal_where_the_standard_puts_it(
        sealed: bytes) -> None:
    parts = _parts(sealed)
    assert set(parts) == {"OFD.xml", "Doc_0/Document.xml", "Doc_0/PublicRes.xml",
                          "Doc_0/Pages/Page_0/Content.xml", "Doc_0/Signs/Signatures.xml",
                          "Doc_0/Signs/Sign_0/Signature.xml", "Doc_0/Signs/Sign_0/Seal.esl",
                          "Doc_0/Signs/Sign_0/SignedValue.dat"}
    root = ofd.parse(parts["OFD.xml"])
    assert root.tag == "{http://www.ofdspec.org/2016}OFD"
    assert root.findtext(f"{ofd.OFD}DocBody/{ofd.OFD}Signatures") == seal.SIGNATURES
    box = ofd.parse(parts["Doc_0/Document.xml"]).findtext(
        f"{ofd.OFD}CommonData/{ofd.OFD}PageArea/{ofd.OFD}PhysicalBox")
    assert box == "0 0 210 297"   # A4 in millimetres
    content = parts["Doc_0/Pages/Page_0/Content.xml"].decode("utf-8")
    assert "准予行政许可决定书" in content and "某公许〔2026〕001号" in content

    value = ses.SESSignature.load(parts["Doc_0/Signs/Sign_0/SignedValue.dat"])
    assert value.dump(force=True) == parts["Doc_0/Signs/Sign_0/SignedValue.dat"]
    to_sign = value["to_sign"]
    assert to_sign["version"].native == 4
    assert to_sign["data_hash"].native == sm2.sm3(parts["Doc_0/Signs/Sign_0/Signature.xml"])
    assert to_sign["property_info"].native == "/Doc_0/Signs/Sign_0/Signature.xml"
    info = to_sign["eseal"]["e_seal_info"]
    assert info["header"]["id"].native == "ES" and info["header"]["version"].native == 4
    assert "test only" in info["property"]["name"].native
    assert info["picture"]["data"].native.startswith(b"\x89PNG")
    assert to_sign["eseal"].dump() == parts["Doc_0/Signs/Sign_0/Seal.esl"]


def test_a_sealed_decision_verifies_and_says_who_sealed_it_when(
        signer: OfdSealSigner, sealed: bytes) -> None:
    found = signer.verify_document(sealed)
    assert found is not None and found.valid and found.verdict == "valid"
    assert found.sealed_by == "某市公安局电子印章（仅供测试 test only）"
    assert found.signer == "某市公安局（仅供测试 test only）"
    assert found.signed_at is not None and abs(found.signed_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_one_flipped_byte_anywhere_in_the_file_is_tampering(
        signer: OfdSealSigner, sealed: bytes) -> None:
    for offset in (60, len(sealed) // 3, len(sealed) // 2):
        changed = bytearray(sealed)
        changed[offset] ^= 0x01
        found = signer.verify_document(bytes(changed))
        assert found is not None, offset
        assert found.verdict in ("tampered", "unknown"), (offset, found)
    changed = bytearray(sealed)
    changed[60] ^= 0x01     # inside the first part's deflated data: its CRC no longer holds
    found = signer.verify_document(bytes(changed))
    assert found is not None and found.verdict == "tampered"


def test_a_changed_page_repacked_cleanly_is_tampering(signer: OfdSealSigner, sealed: bytes) -> None:
    parts = _parts(sealed)
    page = "Doc_0/Pages/Page_0/Content.xml"
    parts[page] = parts[page].replace("准予".encode(), "不予".encode())
    found = signer.verify_document(ofd.pack(parts))
    assert found is not None and found.verdict == "tampered"
    assert found.reason == "/Doc_0/Pages/Page_0/Content.xml changed after sealing"


def test_a_part_added_after_sealing_is_tampering(signer: OfdSealSigner, sealed: bytes) -> None:
    parts = _parts(sealed)
    parts["Doc_0/Pages/Page_1/Content.xml"] = parts["Doc_0/Pages/Page_0/Content.xml"]
    found = signer.verify_document(ofd.pack(parts))
    assert found is not None and found.verdict == "tampered"
    assert found.reason == "/Doc_0/Pages/Page_1/Content.xml was added after sealing"


def test_a_changed_signature_file_or_signed_value_is_tampering(
        signer: OfdSealSigner, sealed: bytes) -> None:
    parts = _parts(sealed)
    path = "Doc_0/Signs/Sign_0/Signature.xml"
    parts[path] = parts[path].replace(b'Boundary="', b'Boundary="1')
    found = signer.verify_document(ofd.pack(parts))
    assert found is not None and found.verdict == "tampered"
    assert found.reason == f"{path} changed after sealing"

    parts = _parts(sealed)
    value = bytearray(parts["Doc_0/Signs/Sign_0/SignedValue.dat"])
    value[-5] ^= 0x01        # inside the SM2 signature
    parts["Doc_0/Signs/Sign_0/SignedValue.dat"] = bytes(value)
    found = signer.verify_document(ofd.pack(parts))
    assert found is not None and found.verdict == "tampered"


def test_a_seal_used_after_its_validity_window_has_expired(signer: OfdSealSigner) -> None:
    package = _seal_with(signer, valid_start=NOW - timedelta(days=400),
                         valid_end=NOW - timedelta(days=35))
    found = signer.verify_document(package)
    assert found is not None and found.verdict == "expired" and not found.valid
    assert found.reason == "the seal was used outside its validity window"
    assert found.sealed_by == "某市公安局电子印章（仅供测试）"


def test_a_seal_used_before_its_validity_window_has_expired_too(signer: OfdSealSigner) -> None:
    package = _seal_with(signer, valid_start=NOW + timedelta(days=2),
                         valid_end=NOW + timedelta(days=400))
    found = signer.verify_document(package)
    assert found is not None and found.verdict == "expired"


def test_a_certificate_the_seal_does_not_list_may_not_use_it(signer: OfdSealSigner) -> None:
    package = _seal_with(signer, holder_code="civil-affairs", seal_code="police")
    found = signer.verify_document(package)
    assert found is not None and found.verdict == "not_allowed"
    assert found.reason == "the signer's certificate is not in the seal's certList"
    assert found.signer == "某区民政局（仅供测试 test only）"


def test_a_seal_from_a_seal_maker_no_trusted_ca_issued_is_unknown(
        signer: OfdSealSigner, tmp_path: Path) -> None:
    stranger = KeyStore(tmp_path / "stranger")
    package = _seal_with(signer, maker=stranger)
    found = signer.verify_document(package)
    assert found is not None and found.verdict == "unknown"
    assert found.reason == "the seal maker's certificate is not issued by a trusted CA"


def test_files_that_are_no_ofd_are_not_the_ofd_signers_and_an_unsealed_ofd_is_unknown(
        signer: OfdSealSigner) -> None:
    assert signer.verify_document(b"%PDF-1.7\n") is None
    assert signer.verify_document(b"") is None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert signer.verify_document(buffer.getvalue()) is None
    package, _ = ofd.write(doc_id="x", title="无章文件", paragraphs=("正文",), issuer="某局",
                           issued_on=date(2026, 1, 1))
    found = signer.verify_document(package)
    assert found is not None and found.verdict == "unknown"
    assert found.reason == "the document carries no seal"


def test_the_demo_key_store_is_made_once_marked_test_only_and_readable_by_its_owner_only(
        tmp_path: Path) -> None:
    first = KeyStore(tmp_path)
    second = KeyStore(tmp_path)
    assert second.ca.certificate.dump() == first.ca.certificate.dump()
    assert second.seals["platform"].seal == first.seals["platform"].seal
    assert "test only" in sm2.common_name(first.ca.certificate)
    assert "test only" in sm2.common_name(first.maker.certificate)
    assert os.stat(first.path).st_mode & 0o777 == 0o600
    assert sm2.issued_by(first.maker.certificate, first.ca.certificate)


def test_a_second_seal_on_the_same_document_keeps_the_first_valid(signer: OfdSealSigner,
                                                                   sealed: bytes) -> None:
    other = signer.store.seal_for("civil-affairs", "某区民政局")
    twice = seal.sign_ofd(sealed, seal=other.seal, certificate=other.holder.certificate,
                          sign=other.holder.key.sign, when=NOW, stamp=(0, 20, 200, 40, 40))
    assert "Doc_0/Signs/Sign_1/SignedValue.dat" in _parts(twice)
    found = signer.verify_document(twice)
    assert found is not None and found.verdict == "valid"


def test_the_detached_signature_half_of_the_contract_finds_any_change(
        signer: OfdSealSigner) -> None:
    signature = signer.sign(b"decision 2026-001", purpose="decision")
    assert signer.verify(b"decision 2026-001", signature).valid
    assert signer.verify(b"decision 2026-002", signature).verdict == "tampered"


def test_a_seal_in_the_older_gmt_0031_2014_layout_is_read_and_checked_too(
        signer: OfdSealSigner, sealed: bytes) -> None:
    """GM/T 0031-2014 ("v2") kept the certificate and algorithm inside the signed part."""
    store = signer.store
    holder = store.seal_for("police", "某市公安局").holder
    info = ses.V2SealInfo({
        "header": {"id": "ES", "version": 2, "vid": "TEST"},
        "es_id": "V2-TEST",
        "property": {"type": 1, "name": "旧版测试章（仅供测试）",
                     "cert_list": ses.CertInfoList([holder.certificate.dump()]),
                     "create_date": NOW - timedelta(hours=1),
                     "valid_start": NOW - timedelta(days=1), "valid_end": NOW + timedelta(days=30)},
        "picture": {"type": "PNG", "data": stamp.draw("旧版"), "width": 40, "height": 40},
    })
    seal_v2 = ses.V2SESeal({"e_seal_info": info, "sign_info": {
        "cert": store.maker.certificate.dump(), "signature_algorithm": sm2.SM2_WITH_SM3,
        "sign_data": store.maker.key.sign(info.dump())}})
    parts = _parts(sealed)
    signature_xml = parts["Doc_0/Signs/Sign_0/Signature.xml"]
    to_sign = ses.V2TBSSign({
        "version": 2, "eseal": seal_v2,
        "time_info": NOW.strftime("%Y%m%d%H%M%SZ").encode(),
        "data_hash": sm2.sm3(signature_xml), "property_info": "/Doc_0/Signs/Sign_0/Signature.xml",
        "cert": holder.certificate.dump(), "signature_algorithm": sm2.SM2_WITH_SM3})
    parts["Doc_0/Signs/Sign_0/SignedValue.dat"] = ses.V2SESSignature({
        "to_sign": to_sign, "signature": holder.key.sign(to_sign.dump())}).dump()
    found = signer.verify_document(ofd.pack(parts))
    assert found is not None and found.verdict == "valid", found
    assert found.sealed_by == "旧版测试章（仅供测试）" and found.signed_at == NOW


def test_plugin_health_says_the_seals_are_test_only(signer: OfdSealSigner, tmp_path: Path) -> None:
    import tongban_ofd_seal

    report = tongban_ofd_seal.tongban_health({"SEAL_DIR": str(signer.folder)})
    assert report.state == "ok" and report.detail.startswith("TEST ONLY demo CA")
    empty = tongban_ofd_seal.tongban_health({"SEAL_DIR": str(tmp_path)})
    assert empty.detail == "no key store yet: it is made when a document is first sealed"


def test_a_long_decision_runs_onto_more_pages_and_the_stamp_goes_on_the_last(
        signer: OfdSealSigner) -> None:
    reason = "经审查，申请材料中的住所证明与登记地址不符，且未在规定期限内补正。"
    long_draft = DocumentDraft(
        title="不予行政许可决定书", paragraphs=("申请人张三：", *([reason] * 40)),
        issuer="某市公安局", issued_on=date(2026, 12, 3), reference="不许〔2026〕002号",
        department="police")
    sealed = signer.seal(long_draft, purpose="decision").content
    parts = _parts(sealed)
    pages = sorted(name for name in parts if name.startswith("Doc_0/Pages/"))
    assert len(pages) >= 2 and pages[0] == "Doc_0/Pages/Page_0/Content.xml"
    document = ofd.parse(parts["Doc_0/Document.xml"])
    page_ids = [page.get("ID") for page in document.iter(f"{ofd.OFD}Page")]
    annot = ofd.parse(parts["Doc_0/Signs/Sign_0/Signature.xml"]).find(
        f"{ofd.OFD}SignedInfo/{ofd.OFD}StampAnnot")
    assert annot is not None and annot.get("PageRef") == page_ids[-1]
    for name in pages:      # every line inside the page's printable height
        for obj in ofd.parse(parts[name]).iter(f"{ofd.OFD}TextObject"):
            top, height = (float(v) for v in obj.get("Boundary", "").split()[1::2])
            assert top + height <= ofd.PAGE_HEIGHT - ofd.MARGIN_BOTTOM + ofd.BODY_SIZE
    found = signer.verify_document(sealed)
    assert found is not None and found.verdict == "valid"
