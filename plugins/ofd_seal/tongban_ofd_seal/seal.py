"""Making GB/T 38540 seals, sealing OFD packages with them, and checking sealed packages.

Sealing follows the OFD signature layout (GB/T 33190 §18): ``OFD.xml`` points to
``Doc_0/Signs/Signatures.xml``, which lists each ``Sign_N/Signature.xml``; that file holds the
SM3 digest of every other part of the package, where the stamp appears and where the seal is;
``SignedValue.dat`` holds the DER ``SES_Signature`` whose ``dataHash`` is SM3(Signature.xml).
The private key never enters this module: signing is a callable (a UKey or HSM may answer it).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from asn1crypto import x509
from lxml import etree

from . import ofd, ses, sm2
from .ofd import OFD, element, parse, resolve, xml

SIGNATURES = "Doc_0/Signs/Signatures.xml"
VENDOR = "TONGBAN-TEST-ONLY"

# What a check found, worst first when several signatures disagree.
TAMPERED, NOT_ALLOWED, EXPIRED, UNKNOWN, VALID = ("tampered", "not_allowed", "expired",
                                                   "unknown", "valid")
SEVERITY = {TAMPERED: 0, UNKNOWN: 1, NOT_ALLOWED: 2, EXPIRED: 3, VALID: 4}


def _second(value: datetime) -> datetime:
    return sm2.utc(value).replace(microsecond=0)


def make_seal(*, es_id: str, name: str, maker_certificate: x509.Certificate,
              maker_sign: Callable[[bytes], bytes], allowed: list[x509.Certificate],
              valid_start: datetime, valid_end: datetime, picture: bytes,
              created: datetime | None = None, kind: int = 1,
              picture_size_mm: int = 40) -> bytes:
    """The DER ``SESeal`` (v4): ``allowed`` are the certificates that may use it (certList of
    type 1), signed by the seal maker over the DER of ``eSealInfo``."""
    info = ses.SealInfo({
        "header": {"id": "ES", "version": 4, "vid": VENDOR},
        "es_id": es_id,
        "property": {
            "type": kind,
            "name": name,
            "cert_list_type": ses.CERT_LIST_CERTIFICATES,
            "cert_list": ses.CertInfoList([c.dump() for c in allowed]),
            "create_date": _second(created or datetime.now(UTC)),
            "valid_start": _second(valid_start),
            "valid_end": _second(valid_end),
        },
        "picture": {"type": "PNG", "data": picture, "width": picture_size_mm,
                    "height": picture_size_mm},
    })
    return bytes(ses.SESeal({
        "e_seal_info": info,
        "cert": maker_certificate.dump(),
        "sign_alg_id": sm2.SM2_WITH_SM3,
        "signed_value": maker_sign(info.dump()),
    }).dump())


def _page_id(parts: dict[str, bytes], doc_root: str, number: int) -> str:
    """The ID of page ``number`` (from 0; -1 the last) in the document's page list."""
    pages = parse(parts[doc_root]).findall(f"{OFD}Pages/{OFD}Page")
    if not pages:
        raise ValueError("the document has no page to put the stamp on")
    try:
        return pages[number].get("ID", "1")
    except IndexError:
        raise ValueError(f"the document has no page {number + 1} to put the stamp on") from None


