"""The null document signer (``SIGNER = "null"``): the twin of a department's e-seal service
for development and tests. Its "signature" is the document's SHA-256, so verification finds any
change to the bytes, but anyone can make one: it has no key and no legal force. Real signers
(issue 16) offer the same :class:`~tongban.plugin_api.Signer` shape.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from tongban.plugin_api import Signature, Verification, hookimpl

__version__ = "0.1.0"
PLUGIN_NAME = "null_signer"
ALGORITHM = "sha256 (null signer: no key)"


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


@hookimpl
def tongban_signers(settings: dict[str, Any]) -> list[NullSigner]:
    return [NullSigner()]
