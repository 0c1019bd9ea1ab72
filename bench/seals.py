"""Sealing and verification time per document, for both seal plugins, against a baseline of
hashing the same bytes (SM3 for the OFD seal, SHA-256 for PAdES).

N decisions are sealed one after another (the key store made once beforehand, as on a running
platform), then each sealed file is verified as the public verification page does. Prints the
milliseconds per document and the ratio to hashing the sealed file.

    .venv/bin/python bench/seals.py [N]

N defaults to 50 for OFD and a fifth of it for PDF (WeasyPrint's layout dominates). The plugin
folders must be importable (installed, or plugins/ofd_seal and plugins/pdf_seal on PYTHONPATH).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import gmssl_pyx
import tongban_ofd_seal
import tongban_pdf_seal

from tongban.plugin_api import DocumentDraft, Signer

DRAFT = DocumentDraft(
    title="准予行政许可决定书",
    paragraphs=("申请人张三：",
                "你于2026年11月1日提出的居住证积分申请，经审查，符合《居住证暂行条例》规定的条件，"
                "积分达到本年度分值线，决定准予许可。",
                "如不服本决定，可以自收到本决定书之日起六十日内向市人民政府申请行政复议，"
                "或者在六个月内向人民法院提起行政诉讼。"),
    issuer="某市公安局", issued_on=date(2026, 12, 3), reference="某公许〔2026〕001号",
    department="police")


def per_call(call: Callable[[], object], n: int) -> float:
    """Seconds per call, the best of three rounds of ``n`` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            call()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def measure(name: str, signer: Signer, n: int, baseline: Callable[[bytes], object]) -> None:
    signer.seal(DRAFT, purpose="decision")   # warm-up: the department's seal, fonts, imports
    sealed = signer.seal(DRAFT, purpose="decision").content
    verdict = signer.verify_document(sealed)
    assert verdict is not None and verdict.valid, verdict
    seal_s = per_call(lambda: signer.seal(DRAFT, purpose="decision"), n)
    verify_s = per_call(lambda: signer.verify_document(sealed), n)
    hash_s = per_call(lambda: baseline(sealed), max(n, 200))
    print(f"{name}: {len(sealed):,} bytes; hashing them {hash_s * 1e6:.1f} µs")
    print(f"  seal   {seal_s * 1e3:8.2f} ms per document  ({seal_s / hash_s:,.0f}x hashing)")
    print(f"  verify {verify_s * 1e3:8.2f} ms per document  ({verify_s / hash_s:,.0f}x hashing)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as folder:
        measure("OFD, GB/T 38540 SM2 seal", tongban_ofd_seal.OfdSealSigner(Path(folder) / "ofd"),
                n, gmssl_pyx.sm3_hash)
        measure("PDF, PAdES (WeasyPrint + pyHanko)",
                tongban_pdf_seal.PdfSealSigner(Path(folder) / "pdf"), max(1, n // 5),
                lambda data: hashlib.sha256(data).digest())


if __name__ == "__main__":
    main()
