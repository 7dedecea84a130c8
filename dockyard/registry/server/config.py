"""The server's settings: defaults, a config file (TOML, or JSON by extension), command-line flags.

Example (TOML)::

    addr = "127.0.0.1:5000"
    root = "/var/lib/dockyard-registry"
    delete_enabled = true
    upload_max_age = 86400           # seconds without activity before an upload is removed

    [tls]
    cert = "/etc/registry/cert.pem"
    key = "/etc/registry/key.pem"

    [auth]
    mode = "token"                   # "none", "htpasswd" (Basic) or "token" (Bearer)
    htpasswd = "/etc/registry/htpasswd"
    anonymous = ["pull"]             # what clients without credentials may do everywhere
    max_login_failures = 10          # per client address and minute, then 429 TOOMANYREQUESTS

    [[auth.rules]]                   # without rules: authenticated accounts may do everything
    account = "alice"                # a user, "*" for any authenticated user, "" for everyone
    repository = "alice/*"
    actions = ["pull", "push", "delete"]
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields

from .auth.access import REPO_ACTIONS, Rule

MAX_MANIFEST_LIMIT = 4 << 20


class ConfigError(ValueError):
    """A setting is missing, unknown or has a bad value."""


@dataclass
class TLSConfig:
    cert: str = ""
    key: str = ""
    client_ca: str = ""


@dataclass
class AuthConfig:
    mode: str = "none"
    htpasswd: str = ""
    realm: str = "dockyard-registry"
    service: str = "dockyard-registry"
    issuer: str = "dockyard-registry"
    token_realm: str = ""
    token_key: str = ""                    # default: <root>/token.key, created on first start
    token_ttl: int = 300
    refresh_ttl: int = 30 * 86400
    max_login_failures: int = 10           # per client address and minute; then 429 (0: no limit)
    anonymous: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


@dataclass
class ServerConfig:
    addr: str = "127.0.0.1:5000"
    root: str = ""
    log_level: str = "info"
    delete_enabled: bool = True
    max_manifest_size: int = MAX_MANIFEST_LIMIT
    upload_max_age: float = 86400.0
    upload_purge_interval: float = 3600.0
    fsync: bool = True
    tls: TLSConfig = field(default_factory=TLSConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)

    @property
    def host_port(self) -> tuple[str, int]:
        return parse_addr(self.addr)

    @property
    def token_key_path(self) -> str:
        return self.auth.token_key or os.path.join(self.root, "token.key")


def parse_addr(addr: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``:PORT`` (all addresses)."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"invalid address {addr!r}: expected HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", int(port)


_TYPES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


def _coerce(section: str, key: str, value, typ):
    where = f"{section}{key}"
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if typ in _TYPES:
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise ConfigError(f"setting {where}: expected {_TYPES[typ]}, got {value!r}")
        return value
    raise ConfigError(f"setting {where}: unsupported")


def _rules(value) -> list[Rule]:
    if not isinstance(value, list):
        raise ConfigError("setting auth.rules: expected a list of tables")
    out = []
    for i, item in enumerate(value):
        where = f"auth.rules[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"setting {where}: expected a table")
        unknown = set(item) - {"account", "repository", "actions"}
        if unknown:
            raise ConfigError(f"setting {where}: unknown key {sorted(unknown)[0]!r}")
        account, repo, actions = item.get("account"), item.get("repository", "*"), item.get("actions")
        if not isinstance(account, str):
            raise ConfigError(f"setting {where}.account: expected a string (a user, \"*\" or \"\")")
        if not isinstance(repo, str) or not repo:
            raise ConfigError(f"setting {where}.repository: expected a non-empty glob")
        out.append(Rule(account, repo, _actions(f"{where}.actions", actions)))
    return out


def _actions(where: str, value) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ConfigError(f"setting {where}: expected a list of actions")
    bad = set(value) - REPO_ACTIONS - {"*"}
    if bad:
        raise ConfigError(f"setting {where}: unknown action {sorted(bad)[0]!r} (pull, push, delete or *)")
    return frozenset(value)


def _apply(obj, data: dict, section: str = "") -> None:
    known = {f.name: f for f in fields(obj)}
    for key, value in data.items():
        f = known.get(key)
        if f is None:
            raise ConfigError(f"unknown setting {section}{key}")
        current = getattr(obj, key)
        if isinstance(current, (TLSConfig, AuthConfig)):
            if not isinstance(value, dict):
                raise ConfigError(f"setting {section}{key}: expected a table")
            _apply(current, value, f"{section}{key}.")
        elif key == "rules":
            obj.rules = _rules(value)
        elif key == "anonymous":
            obj.anonymous = sorted(_actions(f"{section}{key}", value))
        else:
            setattr(obj, key, _coerce(section, key, value, type(current)))


def load_file(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    try:
        if path.endswith(".json"):
            data = json.loads(raw)
        else:
            import tomllib
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a table of settings")
    return data


def build(file: str | None = None, **overrides) -> ServerConfig:
    """Defaults, then the file, then the non-None ``overrides`` (``addr``, ``root``, ``tls_cert``,
    ``tls_key``, ``htpasswd``, ``auth_mode``, ``log_level``); validated."""
    cfg = ServerConfig()
    if file:
        _apply(cfg, load_file(file))
    mapping = {"addr": (cfg, "addr"), "root": (cfg, "root"), "log_level": (cfg, "log_level"),
               "tls_cert": (cfg.tls, "cert"), "tls_key": (cfg.tls, "key"),
               "htpasswd": (cfg.auth, "htpasswd"), "auth_mode": (cfg.auth, "mode")}
    for key, value in overrides.items():
        if key not in mapping:
            raise TypeError(f"unknown override {key!r}")
        if value is not None:
            obj, attr = mapping[key]
            setattr(obj, attr, value)
    validate(cfg)
    return cfg


def validate(cfg: ServerConfig) -> None:
    if not cfg.root:
        raise ConfigError("no storage root: pass --root DIR or set root in the config file")
    cfg.root = os.path.abspath(cfg.root)
    parse_addr(cfg.addr)
    if cfg.log_level not in ("debug", "info", "warn", "error"):
        raise ConfigError(f"setting log_level: {cfg.log_level!r} is not debug, info, warn or error")
    if not 1024 <= cfg.max_manifest_size <= MAX_MANIFEST_LIMIT:
        raise ConfigError(f"setting max_manifest_size: must be between 1024 and {MAX_MANIFEST_LIMIT}")
    if cfg.upload_max_age <= 0 or cfg.upload_purge_interval <= 0:
        raise ConfigError("settings upload_max_age and upload_purge_interval must be positive")
    if bool(cfg.tls.cert) != bool(cfg.tls.key):
        raise ConfigError("TLS needs both a certificate and a key (tls.cert and tls.key)")
    if cfg.tls.client_ca and not cfg.tls.cert:
        raise ConfigError("setting tls.client_ca needs tls.cert and tls.key")
    a = cfg.auth
    if a.mode not in ("none", "htpasswd", "token"):
        raise ConfigError(f"setting auth.mode: {a.mode!r} is not none, htpasswd or token")
    if a.mode != "none" and not a.htpasswd:
        raise ConfigError(f"auth mode {a.mode} needs an htpasswd file (auth.htpasswd or --htpasswd)")
    if a.token_ttl <= 0 or a.refresh_ttl <= 0:
        raise ConfigError("settings auth.token_ttl and auth.refresh_ttl must be positive")
    if a.max_login_failures < 0:
        raise ConfigError("setting auth.max_login_failures must not be negative")
    for key in ("realm", "service", "issuer", "token_realm"):
        value = getattr(a, key)
        if any(c in value for c in '"\\\r\n') or (key != "token_realm" and not value):
            raise ConfigError(f"setting auth.{key}: {value!r} is empty or has quotes or line breaks")
