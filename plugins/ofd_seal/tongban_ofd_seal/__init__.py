"""GB/T 38540 e-seals on OFD documents (``SIGNER = "ofd-seal"``): lays a decision out as an
A4 OFD (GB/T 33190), seals it with the department's SM2 seal and checks sealed OFD
files for the public verification page. The keys are a demo CA's, seal maker's and
departments', made on first start under ``SEAL_DIR`` and named "test only" (docs/seals.md).
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tongban.plugin_api import (
    ConnectorError,
    DocumentDraft,
    HealthReport,
    MadeOnFirstUse,
    SealedDocument,
    Signature,
    Verification,
    hookimpl,
    signer_in_use,
)

from . import ofd, seal, sm2
from .keystore import FILE_NAME, PLATFORM, KeyStore

__version__ = "0.1.0"
PLUGIN_NAME = "ofd_seal"
ALGORITHM = "GB/T 38540-2020 SES_Signature, SM2 with SM3, on OFD (GB/T 33190)"


class OfdSealSigner:
    id = "ofd-seal"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._store = MadeOnFirstUse(lambda: KeyStore(folder))

    @property
    def store(self) -> KeyStore:
        return self._store.get()

    def seal(self, draft: DocumentDraft, *, purpose: str) -> SealedDocument:
        try:
            department = self.store.seal_for(draft.department or PLATFORM,
                                             draft.issuer or "通办平台")
        except OSError as exc:
            raise ConnectorError(f"the seal key store cannot be read or written: {exc}",
                                 transient=False) from None
        when = datetime.now(UTC).replace(microsecond=0)
        package, layout = ofd.write(
            doc_id=hashlib.sha256(f"{draft.reference}|{when.isoformat()}".encode()).hexdigest()[:32],
            title=draft.title, paragraphs=draft.paragraphs, issuer=draft.issuer,
            issued_on=draft.issued_on, reference=draft.reference)
        sealed = seal.sign_ofd(package, seal=department.seal,
                               certificate=department.holder.certificate,
                               sign=department.holder.key.sign, when=when, stamp=layout.stamp)
        return SealedDocument(
            content=sealed, media_type=ofd.MEDIA_TYPE, extension="ofd",
            signature=Signature(signer_id=self.id, value=sm2.sm3(sealed).hex(),
                                algorithm=ALGORITHM, signed_by=department.name, signed_at=when))

    def verify_document(self, document: bytes) -> Verification | None:
        finding = seal.check_package(document, self.store.trusted)
        if finding is None:
            return None
        return Verification(finding.verdict == seal.VALID, finding.reason,
                            verdict=finding.verdict, sealed_by=finding.seal_name,
                            signer=finding.signer, signed_at=finding.signed_at)

    # Detached signatures of arbitrary bytes (the Signer contract's first half): an SM2
    # signature by the platform's certificate, base64 in the Signature's value.
    def sign(self, document: bytes, *, purpose: str) -> Signature:
        holder = self.store.seal_for(PLATFORM, "通办平台").holder
        return Signature(signer_id=self.id, value=base64.b64encode(holder.key.sign(document)).decode(),
                         algorithm="SM2 with SM3", signed_by=sm2.common_name(holder.certificate),
                         signed_at=datetime.now(UTC))

    def verify(self, document: bytes, signature: Signature) -> Verification:
        if signature.signer_id != self.id:
            return Verification(False, f"signed by {signature.signer_id!r}, not {self.id!r}")
        holder = self.store.seal_for(PLATFORM, "通办平台").holder
        try:
            value = base64.b64decode(signature.value, validate=True)
        except ValueError:
            return Verification(False, "the signature is not base64")
        if not sm2.verify(holder.key.public, document, value):
            return Verification(False, "the document changed after it was signed")
        return Verification(True, sealed_by=signature.signed_by, signed_at=signature.signed_at)


def seal_folder(settings: dict[str, Any]) -> Path:
    return Path(settings.get("SEAL_DIR") or "instance/seals")


@hookimpl
def tongban_signers(settings: dict[str, Any]) -> list[OfdSealSigner]:
    signer = OfdSealSigner(seal_folder(settings))
    if signer_in_use(settings, signer.id):
        signer.store  # noqa: B018 - the demo CA and seals are made on first start
    return [signer]


@hookimpl
def tongban_health(settings: dict[str, Any]) -> HealthReport:
    """Say plainly that the seals are the demo's: verifiable, but not legally recognised."""
    path = seal_folder(settings) / FILE_NAME
    if not path.exists():
        return HealthReport("ok", "no key store yet: it is made when a document is first sealed")
    if not os.access(path, os.R_OK | os.W_OK):
        return HealthReport("down", f"the key store {path} cannot be read and written")
    return HealthReport("ok", f"TEST ONLY demo CA, seal maker and seals in {path}: they verify "
                              "but are not legally recognised seals")
