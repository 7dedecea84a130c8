"""Registry credentials in Docker's config file (``$DOCKER_CONFIG/config.json``).

Compatible with docker's file: ``auths`` entries keyed by server
(``https://index.docker.io/v1/`` for Docker Hub, ``host[:port]`` otherwise)
holding ``auth`` = base64("user:password") or an ``identitytoken``; other keys
of the file are preserved. Credential helpers (``credsStore``,
``credHelpers``) are run as ``docker-credential-<name> get|store|erase``.
Writes are atomic and the file is kept mode 0600.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

from . import errors
from .auth import Credentials
from .client import RegistryClient

INDEX_SERVER = "https://index.docker.io/v1/"
_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
MAX_CONFIG_BYTES = 16 << 20


class CredentialsError(Exception):
    """The config file or a credential helper failed."""


def config_dir() -> Path:
    d = os.environ.get("DOCKER_CONFIG")
    return Path(d) if d else Path.home() / ".docker"


def config_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path) if path else config_dir() / "config.json"


def hostname(server: str) -> str:
    """``https://host:5000/v1/`` → ``host:5000`` (Docker's ConvertToHostname)."""
    s = server.strip()
    if "://" in s:
        s = urllib.parse.urlsplit(s).netloc
    return s.split("/", 1)[0].lower()


def server_key(registry: str) -> str:
    """The ``auths`` key docker uses for a registry."""
    h = hostname(registry)
    return INDEX_SERVER if h in _HUB_HOSTS else h


