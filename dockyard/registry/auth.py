"""Registry authentication: WWW-Authenticate parsing, Basic, and the Bearer token flow.

The token flow is Docker's: the registry answers 401 with
``WWW-Authenticate: Bearer realm="...",service="...",scope="..."``; the client
asks the realm for a token for ``repository:NAME:pull,push`` (with Basic
credentials if it has some, or an OAuth refresh token), then sends
``Authorization: Bearer <token>``. Tokens are cached until they expire.

HTTP is injected (``fetch``) so this module has no transport of its own.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from . import errors

MAX_TOKEN_RESPONSE = 1 << 20
MIN_TOKEN_LIFETIME = 60  # seconds, as Docker assumes when expires_in is absent or small
CLIENT_ID = "dockyard"

_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class AuthError(errors.Unauthorized):
    """Authentication failed (bad challenge, token server refused, ...)."""


@dataclass
class Credentials:
    """What ``docker login`` stores for a registry."""

    username: str = ""
    password: str = ""
    identity_token: str = ""  # OAuth2 refresh token
    registry_token: str = ""  # a bearer token to send as is

    def __bool__(self) -> bool:
        return bool(self.username or self.identity_token or self.registry_token)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass
class Challenge:
    scheme: str  # lower case: "basic", "bearer"
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None


def parse_www_authenticate(value: str | list[str] | None) -> list[Challenge]:
    """Parse one or more WWW-Authenticate header values into challenges (RFC 7235).

    Handles several challenges in one header, quoted strings with escapes and
    commas, token68 values, and case-insensitive schemes and parameter names.
    Malformed parts are skipped rather than guessed.
    """
    if value is None:
        return []
    if isinstance(value, list):
        out: list[Challenge] = []
        for v in value:
            out.extend(parse_www_authenticate(v))
        return out
    h, n, i = value, len(value), 0
    out = []
    cur: Challenge | None = None
    while i < n:
        while i < n and h[i] in " \t,":
            i += 1
        if i >= n:
            break
        m = _TOKEN_RE.match(h, i)
        if not m:  # garbage: skip to the next comma
            j = h.find(",", i)
            i = n if j < 0 else j + 1
            continue
        tok, j = m.group(), m.end()
        k = j
        while k < n and h[k] in " \t":
            k += 1
        if cur is not None and k < n and h[k] == "=":
            k += 1
            while k < n and h[k] in " \t":
                k += 1
            if k < n and h[k] == '"':
                k += 1
                buf = []
                while k < n and h[k] != '"':
                    if h[k] == "\\" and k + 1 < n:
                        k += 1
                    buf.append(h[k])
                    k += 1
                if k >= n:  # unterminated quoted string: drop it
                    break
                val, i = "".join(buf), k + 1
            else:
                vm = _TOKEN_RE.match(h, k)
                val = vm.group() if vm else ""
                i = vm.end() if vm else k
            cur.params[tok.lower()] = val
            continue
        cur = Challenge(scheme=tok.lower())
        out.append(cur)
        i = j
        # a token68 right after the scheme (e.g. "Negotiate abc==")
        while i < n and h[i] in " \t":
            i += 1
        tm = _TOKEN68_RE.match(h, i)
        if tm:
            rest = h[tm.end():].lstrip(" \t")
            if not rest or rest.startswith(","):
                cur.token68 = tm.group()
                i = tm.end()
    return out


def scope_for(name: str, actions: str = "pull") -> str:
    return f"repository:{name}:{actions}"


Fetch = Callable[[str, str, dict, bytes | None], tuple[int, dict, bytes]]


class TokenCache:
    """Thread-safe cache of bearer tokens by (realm, service, scopes, account)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._tokens: dict[tuple, tuple[str, float]] = {}
        self._clock = clock

    def get(self, key: tuple) -> str | None:
        with self._lock:
            hit = self._tokens.get(key)
            if hit and hit[1] > self._clock():
                return hit[0]
            self._tokens.pop(key, None)
            return None

    def put(self, key: tuple, token: str, lifetime: float) -> None:
        with self._lock:
            self._tokens[key] = (token, self._clock() + max(lifetime, MIN_TOKEN_LIFETIME) - 5)

    def drop(self, key: tuple) -> None:
        with self._lock:
            self._tokens.pop(key, None)


GLOBAL_TOKEN_CACHE = TokenCache()


