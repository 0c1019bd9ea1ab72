"""Material storage in an S3-compatible object store (``MATERIAL_STORAGE = "s3"``).

Objects are named by the SHA-256 of their bytes under ``materials/`` (``materials/ab/abcd...``):
the same bytes put twice are one object, and a key is never a name the uploader chose. The
object carries its content type and is written with a ``ContentMD5`` check, so the store
refuses bytes damaged on the way. ``url`` gives a presigned GET address that lapses after
``expires_in`` seconds, so a browser can fetch a large file from the store directly.

Settings: ``S3_BUCKET``, ``S3_ENDPOINT_URL`` (MinIO, a cloud's S3-compatible service; unset for
AWS), ``S3_REGION``, ``S3_ACCESS_KEY_ID`` / ``S3_SECRET_ACCESS_KEY`` (unset: the usual AWS
sources). A failed call raises :class:`ConnectorError`, transient for time-outs, refused
connections and 5xx answers, so the core can tell the person to try again.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from tongban.plugin_api import (
    ConnectorError,
    HealthReport,
    MadeOnFirstUse,
    MaterialNotFound,
    StoredMaterial,
    hookimpl,
)

__version__ = "0.1.0"
PLUGIN_NAME = "s3_storage"
PREFIX = "materials/"
_KEY = re.compile(r"^materials/[0-9a-f]{2}/[0-9a-f]{64}$")
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """Content-addressed objects in one bucket."""

    id = "s3"

    def __init__(self, bucket: str, make_client: Callable[[], Any]) -> None:
        self.bucket = bucket
        # Made on the first call to the store: every app offers this storage, most use another,
        # and making a boto3 client (its service model read, its endpoint resolved) is costly.
        self._client = MadeOnFirstUse(make_client)

    @property
    def client(self) -> Any:
        return self._client.get()

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> S3Storage:
        def make_client() -> Any:
            return boto3.client(
                "s3", endpoint_url=settings.get("S3_ENDPOINT_URL") or None,
                region_name=settings.get("S3_REGION") or "us-east-1",
                aws_access_key_id=settings.get("S3_ACCESS_KEY_ID") or None,
                aws_secret_access_key=settings.get("S3_SECRET_ACCESS_KEY") or None,
                # A store that does not answer must not hold the person's page for long.
                config=Config(connect_timeout=3, read_timeout=10,
                              retries={"max_attempts": 2, "mode": "standard"},
                              s3={"addressing_style": "path"}))

        return cls(settings.get("S3_BUCKET") or "tongban-materials", make_client)

    @staticmethod
    def _checked(key: str) -> str:
        if not _KEY.match(key):
            raise MaterialNotFound(f"not a key of the S3 storage: {key!r}")
        return key

    def put(self, data: bytes, *, content_type: str, name: str = "") -> StoredMaterial:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{PREFIX}{digest[:2]}/{digest}"
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   ContentType=content_type, ContentMD5=md5,
                                   Metadata={"sha256": digest})
        except (BotoCoreError, ClientError) as exc:
            raise _error("put", exc) from exc
        return StoredMaterial(key=key, sha256=digest, size=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._checked(key))
            data: bytes = answer["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise MaterialNotFound(f"the S3 storage holds no {key}") from None
            raise _error("get", exc) from exc
        except BotoCoreError as exc:
            raise _error("get", exc) from exc
        return data

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._checked(key))
        except MaterialNotFound:
            pass
        except (BotoCoreError, ClientError) as exc:
            if _code(exc) not in _MISSING:
                raise _error("delete", exc) from exc

    def url(self, key: str, *, expires_in: int) -> str | None:
        address: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._checked(key)},
            ExpiresIn=expires_in)
        return address

    def health(self) -> HealthReport:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            return HealthReport("down", f"bucket {self.bucket}: {_describe(exc)}")
        return HealthReport("ok", f"bucket {self.bucket}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return f"{_code(exc)} {exc.response.get('Error', {}).get('Message', '')}".strip()
    return str(exc)


def _error(operation: str, exc: Exception) -> ConnectorError:
    """A failed call: transient when trying again later may work (no connection, 5xx,
    throttling), permanent otherwise (no such bucket, access denied)."""
    transient = isinstance(exc, (EndpointConnectionError, BotoCoreError))
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        transient = status >= 500 or _code(exc) in {"SlowDown", "RequestTimeout", "Throttling"}
    return ConnectorError(f"S3 {operation} failed: {_describe(exc)}", transient=transient)


@hookimpl
def tongban_material_storages(settings: dict[str, Any]) -> list[S3Storage]:
    return [S3Storage.from_settings(settings)]


@hookimpl
def tongban_health(settings: dict[str, Any]) -> HealthReport:
    if settings.get("MATERIAL_STORAGE") != S3Storage.id:
        return HealthReport("ok", "not the material storage in use")
    return S3Storage.from_settings(settings).health()
