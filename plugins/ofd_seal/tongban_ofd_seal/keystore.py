"""The demo key store: a CA, a seal maker (制章机构) and, per department, a certificate and a
seal, all named "test only", kept in one JSON file under the instance folder and made on first
use. Seals made with software keys verify but have no legal standing (docs/seals.md); a
hardware-backed signer replaces this module, not the OFD code."""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import x509

from . import seal, sm2, stamp

FILE_NAME = "ofd-seal-keystore.json"
TEST_ONLY = "（仅供测试 test only）"
PLATFORM = "platform"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Holder:
    """A certificate and its key."""

    certificate: x509.Certificate
    key: sm2.KeyPair

    def to_json(self) -> dict[str, str]:
        return {"certificate": _b64(self.certificate.dump()), "public": self.key.public.hex(),
                "private": self.key.private.hex()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Holder:
        return cls(sm2.load(base64.b64decode(data["certificate"])),
                   sm2.KeyPair(bytes.fromhex(data["public"]), bytes.fromhex(data["private"])))


@dataclass(frozen=True)
class DepartmentSeal:
    code: str
    name: str
    holder: Holder
    seal: bytes      # DER SESeal

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "holder": self.holder.to_json(), "seal": _b64(self.seal)}


class KeyStore:
    """Thread-safe: seals for new departments are made under a lock and the file is replaced
    atomically."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.ca = Holder.from_json(data["ca"])
            self.maker = Holder.from_json(data["maker"])
            self.seals = {code: DepartmentSeal(code, item["name"],
                                               Holder.from_json(item["holder"]),
                                               base64.b64decode(item["seal"]))
                          for code, item in data["seals"].items()}
        else:
            now = datetime.now(UTC).replace(microsecond=0)
            ca_key = sm2.KeyPair.generate()
            ca_cert = sm2.make_certificate(
                subject="通办演示根CA" + TEST_ONLY, organisation="tongban demo (test only)",
                key=ca_key, issuer_key=ca_key, issuer=None, not_before=now - timedelta(days=1),
                not_after=now + timedelta(days=3650), ca=True)
            self.ca = Holder(ca_cert, ca_key)
            self.maker = self._issue("通办演示制章机构" + TEST_ONLY)
            self.seals = {}
            self.seal_for(PLATFORM, "通办平台")
        self.trusted = [self.ca.certificate]

    def _issue(self, subject: str, years: int = 5) -> Holder:
        now = datetime.now(UTC).replace(microsecond=0)
        key = sm2.KeyPair.generate()
        certificate = sm2.make_certificate(
            subject=subject, organisation="tongban demo (test only)", key=key,
            issuer_key=self.ca.key, issuer=self.ca.certificate,
            not_before=now - timedelta(days=1), not_after=now + timedelta(days=365 * years))
        return Holder(certificate, key)

    def seal_for(self, code: str, name: str) -> DepartmentSeal:
        """The department's seal, made (with its certificate) the first time it is asked for."""
        with self._lock:
            found = self.seals.get(code)
            if found is not None:
                return found
            holder = self._issue(f"{name}{TEST_ONLY}")
            seal_name = f"{name}电子印章{TEST_ONLY}"
            now = datetime.now(UTC).replace(microsecond=0)
            der = seal.make_seal(
                es_id=f"TEST{len(self.seals) + 1:014d}", name=seal_name,
                maker_certificate=self.maker.certificate, maker_sign=self.maker.key.sign,
                allowed=[holder.certificate], valid_start=now - timedelta(days=1),
                valid_end=now + timedelta(days=365 * 3), picture=stamp.draw(name + "电子印章"),
                created=now)
            made = DepartmentSeal(code, seal_name, holder, der)
            self.seals[code] = made
            self._save()
            return made

    def _save(self) -> None:
        data = {"note": "TEST ONLY: software keys of a demo CA, seal maker and departments; "
                        "never use them for real documents",
                "ca": self.ca.to_json(), "maker": self.maker.to_json(),
                "seals": {code: item.to_json() for code, item in self.seals.items()}}
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
        os.replace(temporary, self.path)