def _is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Authenticator:
    """Produces Authorization headers for one registry from its challenges."""

    def __init__(self, creds: Credentials | None, fetch: Fetch, cache: TokenCache | None = None,
                 secure_transport: bool = True):
        self.creds = creds or Credentials()
        self.fetch = fetch
        self.cache = cache or GLOBAL_TOKEN_CACHE
        self.secure_transport = secure_transport
        self.challenges: list[Challenge] = []
        self.token_requests = 0  # for tests and debugging
        self._fetch_lock = threading.Lock()

    def set_challenges(self, challenges: list[Challenge]) -> None:
        if challenges:
            self.challenges = challenges

    def _pick(self) -> Challenge | None:
        for scheme in ("bearer", "basic"):
            for c in self.challenges:
                if c.scheme == scheme:
                    return c
        return None

    def _key(self, ch: Challenge, scopes: list[str]) -> tuple:
        return (ch.params.get("realm"), ch.params.get("service"), tuple(sorted(scopes)),
                self.creds.username, self.creds.identity_token[:16])

    def header(self, scopes: list[str]) -> str | None:
        """The Authorization value for a request needing ``scopes`` (fetches a token if needed)."""
        ch = self._pick()
        if ch is None:
            return None
        if ch.scheme == "basic":
            return self.creds.basic_header() if self.creds.username else None
        if self.creds.registry_token:
            return "Bearer " + self.creds.registry_token
        key = self._key(ch, scopes)
        tok = self.cache.get(key)
        if tok is None:
            with self._fetch_lock:  # parallel requests share one token fetch
                tok = self.cache.get(key)
                if tok is None:
                    tok, lifetime, _ = self._fetch_token(ch, scopes)
                    self.cache.put(key, tok, lifetime)
        return "Bearer " + tok

    def invalidate(self, scopes: list[str]) -> None:
        ch = self._pick()
        if ch is not None:
            self.cache.drop(self._key(ch, scopes))

    def login(self) -> tuple[str | None, str | None]:
        """Authenticate without a scope, as ``docker login`` does.

        Returns (Authorization value or None, OAuth refresh token if the token server gave one).
        """
        ch = self._pick()
        if ch is None:
            return None, None
        if ch.scheme == "basic":
            return (self.creds.basic_header() if self.creds.username else None), None
        tok, lifetime, refresh = self._fetch_token(ch, [], offline=True)
        self.cache.put(self._key(ch, []), tok, lifetime)
        return "Bearer " + tok, refresh

    def _fetch_token(self, ch: Challenge, scopes: list[str], offline: bool = False) -> tuple[str, float, str | None]:
        realm = ch.params.get("realm", "")
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AuthError(f"unauthorized: invalid token realm {realm!r} in WWW-Authenticate")
        service = ch.params.get("service")
        has_creds = bool(self.creds.username or self.creds.identity_token)
        if has_creds and parts.scheme == "http" and self.secure_transport and not _is_loopback_url(realm):
            raise AuthError(f"refusing to send credentials to the plain-HTTP token realm {realm}")
        self.token_requests += 1
        if self.creds.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": self.creds.identity_token,
                    "client_id": CLIENT_ID, "scope": " ".join(scopes)}
            if service:
                form["service"] = service
            body = urllib.parse.urlencode(form).encode()
            status, _, data = self.fetch("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"}, body)
        else:
            query = [("scope", s) for s in scopes]
            if service:
                query.insert(0, ("service", service))
            headers = {}
            if self.creds.username:
                query.append(("account", self.creds.username))
                headers["Authorization"] = self.creds.basic_header()
                if offline:
                    query += [("client_id", CLIENT_ID), ("offline_token", "true")]
            sep = "&" if parts.query else "?"
            url = realm + (sep + urllib.parse.urlencode(query) if query else "")
            status, _, data = self.fetch("GET", url, headers, None)
        if status != 200:
            err = errors.from_response(status, data, f"token server {realm}")
            if status == 401 and not err.errors and has_creds:
                raise AuthError("unauthorized: incorrect username or password", "UNAUTHORIZED", status)
            if isinstance(err, (errors.Unauthorized, errors.Denied)):
                raise AuthError(err.message, err.code, status, err.errors)
            raise err.wrap(f"getting a token from {realm}")
        return _parse_token_response(data, realm)


def _parse_token_response(data: bytes, realm: str) -> tuple[str, float, str | None]:
    if len(data) > MAX_TOKEN_RESPONSE:
        raise errors.ProtocolError(f"token response from {realm} is too large")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.ProtocolError(f"token response from {realm} is not JSON") from None
    if not isinstance(doc, dict):
        raise errors.ProtocolError(f"token response from {realm} is not a JSON object")
    tok = doc.get("token") or doc.get("access_token")
    if not isinstance(tok, str) or not tok or any(c in tok for c in "\r\n\0 "):
        raise errors.ProtocolError(f"token response from {realm} has no valid token")
    lifetime = doc.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
        lifetime = MIN_TOKEN_LIFETIME
    refresh = doc.get("refresh_token")
    if not isinstance(refresh, str) or not refresh or any(c in refresh for c in "\r\n\0"):
        refresh = None
    return tok, float(lifetime), refresh
