"""PDF decisions: HTML to PDF with WeasyPrint (Chinese set in the system's CJK font), a PAdES
baseline signature with pyHanko, and validation with pyHanko against the demo CA."""

from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tongban.plugin_api import DocumentDraft

from .keystore import Holder

MEDIA_TYPE = "application/pdf"
FONT_FAMILY = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif"
FIELD = "TongbanSeal"

logging.getLogger("fontTools").setLevel(logging.WARNING)   # subsetting chatter

T = TypeVar("T")


def _without_a_running_loop(call: Callable[[], T]) -> T:
    """``call()``, which reaches pyHanko's synchronous API (it runs its own event loop with
    ``asyncio.run``): in a thread of its own when this thread already runs a loop (a caller
    inside an async framework), since a second loop cannot start in the same thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def page_html(draft: DocumentDraft) -> str:
    """The draft as an A4 page (the draft's own HTML when it has one)."""
    if draft.html:
        return draft.html
    paragraphs = "\n".join(f"<p>{html.escape(text)}</p>" for text in draft.paragraphs)
    day = draft.issued_on
    return f"""<!doctype html><html lang="{html.escape(draft.language)}"><head><meta charset="utf-8">
<title>{html.escape(draft.title)}</title><style>
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
body {{ font-family: {FONT_FAMILY}; font-size: 16pt; line-height: 1.6; }}
h1 {{ font-size: 22pt; text-align: center; font-weight: normal; margin: 0 0 6mm; }}
.reference {{ text-align: center; margin: 0 0 8mm; }}
p {{ text-indent: 2em; margin: 0; }}
.issuer {{ text-align: right; margin-top: 18mm; text-indent: 0; padding-right: 2em; }}
</style></head><body>
<h1>{html.escape(draft.title)}</h1>
<p class="reference">{html.escape(draft.reference)}</p>
{paragraphs}
<p class="issuer">{html.escape(draft.issuer)}<br>{day.year}年{day.month}月{day.day}日</p>
</body></html>"""


def render(draft: DocumentDraft) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango and fonts, a second or so

    pdf = HTML(string=page_html(draft)).write_pdf()
    if pdf is None:  # pragma: no cover - write_pdf returns bytes without a target
        raise RuntimeError("WeasyPrint wrote no PDF")
    return bytes(pdf)


def sign(pdf: bytes, holder: Holder, ca: Holder, *, reason: str, location: str = "") -> bytes:
    """``pdf`` with a PAdES (ETSI.CAdES.detached) signature by ``holder``."""
    signer = signers.SimpleSigner(
        signing_cert=holder.asn1_certificate, signing_key=holder.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([ca.asn1_certificate]))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location or None, name=holder.name or None)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = _without_a_running_loop(lambda: signers.sign_pdf(writer, meta, signer=signer))
    return out.getvalue()


@dataclass(frozen=True)
class Finding:
    verdict: str
    reason: str = ""
    signer: str = ""
    signed_at: datetime | None = None
    certificate: bytes = b""


def _common_name(certificate: asn1_x509.Certificate) -> str:
    return str(certificate.subject.native.get("common_name", ""))


def check(pdf: bytes, ca: asn1_x509.Certificate, allowed: set[bytes]) -> Finding | None:
    """The verdict on a signed PDF: None when the bytes are not a PDF; otherwise valid,
    tampered (bytes changed, or content added after signing), unknown (no signature, an
    untrusted CA), not_allowed (a certificate of the CA that is no department's seal) or
    expired (the certificate was not valid when the signature says it was made)."""
    if not pdf.lstrip()[:5] == b"%PDF-":
        return None
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # a damaged PDF breaks pyHanko's reader in many ways
        return Finding("tampered", f"the PDF cannot be read: {type(exc).__name__}: {exc}")
    if not embedded:
        return Finding("unknown", "the PDF carries no signature")
    findings = []
    for signature in embedded:
        try:
            status = _without_a_running_loop(lambda signature=signature: validate_pdf_signature(
                signature, ValidationContext(trust_roots=[ca])))
        except Exception as exc:  # zlib.error, NotImplementedError (an unknown filter), ...
            findings.append(Finding("tampered", "the signature cannot be checked: "
                                                f"{type(exc).__name__}: {exc}"))
            continue
        certificate = status.signing_cert
        who = {"signer": _common_name(certificate), "signed_at": status.signer_reported_dt,
               "certificate": certificate.dump()}
        if not status.intact or not status.valid:
            findings.append(Finding("tampered", "the signed bytes changed after signing", **who))
        elif status.coverage is None or status.coverage.name != "ENTIRE_FILE" and (
                status.modification_level is None
                or status.modification_level.name not in ("NONE", "LTA_UPDATES")):
            findings.append(Finding("tampered", "content was added after signing", **who))
        elif not status.trusted:
            validity = certificate["tbs_certificate"]["validity"]
            when = status.signer_reported_dt
            if (when is not None and ca.subject == certificate.issuer
                    and not validity["not_before"].native <= when <= validity["not_after"].native):
                findings.append(Finding("expired", "the certificate was not valid at signing "
                                                   "time", **who))
            else:
                findings.append(Finding("unknown", "the certificate is not issued by a trusted "
                                                   "CA, or is no longer valid", **who))
        elif certificate.dump() not in allowed:
            findings.append(Finding("not_allowed", "the certificate is not one of the "
                                                   "departments' seals", **who))
        else:
            findings.append(Finding("valid", **who))
    order = {"tampered": 0, "unknown": 1, "not_allowed": 2, "expired": 3, "valid": 4}
    return min(findings, key=lambda finding: order[finding.verdict])
