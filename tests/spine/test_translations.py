"""Every message in the code has a Chinese translation, and the catalogue is up to date."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from tongban import PROJECT_ROOT
from tongban.i18n import TRANSLATIONS_DIR


def test_every_message_has_a_chinese_translation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "N_", "-k", "ngettext:1,2",
                    "--no-location", "-o", str(pot), str(PROJECT_ROOT)],
                   check=True, cwd=PROJECT_ROOT, capture_output=True)
    with pot.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (TRANSLATIONS_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = {(m.id if isinstance(m.id, str) else m.id[0]): m.string
                     for m in read_po(handle) if m.id}
    missing = sorted(extracted - set(catalogue))
    untranslated = sorted(k for k, v in catalogue.items()
                          if k in extracted and not (v if isinstance(v, str) else any(v)))
    assert missing == [], "run `make translations`: not in the catalogue"
    assert untranslated == [], "fill these msgstr entries in zh/LC_MESSAGES/messages.po"
