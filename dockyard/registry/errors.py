"""Registry errors: the Distribution API's JSON errors as one-line exceptions.

A registry answers errors as ``{"errors": [{"code": "MANIFEST_UNKNOWN",
"message": "...", "detail": ...}]}``; Docker prints each as ``"<code in lower
case with spaces>: <message>"`` (``manifest unknown: manifest unknown``). The
exception class tells the kind (not found, unauthorized, denied, ...) so the
daemon can map it to an HTTP status.
"""
from __future__ import annotations

import json

MAX_ERROR_BODY = 64 << 10

# Messages a registry would send for an HTTP status without a JSON body.
_STATUS_DEFAULTS = {
    401: ("UNAUTHORIZED", "authentication required"),
    403: ("DENIED", "requested access to the resource is denied"),
    404: ("NOT_FOUND", "not found"),
    405: ("UNSUPPORTED", "the operation is unsupported"),
    429: ("TOOMANYREQUESTS", "too many requests"),
}


class RegistryError(Exception):
    """Base of registry errors. ``code`` is the first error code, ``status`` the HTTP status."""

    def __init__(self, message: str, code: str = "UNKNOWN", status: int | None = None,
                 errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.errors = errors or []

    def __str__(self) -> str:
        return self.message

    def wrap(self, prefix: str) -> "RegistryError":
        """The same kind of error with ``prefix: `` put before the message."""
        e = type(self)(f"{prefix}: {self.message}", self.code, self.status, self.errors)
        e.__cause__ = self
        return e


class NotFound(RegistryError):
    """MANIFEST_UNKNOWN, BLOB_UNKNOWN, NAME_UNKNOWN or a bare 404."""


class Unauthorized(RegistryError):
    """401 / UNAUTHORIZED: no credentials or wrong ones."""


class Denied(RegistryError):
    """403 / DENIED: authenticated, but not allowed."""


class TooManyRequests(RegistryError):
    pass


class Unsupported(RegistryError):
    pass


class InvalidRequest(RegistryError):
    """The registry refused what we sent (MANIFEST_INVALID, DIGEST_INVALID, ...)."""


class ProtocolError(RegistryError):
    """The registry's answer is not what the protocol allows (garbage, truncated, wrong status)."""


class ConnectionFailed(RegistryError):
    """The registry could not be reached or the connection broke."""


class VerificationError(RegistryError):
    """Content did not match its digest or size."""


_CODE_CLASSES = {
    "MANIFEST_UNKNOWN": NotFound, "BLOB_UNKNOWN": NotFound, "NAME_UNKNOWN": NotFound,
    "BLOB_UPLOAD_UNKNOWN": NotFound, "NOT_FOUND": NotFound,
    "UNAUTHORIZED": Unauthorized, "DENIED": Denied, "TOOMANYREQUESTS": TooManyRequests,
    "UNSUPPORTED": Unsupported,
}


def code_text(code: str) -> str:
    """Docker's rendering of an error code: ``MANIFEST_UNKNOWN`` → ``manifest unknown``."""
    return code.replace("_", " ").lower()


def _clean(s: str, limit: int = 300) -> str:
    s = " ".join(str(s).split())  # one line, no control characters
    s = "".join(ch for ch in s if ch.isprintable())
    return s if len(s) <= limit else s[:limit] + "..."


def from_response(status: int, body: bytes, context: str = "") -> RegistryError:
    """Turn an error response into an exception; ``context`` (e.g. the URL) prefixes garbage."""
    errors: list[dict] = []
    try:
        doc = json.loads(body[:MAX_ERROR_BODY].decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list):
        for item in doc["errors"][:20]:
            if isinstance(item, dict) and isinstance(item.get("code"), str):
                errors.append({"code": item["code"], "message": item.get("message"), "detail": item.get("detail")})
    if errors:
        parts = []
        for e in errors:
            msg = e["message"] if isinstance(e["message"], str) and e["message"] else code_text(e["code"])
            parts.append(f"{code_text(_clean(e['code'], 60))}: {_clean(msg)}")
        code = errors[0]["code"].upper()
        message = parts[0] if len(parts) == 1 else "errors: " + "; ".join(parts)
    elif isinstance(doc, dict) and isinstance(doc.get("details"), str):  # Docker Hub token server
        code, default = _STATUS_DEFAULTS.get(status, ("UNKNOWN", ""))
        message = f"{code_text(code)}: {_clean(doc['details'])}"
    elif status in _STATUS_DEFAULTS:
        code, text = _STATUS_DEFAULTS[status]
        message = f"{code_text(code)}: {text}"
    else:
        code = "UNKNOWN"
        snippet = _clean(body[:200].decode("utf-8", "replace")) if body else ""
        where = f"{context}: " if context else ""
        message = f"{where}unexpected status {status} from registry" + (f": {snippet}" if snippet else "")
    cls = _CODE_CLASSES.get(code)
    if cls is None:
        if status == 401:
            cls = Unauthorized
        elif status == 403:
            cls = Denied
        elif status == 404:
            cls = NotFound
        elif status == 429:
            cls = TooManyRequests
        elif status is not None and 400 <= status < 500:
            cls = InvalidRequest
        else:
            cls = RegistryError
    return cls(message, code, status, errors)
