"""Bearer tokens: JWTs signed with HMAC-SHA256 by the registry's own key.

Access tokens carry Docker's ``access`` claim (``[{"type", "name", "actions"}]``); refresh tokens
(for ``docker login``'s identity token) carry only the account. Clients treat tokens as opaque;
only this registry checks them, so a shared secret is enough.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

MAX_TOKEN = 16 << 10
LEEWAY = 30   # seconds of clock skew tolerated


class TokenError(ValueError):
    """A token is malformed, forged, expired or not for this registry."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    if not text or len(text) % 4 == 1 or not all(c.isalnum() or c in "-_" for c in text):
        raise TokenError("invalid token: bad base64url segment")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_key(path: str) -> bytes:
    """The signing key in ``path`` (created with 32 random bytes, mode 0600, if missing)."""
    try:
        with open(path, "rb") as f:
            key = f.read()
    except FileNotFoundError:
        key = os.urandom(32)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)      # if another process created it first, use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        with open(path, "rb") as f:
            key = f.read()
    if len(key) < 16:
        raise ValueError(f"token signing key {path} is too short (at least 16 bytes)")
    return key


class Signer:
    def __init__(self, key: bytes, issuer: str, service: str, clock=time.time):
        if len(key) < 16:
            raise ValueError("token signing key must be at least 16 bytes")
        self._key = key
        self.issuer = issuer
        self.service = service
        self.kid = hashlib.sha256(key).hexdigest()[:16]
        self._clock = clock

    def _sign(self, signing_input: bytes) -> bytes:
        return hmac.new(self._key, signing_input, hashlib.sha256).digest()

    def issue(self, subject: str, ttl: int, access: list[dict] | None = None, kind: str = "access") -> str:
        now = int(self._clock())
        header = {"alg": "HS256", "typ": "JWT", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "iat": now, "nbf": now,
                  "exp": now + ttl, "jti": os.urandom(12).hex(), "dyk": kind}
        if kind == "access":
            claims["access"] = access or []
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{head}.{body}".encode()
        return f"{head}.{body}.{b64url(self._sign(signing_input))}"

    def verify(self, token: str, kind: str = "access") -> dict:
        """The claims of a valid token of ``kind``; TokenError otherwise."""
        if len(token) > MAX_TOKEN:
            raise TokenError("invalid token: too long")
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("invalid token: not a JWT")
        try:
            header = json.loads(unb64url(parts[0]))
        except ValueError:
            raise TokenError("invalid token: bad header") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise TokenError("invalid token: unsupported signing algorithm")
        want = self._sign(f"{parts[0]}.{parts[1]}".encode())
        if not hmac.compare_digest(want, unb64url(parts[2])):
            raise TokenError("invalid token: bad signature")
        try:
            claims = json.loads(unb64url(parts[1]))
        except ValueError:
            raise TokenError("invalid token: bad claims") from None
        if not isinstance(claims, dict):
            raise TokenError("invalid token: bad claims")
        now = self._clock()
        if claims.get("iss") != self.issuer or claims.get("aud") != self.service:
            raise TokenError("invalid token: issued for another registry")
        if claims.get("dyk") != kind:
            raise TokenError(f"invalid token: not a{'n' if kind[0] in 'aeiou' else ''} {kind} token")
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int) or not isinstance(nbf, int):
            raise TokenError("invalid token: no validity period")
        if now > exp + LEEWAY:
            raise TokenError("invalid token: expired")
        if now < nbf - LEEWAY:
            raise TokenError("invalid token: not valid yet")
        if kind == "access" and not isinstance(claims.get("access"), list):
            raise TokenError("invalid token: no access claim")
        return claims