def sign_ofd(package: bytes, *, seal: bytes, certificate: x509.Certificate,
             sign: Callable[[bytes], bytes], when: datetime,
             stamp: tuple[int, float, float, float, float]) -> bytes:
    """``package`` with one more seal: ``seal`` (DER SESeal) used by the holder of
    ``certificate``, whose key ``sign`` answers for; the stamp drawn at ``stamp`` (page from
    0, then x, y, width, height in mm)."""
    parts = ofd.unpack(package)
    root = parse(parts["OFD.xml"])
    body = root.find(f"{OFD}DocBody")
    if body is None or body.findtext(f"{OFD}DocRoot") is None:
        raise ValueError("OFD.xml has no DocBody/DocRoot")
    doc_root = resolve("OFD.xml", body.findtext(f"{OFD}DocRoot") or "")
    listed = body.findtext(f"{OFD}Signatures")
    if listed is None:
        element(body, "Signatures", SIGNATURES)
        signatures_path = SIGNATURES
        signatures = element(None, "Signatures")
        element(signatures, "MaxSignId", "0")
        parts["OFD.xml"] = xml(root)
    else:
        signatures_path = resolve("OFD.xml", listed)
        signatures = parse(parts[signatures_path])
    number = len(signatures.findall(f"{OFD}Signature"))
    folder = f"{signatures_path.rsplit('/', 1)[0]}/Sign_{number}"
    signature_path = f"{folder}/Signature.xml"
    max_id = signatures.find(f"{OFD}MaxSignId")
    new_id = str(number + 1)
    if max_id is not None:
        max_id.text = new_id
    element(signatures, "Signature", ID=new_id, Type="Seal", BaseLoc=f"/{signature_path}")
    parts[signatures_path] = xml(signatures)
    parts[f"{folder}/Seal.esl"] = seal

    signed_at = _second(when)
    signature = element(None, "Signature")
    info = element(signature, "SignedInfo")
    element(info, "Provider", ProviderName="tongban ofd_seal (test only)", Version="0.1.0",
            Company="tongban")
    element(info, "SignatureMethod", sm2.SM2_WITH_SM3)
    element(info, "SignatureDateTime", signed_at.strftime("%Y%m%d%H%M%SZ"))
    references = element(info, "References", CheckMethod=sm2.SM3)
    for name in sorted(parts):
        if name == signatures_path or name.startswith(folder + "/"):
            continue
        reference = element(references, "Reference", FileRef=f"/{name}")
        element(reference, "CheckValue", base64.b64encode(sm2.sm3(parts[name])).decode())
    page, x, y, width, height = stamp
    element(info, "StampAnnot", ID="1", PageRef=_page_id(parts, doc_root, page),
            Boundary=f"{x:.2f} {y:.2f} {width:.2f} {height:.2f}")
    element(element(info, "Seal"), "BaseLoc", f"/{folder}/Seal.esl")
    element(signature, "SignedValue", f"/{folder}/SignedValue.dat")
    signature_xml = xml(signature)
    parts[signature_path] = signature_xml

    to_sign = ses.TBSSign({
        "version": 4,
        "eseal": ses.SESeal.load(seal),
        "time_info": signed_at,
        "data_hash": sm2.sm3(signature_xml),
        "property_info": f"/{signature_path}",
    })
    parts[f"{folder}/SignedValue.dat"] = bytes(ses.SESSignature({
        "to_sign": to_sign,
        "cert": certificate.dump(),
        "signature_alg_id": sm2.SM2_WITH_SM3,
        "signature": sign(to_sign.dump()),
    }).dump())
    return ofd.pack(parts)


