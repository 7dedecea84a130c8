"""Which daemon to talk to: ``-H/--host``, then ``DOCKYARD_HOST``, then ``DOCKER_HOST``, then
``unix:///run/dockyard.sock``; TLS from the flags or ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``."""
from __future__ import annotations

import os

from .errors import CLIError

DEFAULT_SOCKET = "/run/dockyard.sock"
DEFAULT_HOST = "unix://" + DEFAULT_SOCKET


class TLSConfig:
    __slots__ = ("verify", "ca", "cert", "key")

    def __init__(self, verify: bool, ca: str | None, cert: str | None, key: str | None):
        self.verify, self.ca, self.cert, self.key = verify, ca, cert, key


class Endpoint:
    """A parsed daemon address: ``unix`` with ``path``, or ``tcp`` with ``host``/``port``."""
    __slots__ = ("url", "scheme", "path", "host", "port", "tls")

    def __init__(self, url: str, scheme: str, path: str = "", host: str = "", port: int = 0,
                 tls: TLSConfig | None = None):
        self.url, self.scheme, self.path, self.host, self.port, self.tls = url, scheme, path, host, port, tls

    @property
    def http_host(self) -> str:
        """The Host header: docker sends a fixed name for unix sockets."""
        if self.scheme == "unix":
            return "api.moby.localhost"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _env(env, *names: str) -> str:
    for n in names:
        v = env.get(n)
        if v:
            return v
    return ""


def parse_host(addr: str, tls: TLSConfig | None = None) -> Endpoint:
    """docker's opts.ParseHost for the client side."""
    a = addr.strip()
    if not a:
        return Endpoint(DEFAULT_HOST, "unix", DEFAULT_SOCKET)
    if "://" not in a:
        a = "tcp://" + a
    scheme, _, rest = a.partition("://")
    if scheme == "unix":
        path = rest or DEFAULT_SOCKET
        return Endpoint(f"unix://{path}", "unix", path)
    if scheme in ("tcp", "http", "https"):
        hostport = rest.split("/", 1)[0]
        if hostport.startswith("["):
            host, _, tail = hostport[1:].partition("]")
            port_s = tail[1:] if tail.startswith(":") else ""
        elif hostport.count(":") == 1:
            host, _, port_s = hostport.partition(":")
        elif ":" in hostport:
            host, port_s = hostport, ""
        else:
            host, port_s = hostport, ""
        if scheme == "https" and tls is None:
            tls = TLSConfig(False, None, None, None)
        default_port = 2376 if tls else 2375
        try:
            port = int(port_s) if port_s else default_port
        except ValueError:
            raise CLIError(f"Invalid bind address format: {addr}") from None
        if not (0 < port < 65536):
            raise CLIError(f"Invalid bind address format: {addr}")
        host = host or "localhost"
        return Endpoint(f"tcp://{host}:{port}", "tcp", host=host, port=port, tls=tls)
    raise CLIError(f"Invalid bind address format: {addr}")


def tls_config(opts, env=os.environ) -> TLSConfig | None:
    """TLS settings from the global flags (``tls``, ``tlsverify``, ``tlscacert``…) and the environment."""
    cert_path = _env(env, "DOCKYARD_CERT_PATH", "DOCKER_CERT_PATH")
    if not cert_path:
        cert_path = os.path.join(_config_dir(env), "")
    verify = bool(getattr(opts, "tlsverify", False)) or bool(_env(env, "DOCKYARD_TLS_VERIFY", "DOCKER_TLS_VERIFY"))
    use = verify or bool(getattr(opts, "tls", False))
    if not use:
        return None

    def pick(flag: str, name: str) -> str | None:
        v = getattr(opts, flag, "") or ""
        if v:
            return v
        p = os.path.join(cert_path, name)
        return p if os.path.exists(p) else None

    return TLSConfig(verify, pick("tlscacert", "ca.pem"), pick("tlscert", "cert.pem"), pick("tlskey", "key.pem"))


def _config_dir(env) -> str:
    return env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def resolve(hosts: list[str], opts=None, env=os.environ) -> Endpoint:
    if len(hosts) > 1:
        raise CLIError("Specify only one -H")
    tls = tls_config(opts, env) if opts is not None else None
    addr = hosts[0] if hosts else _env(env, "DOCKYARD_HOST", "DOCKER_HOST") or DEFAULT_HOST
    return parse_host(addr, tls)
