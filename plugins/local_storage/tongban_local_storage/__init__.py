"""Material storage on the local disk (``MATERIAL_STORAGE = "local"``, the embedded default).

Files live under the ``MATERIAL_DIR`` setting (default instance/materials) named by the
SHA-256 of their bytes, two levels of folders deep (``ab/cd/abcd...``): the same bytes put twice
are stored once, and a key is never a path the uploader chose. A write goes to a temporary file
in the same folder first and is renamed into place, so a reader never sees half a file. There
is no direct address for browsers (``url`` returns None): the core serves the bytes itself.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from tongban.plugin_api import HealthReport, MaterialNotFound, StoredMaterial, hookimpl

__version__ = "0.1.0"
PLUGIN_NAME = "local_storage"
_KEY = re.compile(r"^[0-9a-f]{64}$")


class LocalStorage:
    """Content-addressed files in one folder."""

    id = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise MaterialNotFound(f"not a key of the local storage: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes, *, content_type: str, name: str = "") -> StoredMaterial:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".put-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredMaterial(key=digest, sha256=digest, size=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise MaterialNotFound(f"the local storage holds no {key}") from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except MaterialNotFound:
            pass

    def url(self, key: str, *, expires_in: int) -> str | None:
        self._path(key)  # a bad key is refused the same way as by get
        return None

    def health(self) -> HealthReport:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.root, prefix=".health-", delete=True)
            probe.close()
        except OSError as exc:
            return HealthReport("down", f"cannot write to {self.root}: {exc.strerror or exc}")
        return HealthReport("ok", f"files in {self.root}")


def _storage(settings: dict[str, Any]) -> LocalStorage:
    return LocalStorage(Path(settings["MATERIAL_DIR"]))


@hookimpl
def tongban_material_storages(settings: dict[str, Any]) -> list[LocalStorage]:
    return [_storage(settings)]


@hookimpl
def tongban_health(settings: dict[str, Any]) -> HealthReport:
    return _storage(settings).health()
