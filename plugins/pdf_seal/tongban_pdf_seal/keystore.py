"""The PDF seal's demo key store: a CA and, per department, an ECDSA P-256 signing
certificate, named "test only", kept as PEM files under the instance folder and made on first
use. The list of department certificates is the "seal list": a certificate of the CA that is
not on it is not a department's seal."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FILE_NAME = "pdf-seal-keystore.json"
TEST_ONLY = "(test only)"
PLATFORM = "platform"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tongban demo (test only)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificate(common_name: str, key: ec.EllipticCurvePrivateKey,
                     issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None, *,
                     not_before: datetime, not_after: datetime, ca: bool = False,
                     ) -> x509.Certificate:
    subject = _name(common_name)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(subject if issuer is None else issuer[0].subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                   crl_sign=ca, encipher_only=False, decipher_only=False), critical=True))
    return builder.sign(key if issuer is None else issuer[1], hashes.SHA256())


@dataclass(frozen=True)
class Holder:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    name: str = ""

    @property
    def asn1_certificate(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def to_json(self) -> dict[str, str]:
        return {"name": self.name,
                "certificate": self.certificate.public_bytes(serialization.Encoding.PEM).decode(),
                "key": self.key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Holder:
        key = serialization.load_pem_private_key(data["key"].encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the key store holds a key that is not an EC key")
        return cls(x509.load_pem_x509_certificate(data["certificate"].encode()), key,
                   data.get("name", ""))


class KeyStore:
    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.ca = Holder.from_json(data["ca"])
            self.seals = {code: Holder.from_json(item) for code, item in data["seals"].items()}
        else:
            now = datetime.now(UTC).replace(microsecond=0)
            key = ec.generate_private_key(ec.SECP256R1())
            self.ca = Holder(make_certificate(f"tongban demo seal CA {TEST_ONLY}", key, None,
                                              not_before=now - timedelta(days=1),
                                              not_after=now + timedelta(days=3650), ca=True),
                             key, "CA")
            self.seals = {}
            self.seal_for(PLATFORM, "通办平台")

    def seal_for(self, code: str, name: str) -> Holder:
        with self._lock:
            found = self.seals.get(code)
            if found is not None:
                return found
            now = datetime.now(UTC).replace(microsecond=0)
            key = ec.generate_private_key(ec.SECP256R1())
            made = Holder(make_certificate(f"{name} {TEST_ONLY}", key,
                                           (self.ca.certificate, self.ca.key),
                                           not_before=now - timedelta(days=1),
                                           not_after=now + timedelta(days=365 * 3)),
                          key, f"{name}电子印章{TEST_ONLY}")
            self.seals[code] = made
            self._save()
            return made

    def allowed(self) -> set[bytes]:
        """The DER of every department seal certificate."""
        return {holder.certificate.public_bytes(serialization.Encoding.DER)
                for holder in self.seals.values()}

    def seal_name(self, certificate: bytes) -> str:
        """The seal's name of the department whose certificate this is ("" for none)."""
        return next((holder.name for holder in self.seals.values()
                     if holder.certificate.public_bytes(serialization.Encoding.DER) == certificate),
                    "")

    def _save(self) -> None:
        data = {"note": "TEST ONLY: software keys of a demo CA and departments",
                "ca": self.ca.to_json(),
                "seals": {code: holder.to_json() for code, holder in self.seals.items()}}
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
        os.replace(temporary, self.path)
