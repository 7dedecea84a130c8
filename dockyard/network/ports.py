"""Published ports: Docker's ``-p`` syntax and API ``PortBindings``, and host-port reservation.

A published port is a DNAT rule, not a listening socket; to keep other programs off the port (and
to find out that one already uses it) the service holds a bound, non-listening socket for it, as
newer dockerd versions do. A random host port is one the kernel picks from ip_local_port_range.
"""
from __future__ import annotations

import errno
import ipaddress
import re
import socket
from dataclasses import dataclass

from .errors import InvalidParameter, PortInUse

PROTOS = ("tcp", "udp")
_RANGE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


@dataclass(frozen=True)
class PortRequest:
    """One container port to publish; host ports ``lo..hi`` (0, 0: any free port)."""
    proto: str
    container_port: int
    host_ip: str = ""
    host_lo: int = 0
    host_hi: int = 0


@dataclass(frozen=True)
class PortBinding:
    proto: str
    container_port: int
    host_ip: str        # "" = every host address
    host_port: int

    @property
    def key(self) -> str:
        return f"{self.proto}/{self.host_ip or '0.0.0.0'}/{self.host_port}"

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.host_ip else socket.AF_INET

    def to_doc(self) -> dict:
        return {"Proto": self.proto, "ContainerPort": self.container_port, "HostIp": self.host_ip,
                "HostPort": self.host_port}

    @classmethod
    def from_doc(cls, d: dict) -> "PortBinding":
        return cls(d["Proto"], int(d["ContainerPort"]), d["HostIp"], int(d["HostPort"]))


def _port_range(text: str, what: str) -> tuple[int, int]:
    m = _RANGE.match(text)
    if not m:
        raise InvalidParameter(f"invalid {what} {text!r}")
    lo = int(m.group(1))
    hi = int(m.group(2) or lo)
    if not (1 <= lo <= hi <= 65535):
        raise InvalidParameter(f"invalid {what} {text!r}: ports are 1-65535, low to high")
    return lo, hi


def _proto(text: str) -> str:
    p = text.lower() or "tcp"
    if p not in PROTOS:
        raise InvalidParameter(f"invalid protocol {text!r}: only tcp and udp are supported")
    return p


def _host_ip(text: str) -> str:
    if text in ("", "0.0.0.0"):
        return ""
    t = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(t))
    except ValueError:
        raise InvalidParameter(f"invalid host IP {text!r}") from None


def parse_key(key: str) -> tuple[int, int, str]:
    """``"80/tcp"`` or ``"8000-8010/udp"`` (a PortBindings/ExposedPorts key)."""
    port, _, proto = key.partition("/")
    lo, hi = _port_range(port, "container port")
    return lo, hi, _proto(proto)


def parse_publish(spec: str) -> list[PortRequest]:
    """Docker's ``-p [ip:][hostPort:]containerPort[/proto]`` (IPv6 addresses in brackets), with ranges."""
    body, _, proto = spec.partition("/")
    proto = _proto(proto)
    rest, sep, cont = body.rpartition(":")
    ip, host = "", rest
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0 or rest[end + 1: end + 2] not in ("", ":"):
            raise InvalidParameter(f"invalid port specification {spec!r}")
        ip, host = rest[: end + 1], rest[end + 2:]
    elif ":" in rest:
        ip, host = rest.rsplit(":", 1)
        if ":" in ip:
            raise InvalidParameter(f"invalid port specification {spec!r}: put IPv6 addresses in brackets")
    if sep and not (ip or host):
        raise InvalidParameter(f"invalid port specification {spec!r}")
    host_ip = _host_ip(ip)
    clo, chi = _port_range(cont, "container port")
    if not host:
        return [PortRequest(proto, p, host_ip) for p in range(clo, chi + 1)]
    hlo, hhi = _port_range(host, "host port")
    if chi == clo:
        return [PortRequest(proto, clo, host_ip, hlo, hhi)]
    if hhi - hlo != chi - clo:
        raise InvalidParameter(f"invalid port specification {spec!r}: host and container port ranges differ in size")
    return [PortRequest(proto, clo + i, host_ip, hlo + i, hlo + i) for i in range(chi - clo + 1)]


