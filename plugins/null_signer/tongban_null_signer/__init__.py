"""The null document signer (``SIGNER = "null"``): the twin of a department's e-seal service
for development and tests. Its "signature" is the document's SHA-256, so verification finds any
change to the bytes, but anyone can make one: it has no key and no legal force. Its "sealed"
documents are plain text with the hash on a last line. Real signers (``ofd_seal``,
``pdf_seal``) offer the same :class:`~tongban.plugin_api.Signer` shape.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

from tongban.plugin_api import (
    DocumentDraft,
    SealedDocument,
    Signature,
    Verification,
    hookimpl,
)

__version__ = "0.1.0"
PLUGIN_NAME = "null_signer"
ALGORITHM = "sha256 (null signer: no key)"
TRAILER = re.compile(rb"\n-- tongban null seal: ([0-9a-f]{64}) at (\S+) by (.*)\n\Z")


class NullSigner:
    id = "null"

    def sign(self, document: bytes, *, purpose: str) -> Signature:
        return Signature(signer_id=self.id, value=hashlib.sha256(document).hexdigest(),
                         algorithm=ALGORITHM, signed_by=f"null signer ({purpose})",
                         signed_at=datetime.now(UTC))

    def verify(self, document: bytes, signature: Signature) -> Verification:
        if signature.signer_id != self.id:
            return Verification(False, f"signed by {signature.signer_id!r}, not the null signer")
        if not hmac.compare_digest(signature.value, hashlib.sha256(document).hexdigest()):
            return Verification(False, "the document changed after it was signed")
        return Verification(True)

    def seal(self, draft: DocumentDraft, *, purpose: str) -> SealedDocument:
        body = "\n\n".join(part for part in (draft.title, draft.reference, *draft.paragraphs,
                                               draft.issuer, draft.issued_on.isoformat())
                             if part).encode("utf-8")
        at = datetime.now(UTC).replace(microsecond=0)
        by = f"null signer ({draft.issuer or purpose})"
        content = body + (f"\n-- tongban null seal: {hashlib.sha256(body).hexdigest()} at "
                          f"{at.isoformat()} by {by}\n").encode()
        return SealedDocument(content, "text/plain; charset=utf-8", "txt",
                              Signature(self.id, hashlib.sha256(content).hexdigest(), ALGORITHM,
                                        signed_by=by, signed_at=at))

    def verify_document(self, document: bytes) -> Verification | None:
        found = TRAILER.search(document)
        if found is None:
            return None
        body = document[:found.start()]
        by = found.group(3).decode("utf-8", "replace")
        try:
            at: datetime | None = datetime.fromisoformat(found.group(2).decode("ascii"))
        except ValueError:
            at = None
        if not hmac.compare_digest(found.group(1).decode("ascii"), hashlib.sha256(body).hexdigest()):
            return Verification(False, "the document changed after it was sealed",
                                verdict="tampered", sealed_by=by, signed_at=at)
        # Intact, but anyone can make a null seal: it proves nothing about who sealed it.
        return Verification(False, "the null signer has no key: anyone can make this seal",
                            verdict="unknown", sealed_by=by, signed_at=at)


@hookimpl
def tongban_signers(settings: dict[str, Any]) -> list[NullSigner]:
    return [NullSigner()]
