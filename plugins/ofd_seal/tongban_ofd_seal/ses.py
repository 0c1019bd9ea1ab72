"""The seal and signature structures of GB/T 38540-2020 ("v4"), as asn1crypto types, and the
older GM/T 0031-2014 ("v2") layout a verifier still meets in the wild.

Two points the published texts leave open, decided here (docs/decisions.md): the seal maker
signs the DER of ``eSealInfo`` (SES_SealInfo) alone, and ``extDatas`` in TBS_Sign is tagged
``[0] IMPLICIT``. The signer signs the DER of ``toSign`` (TBS_Sign).
"""

from __future__ import annotations

from asn1crypto import core


class ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class Header(core.Sequence):
    _fields = [
        ("id", core.IA5String),        # "ES"
        ("version", core.Integer),     # 4 (GB/T 38540-2020), 2 (GM/T 0031-2014)
        ("vid", core.IA5String),       # the seal maker's vendor id
    ]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString     # DER certificates


class CertDigestObj(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


CERT_LIST_CERTIFICATES = 1
CERT_LIST_DIGESTS = 2


class PropertyInfo(core.Sequence):
    # certList is a CHOICE of two untagged SEQUENCE OFs the encoding cannot tell apart:
    # certListType says which, so it is read as Any and parsed by that.
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class PictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),      # "PNG", "GIF", "JPG", "SVG", "OFD"
        ("data", core.OctetString),
        ("width", core.Integer),       # millimetres
        ("height", core.Integer),
    ]


class SealInfo(core.Sequence):
    _fields = [
        ("header", Header),
        ("es_id", core.IA5String),
        ("property", PropertyInfo),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):
    """SESeal (v4): the seal maker's certificate and signature sit beside the seal info."""

    _fields = [
        ("e_seal_info", SealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"implicit": 0, "optional": True}),
    ]


class SESSignature(core.Sequence):
    """SES_Signature (v4): the signer's certificate and algorithm sit beside toSign."""

    _fields = [
        ("to_sign", TBSSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


# --- GM/T 0031-2014 ("v2"): certificate and algorithm inside the signed part ----------------

class V2PropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list", CertInfoList),
        ("create_date", core.UTCTime),
        ("valid_start", core.UTCTime),
        ("valid_end", core.UTCTime),
    ]


class V2SealInfo(core.Sequence):
    _fields = [
        ("header", Header),
        ("es_id", core.IA5String),
        ("property", V2PropertyInfo),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class V2SignInfo(core.Sequence):
    _fields = [
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
        ("sign_data", core.OctetBitString),
    ]


class V2SESeal(core.Sequence):
    _fields = [("e_seal_info", V2SealInfo), ("sign_info", V2SignInfo)]


class V2TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", V2SESeal),
        ("time_info", core.OctetBitString),   # the time as text in a BIT STRING (2014 text)
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


class V2SESSignature(core.Sequence):
    _fields = [("to_sign", V2TBSSign), ("signature", core.OctetBitString)]


def cert_list(prop: PropertyInfo) -> tuple[int, list[bytes]]:
    """The seal's certList as (certListType, entries): DER certificates for type 1, the
    digests' values for type 2. ValueError for any other type."""
    kind = int(prop["cert_list_type"].native)
    raw = prop["cert_list"].dump()
    if kind == CERT_LIST_CERTIFICATES:
        return kind, [bytes(item.native) for item in CertInfoList.load(raw)]
    if kind == CERT_LIST_DIGESTS:
        return kind, [bytes(item["value"].native) for item in CertDigestList.load(raw)]
    raise ValueError(f"certListType {kind} is neither 1 (certificates) nor 2 (digests)")
