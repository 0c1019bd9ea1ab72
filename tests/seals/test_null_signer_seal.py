"""The null signer keeps the whole Signer contract: its "sealed" document is plain text with
the content hash on the last line, which finds any change but proves nothing about who sealed
it, so the public verification page never calls it valid."""

from __future__ import annotations

import importlib.util
from datetime import date
from types import ModuleType

import pytest

from tongban import PROJECT_ROOT
from tongban.plugin_api import DocumentDraft, Verification


def _null_signer_module() -> ModuleType:
    # Loaded from this checkout's file: an installed copy may be another checkout's.
    path = PROJECT_ROOT / "plugins" / "null_signer" / "tongban_null_signer" / "__init__.py"
    spec = importlib.util.spec_from_file_location("null_signer_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DRAFT = DocumentDraft(title="受理通知书", paragraphs=("申请人张三：", "你的申请已受理。"),
                      issuer="某市公安局", issued_on=date(2026, 12, 3), reference="受〔2026〕7号")


def test_the_null_seal_finds_a_change_and_never_says_valid() -> None:
    signer = _null_signer_module().NullSigner()
    sealed = signer.seal(DRAFT, purpose="decision")
    assert sealed.media_type == "text/plain; charset=utf-8" and sealed.extension == "txt"
    assert sealed.content.decode("utf-8").startswith("受理通知书\n\n受〔2026〕7号\n\n申请人张三：")

    found = signer.verify_document(sealed.content)
    assert found == Verification(False, "the null signer has no key: anyone can make this seal",
                                 verdict="unknown", sealed_by="null signer (某市公安局)",
                                 signed_at=sealed.signature.signed_at)
    changed = signer.verify_document(sealed.content.replace("受理".encode(), "驳回".encode(), 1))
    assert changed is not None and changed.verdict == "tampered"
    assert signer.verify_document(b"%PDF-1.7") is None


def test_a_verification_must_say_a_verdict_that_fits_valid() -> None:
    assert Verification(True).verdict == "valid"
    assert Verification(False, "changed").verdict == "tampered"
    with pytest.raises(ValueError, match="verdict 'expired' does not fit valid=True"):
        Verification(True, verdict="expired")
