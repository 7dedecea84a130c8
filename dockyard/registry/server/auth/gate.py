"""The check every API request passes: who is asking (anonymous, Basic, Bearer) and whether they
may do what the endpoint needs.

Answers follow docker-registry's: no or wrong credentials -> 401 ``UNAUTHORIZED`` with a
``WWW-Authenticate`` challenge (``Basic realm=...``, or ``Bearer realm=...,service=...,scope=...``
that Docker clients follow to the token endpoint); a Bearer token without the needed scope ->
401 with ``error="insufficient_scope"`` (so the client asks for a wider token); an authenticated
Basic account without the right -> 403 ``DENIED``.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import re
from dataclasses import dataclass, field

from ..errors import RegistryError
from .access import Policy, Scope, expand, scope_text
from .htpasswd import Htpasswd
from .limiter import FailureLimiter
from .tokens import Signer, TokenError

MODES = ("none", "htpasswd", "token")
_HOST_RE = re.compile(r"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


@dataclass
class Principal:
    """The requester: an account (None: anonymous) and what it may do."""

    account: str | None
    policy: Policy | None = None            # Basic / open: the rules decide
    token_access: list | None = None        # Bearer: the token's access claim decides
    open: bool = False

    def may(self, scope_type: str, name: str, action: str) -> bool:
        if self.open:
            return True
        if self.token_access is not None:
            return action in token_actions(self.token_access, scope_type, name)
        return self.policy is not None and action in self.policy.actions(self.account, scope_type, name)


def token_actions(access: list, scope_type: str, name: str) -> frozenset[str]:
    out: set[str] = set()
    for entry in access:
        if isinstance(entry, dict) and entry.get("type") == scope_type and entry.get("name") == name:
            acts = entry.get("actions")
            if isinstance(acts, list):
                out |= {a for a in acts if isinstance(a, str)}
    if scope_type == "repository" and "*" in out:
        out |= expand(out)
    return frozenset(out)


def client_address(req) -> str:
    """The client's IP address (the daemon HTTP layer keeps it on its connection object)."""
    transport = getattr(getattr(req, "_conn", None), "transport", None)
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"


def parse_basic(value: str) -> tuple[str, str] | None:
    """``Basic base64(user:password)`` -> (user, password); None if malformed."""
    scheme, _, cred = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user:
        return None
    return user, password


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Gate:
    mode: str = "none"
    policy: Policy = field(default_factory=Policy)
    htpasswd: Htpasswd | None = None
    signer: Signer | None = None
    realm: str = "dockyard-registry"        # Basic realm
    token_realm: str | None = None          # None: <scheme>://<Host>/token of the request
    tls: bool = False
    limiter: FailureLimiter = field(default_factory=FailureLimiter)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown auth mode {self.mode!r} (expected one of {', '.join(MODES)})")
        if self.mode in ("htpasswd", "token") and self.htpasswd is None:
            raise ValueError(f"auth mode {self.mode} needs an htpasswd file")
        if self.mode == "token" and self.signer is None:
            raise ValueError("auth mode token needs a signing key")

    # -- challenges -------------------------------------------------------------------------

    def realm_url(self, host: str | None) -> str:
        if self.token_realm:
            return self.token_realm
        if not host or not _HOST_RE.fullmatch(host):
            host = "localhost"
        return f"{'https' if self.tls else 'http'}://{host}/token"

    def challenge(self, host: str | None, needed: list[Scope] | None, error: str | None = None) -> str:
        if self.mode == "htpasswd":
            return f"Basic realm={_quote(self.realm)}"
        parts = [f"realm={_quote(self.realm_url(host))}", f"service={_quote(self.signer.service)}"]
        if needed:
            parts.append(f"scope={_quote(' '.join(scope_text(s) for s in needed))}")
        if error:
            parts.append(f"error={_quote(error)}")
        return "Bearer " + ",".join(parts)

    def _unauthorized(self, req, needed, message: str, error: str | None = None) -> RegistryError:
        detail = [{"Type": s.type, "Name": s.name, "Action": a} for s in needed or () for a in sorted(s.actions)]
        return RegistryError("UNAUTHORIZED", message, detail or None, headers=[
            ("WWW-Authenticate", self.challenge(req.headers.get("host"), needed, error))])

    # -- checks -----------------------------------------------------------------------------

    async def check_basic(self, req, user: str, password: str) -> bool:
        """Whether the password is right; 429 TOOMANYREQUESTS after too many failures from the
        client's address."""
        client = client_address(req)
        wait = self.limiter.retry_after(client)
        if wait is not None:
            raise RegistryError("TOOMANYREQUESTS", f"too many failed logins from {client}: try again in "
                                f"{int(wait) + 1} seconds", headers=[("Retry-After", str(int(wait) + 1))])
        ok = await asyncio.to_thread(self.htpasswd.verify, user, password)
        if not ok:
            self.limiter.failed(client)
        return ok

    async def authenticate(self, req, needed: list[Scope] | None) -> Principal:
        """The requester if allowed ``needed`` (None: only be authenticated); else RegistryError."""
        if self.mode == "none":
            return Principal(None, open=True)
        authz = req.headers.get("authorization")
        if self.mode == "htpasswd":
            return await self._basic(req, authz, needed)
        return self._bearer(req, authz, needed)

    async def _basic(self, req, authz, needed) -> Principal:
        account = None
        if authz:
            creds = parse_basic(authz)
            if creds is None:
                raise self._unauthorized(req, needed, "authentication required: expected Basic credentials")
            if not await self.check_basic(req, *creds):
                raise self._unauthorized(req, needed, "invalid username or password")
            account = creds[0]
        if needed is None:
            if account is None:
                raise self._unauthorized(req, needed, "authentication required")
            return Principal(account, self.policy)
        for scope in needed:
            if self.policy.grant(account, scope) != scope.actions:
                if account is None:
                    raise self._unauthorized(req, needed, "authentication required")
                raise RegistryError("DENIED", f"requested access to the resource is denied: {scope_text(scope)}",
                                    {"account": account})
        return Principal(account, self.policy)

    def _bearer(self, req, authz, needed) -> Principal:
        scheme, _, token = (authz or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._unauthorized(req, needed, "authentication required")
        try:
            claims = self.signer.verify(token.strip())
        except TokenError as e:
            raise self._unauthorized(req, needed, str(e), "invalid_token") from None
        access = claims["access"]
        for scope in needed or ():
            if not scope.actions <= token_actions(access, scope.type, scope.name):
                raise self._unauthorized(req, needed, f"insufficient scope: {scope_text(scope)}",
                                         "insufficient_scope")
        return Principal(claims.get("sub") or None, token_access=access)
