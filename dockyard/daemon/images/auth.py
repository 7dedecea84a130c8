"""Registry credentials handed to the daemon: the ``X-Registry-Auth`` header and ``POST /auth``.

The header is base64url JSON of Docker's AuthConfig (``username``, ``password``, ``auth``,
``serveraddress``, ``identitytoken``, ``registrytoken``). Like dockerd, a header that cannot be
decoded counts as no credentials. ``login`` checks credentials against a registry the way
``docker login`` does (GET /v2/, then Basic or a token) and stores nothing: the client keeps them.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from dockyard.registry import credentials as regcreds
from dockyard.registry.auth import Credentials
from dockyard.registry.client import RegistryClient
from dockyard.registry import errors as regerrors

MAX_HEADER = 64 << 10


@dataclass
class AuthConfig:
    creds: Credentials
    server: str = ""  # serveraddress as given (may be empty)

    def for_registry(self, domain: str) -> Credentials | None:
        """The credentials when they are for ``domain`` (or name no server), else None."""
        if not self.creds:
            return None
        if self.server and regcreds.server_key(self.server) != regcreds.server_key(domain):
            return None
        return self.creds


def from_dict(doc) -> AuthConfig:
    if not isinstance(doc, dict):
        return AuthConfig(Credentials())

    def s(key: str) -> str:
        v = doc.get(key)
        return v if isinstance(v, str) else ""

    c = Credentials(username=s("username"), password=s("password"), identity_token=s("identitytoken"),
                    registry_token=s("registrytoken"))
    if s("auth") and not c.username:
        try:
            user, sep, pw = base64.b64decode(s("auth"), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            user, sep, pw = "", "", ""
        if sep:
            c.username, c.password = user, pw
    return AuthConfig(c, s("serveraddress"))


def decode_header(value: str | None) -> AuthConfig:
    """Decode ``X-Registry-Auth``; anything undecodable means no credentials, as for dockerd."""
    if not value or len(value) > MAX_HEADER:
        return AuthConfig(Credentials())
    v = value.strip().replace("+", "-").replace("/", "_")
    try:
        raw = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
        doc = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        return AuthConfig(Credentials())
    return from_dict(doc)


def encode_header(username: str = "", password: str = "", server: str = "") -> str:
    """The header value a client sends (used by tests and the CLI)."""
    doc = {}
    if username:
        doc["username"], doc["password"] = username, password
    if server:
        doc["serveraddress"] = server
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


def login(cfg: AuthConfig, insecure: list[str] | None = None, timeout: float = 30.0) -> dict:
    """Check the credentials against the registry (nothing stored): SystemAuthResponse.

    Raises ``registry.errors.Unauthorized`` for wrong credentials (the registry's message).
    """
    server = cfg.server or regcreds.INDEX_SERVER
    key = regcreds.server_key(server)
    domain = "docker.io" if key == regcreds.INDEX_SERVER else key
    client = RegistryClient(domain, creds=cfg.creds, insecure=insecure, timeout=timeout)
    client.ping()
    value, refresh = client.auth.login()
    url = client.base + "/v2/"
    with client.send("GET", url, {"Authorization": value} if value else {}) as resp:
        if resp.status != 200:
            if resp.status == 401:
                raise regerrors.Unauthorized(f"login attempt to {url} failed with status: 401 Unauthorized",
                                             "UNAUTHORIZED", 401)
            resp.raise_for_status((200,))
    return {"IdentityToken": refresh or "", "Status": "Login Succeeded"}
