"""The e-seal plugins under plugins/ put on the import path for the tests (they are loaded from
their folders, not installed), and the settings that start the platform with them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tongban import PROJECT_ROOT

for _folder in ("ofd_seal", "pdf_seal"):
    _path = str(PROJECT_ROOT / "plugins" / _folder)
    if _path not in sys.path:
        sys.path.insert(0, _path)

import tongban_ofd_seal  # noqa: E402
import tongban_pdf_seal  # noqa: E402


def settings(seal_dir: Path, material_dir: Path) -> dict[str, Any]:
    """What a test adds to ``app_config``: both seal plugins, their key store, the storage."""
    return {"PLUGINS": [tongban_ofd_seal, tongban_pdf_seal], "SEAL_DIR": str(seal_dir),
            "MATERIAL_DIR": str(material_dir), "SIGNER": "ofd-seal",
            "VERIFY_RATE_LIMIT": "10000 per minute"}
