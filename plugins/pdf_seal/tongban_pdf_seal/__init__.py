"""PAdES signatures on PDF decisions (``SIGNER = "pdf-seal"``), for use abroad: the decision is
rendered from HTML by WeasyPrint with a CJK font and signed with pyHanko by the department's
certificate from a demo CA (ECDSA P-256, SHA-256), made on first start under ``SEAL_DIR`` and
named "test only". Chinese government documents use the OFD seal (``ofd_seal``); this one is
for those who check PDFs with common PDF readers (docs/seals.md)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tongban.plugin_api import (
    ConnectorError,
    DocumentDraft,
    MadeOnFirstUse,
    SealedDocument,
    Signature,
    Verification,
    hookimpl,
    signer_in_use,
)

from . import pades
from .keystore import PLATFORM, KeyStore

__version__ = "0.1.0"
PLUGIN_NAME = "pdf_seal"
ALGORITHM = "PAdES baseline (ETSI.CAdES.detached), ECDSA P-256 with SHA-256"


class PdfSealSigner:
    id = "pdf-seal"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._store = MadeOnFirstUse(lambda: KeyStore(folder))

    @property
    def store(self) -> KeyStore:
        return self._store.get()

    def seal(self, draft: DocumentDraft, *, purpose: str) -> SealedDocument:
        try:
            holder = self.store.seal_for(draft.department or PLATFORM, draft.issuer or "通办平台")
        except OSError as exc:
            raise ConnectorError(f"the seal key store cannot be read or written: {exc}",
                                 transient=False) from None
        when = datetime.now(UTC).replace(microsecond=0)
        signed = pades.sign(pades.render(draft), holder, self.store.ca,
                            reason=f"{draft.title} {draft.reference}".strip(),
                            location=draft.issuer)
        return SealedDocument(signed, pades.MEDIA_TYPE, "pdf",
                              Signature(self.id, hashlib.sha256(signed).hexdigest(), ALGORITHM,
                                        signed_by=holder.name, signed_at=when))

    def verify_document(self, document: bytes) -> Verification | None:
        store = self.store
        finding = pades.check(document, store.ca.asn1_certificate, store.allowed())
        if finding is None:
            return None
        return Verification(finding.verdict == "valid", finding.reason, verdict=finding.verdict,
                            sealed_by=store.seal_name(finding.certificate) or finding.signer,
                            signer=finding.signer, signed_at=finding.signed_at)

    # Detached signatures of arbitrary bytes: ECDSA by the platform's certificate, hex.
    def sign(self, document: bytes, *, purpose: str) -> Signature:
        holder = self.store.seal_for(PLATFORM, "通办平台")
        value = holder.key.sign(document, ec.ECDSA(hashes.SHA256()))
        return Signature(self.id, value.hex(), "ECDSA P-256 with SHA-256", signed_by=holder.name,
                         signed_at=datetime.now(UTC))

    def verify(self, document: bytes, signature: Signature) -> Verification:
        if signature.signer_id != self.id:
            return Verification(False, f"signed by {signature.signer_id!r}, not {self.id!r}")
        holder = self.store.seal_for(PLATFORM, "通办平台")
        try:
            holder.key.public_key().verify(bytes.fromhex(signature.value), document,
                                           ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return Verification(False, "the document changed after it was signed")
        return Verification(True, sealed_by=signature.signed_by, signed_at=signature.signed_at)


@hookimpl
def tongban_signers(settings: dict[str, Any]) -> list[PdfSealSigner]:
    signer = PdfSealSigner(Path(settings.get("SEAL_DIR") or "instance/seals"))
    if signer_in_use(settings, signer.id):
        signer.store  # noqa: B018 - the demo CA and certificates are made on first start
    return [signer]
