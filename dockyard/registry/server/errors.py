"""The Distribution API's errors: a code from the spec's table, its HTTP status, a message.

Handlers raise ``RegistryError``; the app answers it as
``{"errors": [{"code": ..., "message": ..., "detail": ...}]}`` with the status and any extra
headers (``WWW-Authenticate``, ``Range``, ``Location``) the error carries.
"""
from __future__ import annotations

import json

# code -> (HTTP status, the spec's description)
CODES = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "manifest references a manifest or blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown to registry"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "the operation is unsupported"),
    "TOOMANYREQUESTS": (429, "too many requests"),
}


class RegistryError(Exception):
    """One error answer. ``status`` defaults to the code's; ``headers`` are added to the answer."""

    def __init__(self, code: str, message: str | None = None, detail=None, status: int | None = None,
                 headers: list[tuple[str, str]] | None = None):
        if code not in CODES:
            raise ValueError(f"unknown registry error code {code!r}")
        default_status, description = CODES[code]
        self.code = code
        self.message = message or description
        self.detail = detail
        self.status = status or default_status
        self.headers = list(headers or ())
        super().__init__(f"{code}: {self.message}")

    def body(self) -> bytes:
        item = {"code": self.code, "message": self.message}
        if self.detail is not None:
            item["detail"] = self.detail
        return json.dumps({"errors": [item]}, separators=(",", ":")).encode() + b"\n"


def blob_unknown(digest: str) -> RegistryError:
    return RegistryError("BLOB_UNKNOWN", f"blob unknown to registry: {digest}", {"digest": digest})


def manifest_unknown(name: str, reference: str) -> RegistryError:
    return RegistryError("MANIFEST_UNKNOWN", f"manifest unknown: {name}:{reference}" if ":" not in reference
                         else f"manifest unknown: {name}@{reference}", {"name": name, "reference": reference})


def name_unknown(name: str) -> RegistryError:
    return RegistryError("NAME_UNKNOWN", f"repository name not known to registry: {name}", {"name": name})


def upload_unknown(uuid: str) -> RegistryError:
    return RegistryError("BLOB_UPLOAD_UNKNOWN", f"blob upload unknown to registry: {uuid}", {"uuid": uuid})


def digest_invalid(message: str, digest: str | None = None) -> RegistryError:
    return RegistryError("DIGEST_INVALID", message, {"digest": digest} if digest else None)


def unsupported(message: str, status: int = 405) -> RegistryError:
    return RegistryError("UNSUPPORTED", message, status=status)
