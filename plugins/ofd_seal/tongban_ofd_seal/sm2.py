"""SM2 keys and X.509 certificates signed with SM2/SM3 (GB/T 20518 profile): gmssl_pyx does
the arithmetic (its signer ID is the standard's default, 1234567812345678), asn1crypto the DER.
The core of this module is small on purpose: a hardware signer would replace ``KeyPair``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import gmssl_pyx
from asn1crypto import keys, x509

SM2_CURVE = "1.2.156.10197.1.301"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM3 = "1.2.156.10197.1.401"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"

keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)


def sm3(data: bytes) -> bytes:
    return bytes(gmssl_pyx.sm3_hash(data))


@dataclass(frozen=True)
class KeyPair:
    """An SM2 key: ``public`` is X‖Y (64 bytes), ``private`` the 32-byte scalar."""

    public: bytes
    private: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        public, private = gmssl_pyx.sm2_key_generate()
        return cls(bytes(public), bytes(private))

    def sign(self, message: bytes) -> bytes:
        """The DER SM2 signature of SM3(Z‖message)."""
        return bytes(gmssl_pyx.sm2_sign(self.private, self.public, message))


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (DER) is the SM2 signature of ``message`` under ``public``."""
    try:
        return bool(gmssl_pyx.sm2_verify(public, message, signature))
    except (gmssl_pyx.InvalidValueError, gmssl_pyx.GmsslInnerError, ValueError, TypeError):
        return False


def public_key_of(certificate: x509.Certificate) -> bytes:
    """The SM2 public key (X‖Y) in ``certificate``; ValueError when it holds another kind."""
    info = certificate["tbs_certificate"]["subject_public_key_info"]
    params = info["algorithm"]["parameters"]
    if info["algorithm"]["algorithm"].dotted != EC_PUBLIC_KEY or params.chosen.dotted != SM2_CURVE:
        raise ValueError("the certificate's key is not an SM2 key")
    point = bytes(info["public_key"])
    if len(point) != 65 or point[0] != 4:
        raise ValueError("the certificate's SM2 key is not an uncompressed point")
    return point[1:]


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "organization_name": organisation,
                            "common_name": common_name}, use_printable=False)


def make_certificate(*, subject: str, organisation: str, key: KeyPair, issuer_key: KeyPair,
                     issuer: x509.Certificate | None, not_before: datetime, not_after: datetime,
                     ca: bool = False) -> x509.Certificate:
    """A certificate for ``key`` signed by ``issuer_key`` (``issuer`` None: self-signed)."""
    subject_name = _name(subject, organisation)
    algorithm = {"algorithm": SM2_WITH_SM3}
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True,
         "extn_value": {"key_cert_sign", "crl_sign"} if ca else {"digital_signature",
                                                                 "non_repudiation"}},
    ]
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": int.from_bytes(secrets.token_bytes(16), "big") >> 1,
        "signature": algorithm,
        "issuer": subject_name if issuer is None else issuer.subject,
        "validity": {"not_before": x509.Time(name="utc_time", value=not_before),
                     "not_after": x509.Time(name="utc_time", value=not_after)},
        "subject": subject_name,
        "subject_public_key_info": {
            "algorithm": {"algorithm": EC_PUBLIC_KEY,
                          "parameters": keys.ECDomainParameters(name="named", value=SM2_CURVE)},
            "public_key": b"\x04" + key.public,
        },
        "extensions": extensions,
    })
    return x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": algorithm,
                             "signature_value": issuer_key.sign(tbs.dump())})


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` signed ``certificate`` (names match and the SM2 signature holds)."""
    if certificate["signature_algorithm"]["algorithm"].dotted != SM2_WITH_SM3:
        return False
    if certificate.issuer != issuer.subject:
        return False
    try:
        issuer_public = public_key_of(issuer)
    except ValueError:
        return False
    return verify(issuer_public, certificate["tbs_certificate"].dump(),
                  bytes(certificate["signature_value"]))


def valid_at(certificate: x509.Certificate, when: datetime) -> bool:
    validity = certificate["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= when <= validity["not_after"].native)


def common_name(certificate: x509.Certificate) -> str:
    return str(certificate.subject.native.get("common_name", ""))


def load(der: bytes) -> x509.Certificate:
    """A certificate from DER; ValueError when the bytes are not one."""
    try:
        certificate = x509.Certificate.load(der, strict=True)
        certificate.native  # noqa: B018 - parse every field now, not later
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a certificate: {exc}") from None
    return certificate


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
