"""Refresh the message catalogues: extract msgids, merge them into each .po, compile.

Run after changing user-facing text:  .venv/bin/python scripts/update_translations.py
New msgids arrive with an empty msgstr; tests fail until each has a Chinese translation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "platform" / "tongban" / "translations"
POT = TRANSLATIONS / "messages.pot"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def main() -> None:
    subprocess.run([*PYBABEL, "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_",
                    "-k", "ngettext:1,2", "--no-location", "--sort-output", "--omit-header",
                    "-o", str(POT), str(ROOT)], check=True, cwd=ROOT)
    subprocess.run([*PYBABEL, "update", "-i", str(POT), "-d", str(TRANSLATIONS),
                    "--no-fuzzy-matching", "--ignore-obsolete"], check=True, cwd=ROOT)
    subprocess.run([*PYBABEL, "compile", "-d", str(TRANSLATIONS), "--statistics"],
                   check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