def from_api(port_bindings: dict | None, exposed=(), publish_all: bool = False) -> list[PortRequest]:
    """Requests from HostConfig.PortBindings (and ``-P``: every exposed port not bound already)."""
    out: list[PortRequest] = []
    seen = set()
    for key, binds in (port_bindings or {}).items():
        lo, hi, proto = parse_key(key)
        if lo != hi:
            raise InvalidParameter(f"invalid port binding key {key!r}: one container port per key")
        seen.add((lo, proto))
        for b in binds or [{}]:
            hp = (b or {}).get("HostPort") or ""
            hlo, hhi = _port_range(hp, "host port") if hp else (0, 0)
            out.append(PortRequest(proto, lo, _host_ip((b or {}).get("HostIp") or ""), hlo, hhi))
    if publish_all:
        for key in exposed:
            lo, hi, proto = parse_key(key)
            for p in range(lo, hi + 1):
                if (p, proto) not in seen:
                    out.append(PortRequest(proto, p))
    return out


def to_api(bindings) -> dict:
    """NetworkSettings.Ports: ``{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}``."""
    out: dict[str, list] = {}
    for b in bindings:
        out.setdefault(f"{b.container_port}/{b.proto}", []).append(
            {"HostIp": b.host_ip or "0.0.0.0", "HostPort": str(b.host_port)})
    return out


class Reservations:
    """Bound, non-listening sockets holding published host ports (keyed by ``PortBinding.key``)."""

    def __init__(self):
        self._socks: dict[str, socket.socket] = {}

    def _bind(self, proto: str, host_ip: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host_ip or "0.0.0.0", port))
        except OSError as e:
            s.close()
            where = f"{host_ip or '0.0.0.0'}:{port}/{proto}"
            if e.errno == errno.EADDRINUSE:
                raise PortInUse(f"host port {where} is already in use") from None
            if e.errno == errno.EADDRNOTAVAIL:
                raise InvalidParameter(f"cannot publish on {where}: the host has no such address") from None
            raise InvalidParameter(f"cannot reserve host port {where}: {e.strerror}") from None
        return s

    def reserve(self, req: PortRequest) -> PortBinding:
        """Reserve the requested host port, the first free one of its range, or a random one."""
        if req.host_lo == 0:
            s = self._bind(req.proto, req.host_ip, 0)
            b = PortBinding(req.proto, req.container_port, req.host_ip, s.getsockname()[1])
            self._socks[b.key] = s
            return b
        last: Exception | None = None
        for port in range(req.host_lo, req.host_hi + 1):
            b = PortBinding(req.proto, req.container_port, req.host_ip, port)
            if b.key in self._socks:
                last = PortInUse(f"host port {b.key} is already published")
                continue
            try:
                self._socks[b.key] = self._bind(req.proto, req.host_ip, port)
                return b
            except PortInUse as e:
                last = e
        if req.host_lo != req.host_hi:
            raise PortInUse(f"no free host port in {req.host_lo}-{req.host_hi}/{req.proto}")
        raise last  # type: ignore[misc]

    def hold(self, b: PortBinding) -> None:
        """Re-reserve a known binding (daemon restart)."""
        if b.key not in self._socks:
            self._socks[b.key] = self._bind(b.proto, b.host_ip, b.host_port)

    def socket_of(self, b: PortBinding) -> socket.socket | None:
        return self._socks.get(b.key)

    def release(self, b: PortBinding) -> None:
        s = self._socks.pop(b.key, None)
        if s is not None:
            s.close()

    def close(self) -> None:
        for s in self._socks.values():
            s.close()
        self._socks.clear()