# --- checking ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """What checking one seal (or the whole package) found: a verdict, the reason in English,
    and who sealed it when (empty when the structure could not be read)."""

    verdict: str
    reason: str = ""
    seal_name: str = ""
    seal_id: str = ""
    signer: str = ""
    organisation: str = ""
    signed_at: datetime | None = None
    valid_start: datetime | None = None
    valid_end: datetime | None = None


@dataclass(frozen=True)
class _Parsed:
    """An SES_Signature of either layout, reduced to what the checks need."""

    to_sign: bytes
    signature: bytes
    signer_der: bytes
    signed_at: datetime
    data_hash: bytes
    seal_info: bytes
    maker_der: bytes
    maker_signature: bytes
    seal_name: str
    seal_id: str
    cert_list_type: int
    cert_list: list[bytes]
    created: datetime
    valid_start: datetime
    valid_end: datetime


def _parse_v4(der: bytes) -> _Parsed:
    value = ses.SESSignature.load(der, strict=True)
    to_sign = value["to_sign"]
    if int(to_sign["version"].native) != 4:
        raise ValueError("not a version 4 SES_Signature")
    seal = to_sign["eseal"]
    info = seal["e_seal_info"]
    prop = info["property"]
    kind, entries = ses.cert_list(prop)
    return _Parsed(
        to_sign=to_sign.dump(), signature=bytes(value["signature"].native),
        signer_der=bytes(value["cert"].native), signed_at=to_sign["time_info"].native,
        data_hash=bytes(to_sign["data_hash"].native), seal_info=info.dump(),
        maker_der=bytes(seal["cert"].native), maker_signature=bytes(seal["signed_value"].native),
        seal_name=str(prop["name"].native), seal_id=str(info["es_id"].native),
        cert_list_type=kind, cert_list=entries, created=prop["create_date"].native,
        valid_start=prop["valid_start"].native, valid_end=prop["valid_end"].native)


def _parse_v2(der: bytes) -> _Parsed:
    """GM/T 0031-2014: certificate and algorithm inside toSign; timeInfo is UTCTime text."""
    value = ses.V2SESSignature.load(der, strict=True)
    to_sign = value["to_sign"]
    seal = to_sign["eseal"]
    info = seal["e_seal_info"]
    prop = info["property"]
    when_text = bytes(to_sign["time_info"].native).decode("ascii")
    signed_at = _v2_time(when_text)
    return _Parsed(
        to_sign=to_sign.dump(), signature=bytes(value["signature"].native),
        signer_der=bytes(to_sign["cert"].native), signed_at=signed_at,
        data_hash=bytes(to_sign["data_hash"].native), seal_info=info.dump(),
        maker_der=bytes(seal["sign_info"]["cert"].native),
        maker_signature=bytes(seal["sign_info"]["sign_data"].native),
        seal_name=str(prop["name"].native), seal_id=str(info["es_id"].native),
        cert_list_type=ses.CERT_LIST_CERTIFICATES,
        cert_list=[bytes(item.native) for item in prop["cert_list"]],
        created=prop["create_date"].native, valid_start=prop["valid_start"].native,
        valid_end=prop["valid_end"].native)


def _v2_time(text: str) -> datetime:
    for pattern in ("%Y%m%d%H%M%SZ", "%y%m%d%H%M%SZ", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"timeInfo {text!r} is not a time")


def parse_signature(der: bytes) -> _Parsed:
    """An SES_Signature in the 2020 layout, or else the 2014 one; ValueError for neither."""
    problems = []
    for reader in (_parse_v4, _parse_v2):
        try:
            return reader(der)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(str(exc))
    raise ValueError("SignedValue.dat is not an SES_Signature: " + "; ".join(problems))


def _digest_matches(entry: bytes, certificate: bytes) -> bool:
    return entry in (sm2.sm3(certificate),)


def check_signature(parts: dict[str, bytes], signature_path: str,
                    trusted: list[x509.Certificate]) -> Finding:
    """Every check of GB/T 38540 on one seal in the package, in the order a verifier makes
    them: the structure, the signer's signature, the protected content, the seal maker's
    signature, trust, the signer in the seal's certList, and the seal's validity window."""
    try:
        signature = parse(parts[signature_path])
    except (KeyError, etree.XMLSyntaxError):
        return Finding(TAMPERED, f"{signature_path} is missing or not XML")
    info = signature.find(f"{OFD}SignedInfo")
    value_loc = signature.findtext(f"{OFD}SignedValue")
    if info is None or value_loc is None:
        return Finding(TAMPERED, f"{signature_path} has no SignedInfo or SignedValue")
    try:
        value_path = resolve(signature_path, value_loc)
        parsed = parse_signature(parts[value_path])
        signer = sm2.load(parsed.signer_der)
        maker = sm2.load(parsed.maker_der)
    except (KeyError, ValueError) as exc:
        return Finding(TAMPERED, f"the signed value cannot be read: {exc}")
    who = Finding(VALID, seal_name=parsed.seal_name, seal_id=parsed.seal_id,
                  signer=sm2.common_name(signer),
                  organisation=str(signer.subject.native.get("organization_name", "")),
                  signed_at=parsed.signed_at, valid_start=parsed.valid_start,
                  valid_end=parsed.valid_end)

    def found(verdict: str, reason: str = "") -> Finding:
        return replace(who, verdict=verdict, reason=reason)

    try:
        signer_key = sm2.public_key_of(signer)
    except ValueError as exc:
        return found(UNKNOWN, str(exc))
    if not sm2.verify(signer_key, parsed.to_sign, parsed.signature):
        return found(TAMPERED, "the signer's SM2 signature does not match the signed data")
    if parsed.data_hash != sm2.sm3(parts[signature_path]):
        return found(TAMPERED, f"{signature_path} changed after sealing")

    references = info.find(f"{OFD}References")
    if references is None or references.get("CheckMethod") not in (sm2.SM3, "SM3"):
        return found(UNKNOWN, "the references are not SM3 digests")
    covered = set()
    for reference in references.findall(f"{OFD}Reference"):
        try:
            path = resolve(signature_path, reference.get("FileRef", ""))
        except ValueError:
            return found(TAMPERED, "a reference points outside the package")
        covered.add(path)
        expected = base64.b64decode(reference.findtext(f"{OFD}CheckValue") or "")
        if path not in parts:
            return found(TAMPERED, f"/{path} was removed after sealing")
        if sm2.sm3(parts[path]) != expected:
            return found(TAMPERED, f"/{path} changed after sealing")
    signs_folder = signature_path.rsplit("/", 2)[0]
    for name in parts:
        if name not in covered and not name.startswith(signs_folder + "/"):
            return found(TAMPERED, f"/{name} was added after sealing")

    try:
        maker_key = sm2.public_key_of(maker)
    except ValueError as exc:
        return found(UNKNOWN, f"seal maker: {exc}")
    if not sm2.verify(maker_key, parsed.seal_info, parsed.maker_signature):
        return found(TAMPERED, "the seal maker's signature over the seal does not match")
    maker_ca = next((ca for ca in trusted if sm2.issued_by(maker, ca)), None)
    if maker_ca is None:
        return found(UNKNOWN, "the seal maker's certificate is not issued by a trusted CA")
    if not sm2.valid_at(maker, parsed.created):
        return found(UNKNOWN, "the seal maker's certificate was not valid when the seal "
                              "was made")
    signer_ca = next((ca for ca in trusted if sm2.issued_by(signer, ca)), None)
    if signer_ca is None:
        return found(UNKNOWN, "the signer's certificate is not issued by a trusted CA")

    signer_der = signer.dump()
    allowed = (signer_der in parsed.cert_list
               if parsed.cert_list_type == ses.CERT_LIST_CERTIFICATES
               else any(_digest_matches(entry, signer_der) for entry in parsed.cert_list))
    if not allowed:
        return found(NOT_ALLOWED, "the signer's certificate is not in the seal's certList")
    if not parsed.valid_start <= parsed.signed_at <= parsed.valid_end:
        return found(EXPIRED, "the seal was used outside its validity window")
    if not sm2.valid_at(signer, parsed.signed_at):
        return found(EXPIRED, "the signer's certificate was not valid at signing time")
    return who


def check_package(package: bytes, trusted: list[x509.Certificate]) -> Finding | None:
    """The verdict on a sealed OFD package: None when the bytes are not OFD at all; the worst
    finding over its seals otherwise ("unknown" when it carries none)."""
    try:
        parts = ofd.unpack(package)
    except ofd.NotAnOfd:
        return None
    except ofd.DamagedPackage as exc:
        return Finding(TAMPERED, str(exc))
    except ofd.TooLarge as exc:
        return Finding(UNKNOWN, str(exc))
    try:
        root = parse(parts["OFD.xml"])
    except etree.XMLSyntaxError:
        return Finding(TAMPERED, "OFD.xml is not XML")
    listed = root.findtext(f"{OFD}DocBody/{OFD}Signatures")
    if not listed:
        return Finding(UNKNOWN, "the document carries no seal")
    try:
        signatures_path = resolve("OFD.xml", listed)
        signatures = parse(parts[signatures_path])
    except (KeyError, ValueError, etree.XMLSyntaxError):
        return Finding(TAMPERED, "the list of signatures is missing or broken")
    findings = []
    for entry in signatures.findall(f"{OFD}Signature"):
        try:
            path = resolve(signatures_path, entry.get("BaseLoc", ""))
        except ValueError:
            return Finding(TAMPERED, "a signature points outside the package")
        findings.append(check_signature(parts, path, trusted))
    if not findings:
        return Finding(UNKNOWN, "the document carries no seal")
    return min(findings, key=lambda finding: SEVERITY[finding.verdict])
