"""``/token``: the built-in token server of ``auth.mode = "token"`` (Docker's token flow).

``GET /token?service=S&scope=repository:NAME:pull,push[&account=U][&offline_token=true]`` with
optional Basic credentials, or ``POST /token`` with an OAuth2 form (``grant_type=password`` with
``username``/``password``, or ``grant_type=refresh_token``; ``access_type=offline`` asks for a
refresh token). The token grants the part of each requested scope the account's rules allow
(anonymous requests get what anonymous clients may do); wrong credentials are answered 401.
"""
from __future__ import annotations

import time
from urllib.parse import parse_qs

from dockyard.daemon.http import Response, encode_json

from ..auth.access import Scope, parse_scope
from ..auth.gate import parse_basic
from ..auth.tokens import TokenError
from ..errors import RegistryError
from .app import JSON_UTF8
from .body import read_limited

MAX_SCOPES = 32
_TRUE = ("true", "1", "yes")


def _bad(message: str) -> RegistryError:
    return RegistryError("UNSUPPORTED", message, status=400)


def _unauthorized(ctx, message: str) -> RegistryError:
    realm = ctx.server.gate.realm.replace('"', "")
    return RegistryError("UNAUTHORIZED", message, headers=[("WWW-Authenticate", f'Basic realm="{realm}"')])


def _scopes(values: list[str]) -> list[Scope]:
    out = []
    for value in values:
        for text in value.split():
            scope = parse_scope(text)
            if scope is None:
                raise _bad(f"invalid scope {text[:100]!r}: expected type:name:actions")
            out.append(scope)
    if len(out) > MAX_SCOPES:
        raise _bad(f"too many scopes (at most {MAX_SCOPES})")
    return out


async def _login(ctx, req, user: str, password: str) -> str:
    if not await ctx.server.gate.check_basic(req, user, password):
        raise _unauthorized(ctx, "invalid username or password")
    return user


def _answer(ctx, account: str | None, scopes: list[Scope], offline: bool) -> Response:
    server = ctx.server
    policy, signer, cfg = server.gate.policy, server.gate.signer, server.config.auth
    access = []
    for scope in scopes:
        if scope.type not in ("repository", "registry"):
            continue
        granted = policy.grant(account, scope)
        if granted:
            access.append({"type": scope.type, "name": scope.name, "actions": sorted(granted)})
    token = signer.issue(account or "", cfg.token_ttl, access)
    now = time.time()
    body = {"token": token, "access_token": token, "expires_in": cfg.token_ttl,
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
    if offline and account:
        body["refresh_token"] = signer.issue(account, cfg.refresh_ttl, kind="refresh")
    return Response(200, encode_json(body), [("Cache-Control", "no-store")], JSON_UTF8)


def _check_service(ctx, service: str | None) -> None:
    if service and service != ctx.server.gate.signer.service:
        raise _bad(f"unknown service {service[:100]!r}: this token server signs for "
                   f"{ctx.server.gate.signer.service!r}")


async def get_token(ctx, req) -> Response:
    _check_service(ctx, req.q("service"))
    account = None
    authz = req.headers.get("authorization")
    if authz:
        creds = parse_basic(authz)
        if creds is None:
            raise _unauthorized(ctx, "expected Basic credentials")
        account = await _login(ctx, req, *creds)
    offline = (req.q("offline_token") or "").lower() in _TRUE
    return _answer(ctx, account, _scopes(req.query.get("scope", [])), offline)


async def post_token(ctx, req) -> Response:
    body = await read_limited(req, 64 << 10, "token request")
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise _bad("token request is not UTF-8") from None

    def one(key: str) -> str:
        values = form.get(key) or [""]
        return values[0]

    _check_service(ctx, one("service"))
    grant = one("grant_type")
    signer = ctx.server.gate.signer
    if grant == "password":
        account = await _login(ctx, req, one("username"), one("password"))
    elif grant == "refresh_token":
        try:
            claims = signer.verify(one("refresh_token"), kind="refresh")
        except TokenError as e:
            raise _unauthorized(ctx, str(e)) from None
        account = claims.get("sub") or ""
        if not ctx.server.gate.htpasswd.has_user(account):
            raise _unauthorized(ctx, "the refresh token's account no longer exists")
    else:
        raise _bad(f"unsupported grant_type {grant[:40]!r} (password or refresh_token)")
    offline = one("access_type") == "offline"
    resp = _answer(ctx, account, _scopes(form.get("scope", [])), offline)
    return resp


def routes(app) -> None:
    app.endpoint("GET", "/token", get_token, False)
    app.endpoint("POST", "/token", post_token, False)