def load_config(path: str | os.PathLike | None = None) -> dict:
    p = config_path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise CredentialsError(f"reading {p}: {e.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise CredentialsError(f"{p}: file too large")
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CredentialsError(f"{p}: invalid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise CredentialsError(f"{p}: expected a JSON object")
    if not isinstance(doc.get("auths", {}), dict):
        raise CredentialsError(f"{p}: 'auths' must be an object")
    return doc


def save_config(doc: dict, path: str | os.PathLike | None = None) -> None:
    p = config_path(path)
    p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=p.parent)
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            json.dump(doc, f, indent="\t")
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _find_entry(auths: dict, key: str) -> tuple[str, dict] | None:
    if isinstance(auths.get(key), dict):
        return key, auths[key]
    want = hostname(key)
    for k, v in auths.items():
        if isinstance(v, dict) and (hostname(k) == want or server_key(k) == key):
            return k, v
    return None


def _decode_entry(entry: dict, where: str) -> Credentials:
    c = Credentials()
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, pw = base64.b64decode(auth, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            raise CredentialsError(f"invalid auth configuration for {where}") from None
        if not sep:
            raise CredentialsError(f"invalid auth configuration for {where}: no ':' in auth")
        c.username, c.password = user, pw
    elif isinstance(entry.get("username"), str):
        c.username = entry["username"]
        c.password = entry.get("password") if isinstance(entry.get("password"), str) else ""
    if isinstance(entry.get("identitytoken"), str):
        c.identity_token = entry["identitytoken"]
    if isinstance(entry.get("registrytoken"), str):
        c.registry_token = entry["registrytoken"]
    return c


def _helper_for(doc: dict, key: str) -> str | None:
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        h = helpers.get(hostname(key)) or helpers.get(key)
        if isinstance(h, str) and h:
            return h
    store = doc.get("credsStore")
    return store if isinstance(store, str) and store else None


def _run_helper(helper: str, action: str, data: str) -> str:
    prog = f"docker-credential-{helper}"
    try:
        p = subprocess.run([prog, action], input=data.encode(), capture_output=True, timeout=60)
    except FileNotFoundError:
        raise CredentialsError(f"credential helper {prog} not found in PATH") from None
    except subprocess.TimeoutExpired:
        raise CredentialsError(f"credential helper {prog} {action}: timed out") from None
    out = p.stdout.decode("utf-8", "replace").strip()
    if p.returncode != 0:
        msg = out or p.stderr.decode("utf-8", "replace").strip()
        if "credentials not found" in msg:
            raise KeyError(msg)
        raise CredentialsError(f"credential helper {prog} {action}: {msg.splitlines()[0] if msg else 'failed'}")
    return out


def get(registry: str, path: str | os.PathLike | None = None) -> Credentials | None:
    """Stored credentials for a registry (domain, host:port or server URL), or None."""
    doc = load_config(path)
    key = server_key(registry)
    helper = _helper_for(doc, key)
    if helper:
        try:
            out = _run_helper(helper, "get", key)
        except KeyError:
            return None
        try:
            resp = json.loads(out)
        except ValueError:
            raise CredentialsError(f"credential helper docker-credential-{helper}: invalid output") from None
        user, secret = resp.get("Username", ""), resp.get("Secret", "")
        if not isinstance(user, str) or not isinstance(secret, str):
            raise CredentialsError(f"credential helper docker-credential-{helper}: invalid output")
        if user == "<token>":
            return Credentials(identity_token=secret)
        return Credentials(username=user, password=secret) if user or secret else None
    found = _find_entry(doc.get("auths") or {}, key)
    if not found:
        return None
    c = _decode_entry(found[1], found[0])
    return c if c else None


def resolver(path: str | os.PathLike | None = None):
    """A ``creds`` callable for pull/push: registry → stored credentials."""
    return lambda registry: get(registry, path)


def store(registry: str, creds: Credentials, path: str | os.PathLike | None = None) -> None:
    doc = load_config(path)
    key = server_key(registry)
    helper = _helper_for(doc, key)
    if helper:
        secret_user = "<token>" if creds.identity_token else creds.username
        secret = creds.identity_token or creds.password
        _run_helper(helper, "store", json.dumps({"ServerURL": key, "Username": secret_user, "Secret": secret}))
        return
    auths = doc.setdefault("auths", {})
    found = _find_entry(auths, key)
    if found:
        del auths[found[0]]
    entry: dict = {}
    if creds.identity_token:
        entry["auth"] = base64.b64encode(f"{creds.username}:".encode()).decode() if creds.username else ""
        entry["identitytoken"] = creds.identity_token
        if not entry["auth"]:
            del entry["auth"]
    else:
        entry["auth"] = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    auths[key] = entry
    save_config(doc, path)


def erase(registry: str, path: str | os.PathLike | None = None) -> bool:
    """Remove stored credentials; True if there were some."""
    doc = load_config(path)
    key = server_key(registry)
    helper = _helper_for(doc, key)
    if helper:
        try:
            _run_helper(helper, "erase", key)
        except KeyError:
            return False
        return True
    auths = doc.get("auths") or {}
    found = _find_entry(auths, key)
    if not found:
        return False
    del auths[found[0]]
    save_config(doc, path)
    return True


def _domain(registry: str) -> str:
    key = server_key(registry)
    return "docker.io" if key == INDEX_SERVER else key


def login(registry: str, username: str, password: str, path: str | os.PathLike | None = None,
          insecure: list[str] | None = None, certs_dir: str | None = None, timeout: float = 30.0) -> str:
    """Check the credentials against the registry's /v2/, then store them; returns "Login Succeeded"."""
    if not username:
        raise CredentialsError("Username is required")
    client = RegistryClient(_domain(registry), creds=Credentials(username=username, password=password),
                            insecure=insecure, certs_dir=certs_dir, timeout=timeout)
    client.ping()
    value, refresh = client.auth.login()
    url = client.base + "/v2/"
    with client.send("GET", url, {"Authorization": value} if value else {}) as resp:
        if resp.status != 200:
            if resp.status == 401 and value and value.startswith("Basic"):
                raise errors.Unauthorized(f"login attempt to {url} failed with status: 401 Unauthorized",
                                          "UNAUTHORIZED", 401)
            resp.raise_for_status((200,))
    creds = Credentials(username=username, password=password)
    if refresh:
        creds = Credentials(username=username, identity_token=refresh)
    store(registry, creds, path)
    return "Login Succeeded"


def logout(registry: str, path: str | os.PathLike | None = None) -> bool:
    """Forget the credentials of a registry; True if some were stored."""
    return erase(registry, path)
