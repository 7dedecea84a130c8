"""Namespaces (``--network``, ``--ipc``, ``--pid``, ``--uts``, ``--userns``, ``--cgroupns``), the hostname,
and the container's sysctls.

Joining another container (``container:<name|id>``) goes through a lookup the daemon passes: it
answers a ``Peer`` (the other container's init pid, hostname, files dir, IPC mode and /dev/shm) or
raises ``SpecGenError("No such container: …")``. Networking proper is a later piece: for now
``default``/``bridge``/``none``/a network name all give a new, empty network namespace, ``host`` none.
"""
from __future__ import annotations

import re
from typing import Callable

from . import defaults as D
from .specgen_errors import SpecGenError
from .specgen_request import CreateRequest

_SYSCTL_KEY = re.compile(r"^[A-Za-z0-9_-]+(?:[./][A-Za-z0-9_:@+-]+)+$")


class Peer:
    """Another container, as ``container:<ref>`` modes need it."""

    __slots__ = ("id", "pid", "hostname", "domainname", "files_dir", "ipc_mode", "shm_path")

    def __init__(self, id: str, pid: int, hostname: str = "", files_dir: str = "",  # noqa: A002
                 ipc_mode: str = "private", shm_path: str = "", domainname: str = ""):
        self.id, self.pid, self.hostname, self.files_dir = id, pid, hostname, files_dir
        self.ipc_mode, self.shm_path, self.domainname = ipc_mode, shm_path, domainname


Lookup = Callable[[str], "Peer | None"]


class Modes:
    """The namespace choices of one container, resolved."""

    def __init__(self):
        self.net = "private"      # private | host | container
        self.net_none = False
        self.ipc = "private"      # private | shareable | host | none | container
        self.pid = "private"      # private | host | container
        self.uts = "private"      # private | host
        self.cgroupns = "host"    # private | host
        self.net_peer: Peer | None = None
        self.ipc_peer: Peer | None = None
        self.pid_peer: Peer | None = None


def _peer(lookup: Lookup | None, ref: str, what: str) -> Peer:
    if not ref:
        raise SpecGenError(f"invalid {what} mode: container: needs a container name or id")
    if lookup is None:
        raise SpecGenError(f"No such container: {ref}")
    peer = lookup(ref)
    if peer is None:
        raise SpecGenError(f"No such container: {ref}")
    if not peer.pid:
        raise SpecGenError(f"cannot join {what} of a non running container: {peer.id}")
    return peer


def resolve_modes(req: CreateRequest, lookup: Lookup | None, *, default_ipc: str = "private",
                  default_cgroupns: str = "host") -> Modes:
    h, m = req.host, Modes()
    net = h.network_mode
    if net == "host":
        m.net = "host"
    elif net.startswith("container:"):
        m.net, m.net_peer = "container", _peer(lookup, net[len("container:"):], "network")
    elif net == "none" or req.network_disabled:
        m.net_none = True
    elif net.startswith("ns:") or net.startswith("/"):
        raise SpecGenError(f"invalid network mode: {net}")

    ipc = h.ipc_mode or default_ipc
    if ipc in ("private", "shareable", "host", "none"):
        m.ipc = ipc
    elif ipc.startswith("container:"):
        m.ipc, m.ipc_peer = "container", _peer(lookup, ipc[len("container:"):], "IPC")
        if m.ipc_peer.ipc_mode == "host":
            m.ipc = "host"
        elif m.ipc_peer.ipc_mode != "shareable" or not m.ipc_peer.shm_path:
            raise SpecGenError("non-shareable IPC (hint: use IpcMode:shareable for the donor container)")
    else:
        raise SpecGenError(f"invalid IPC mode: {ipc}")

    pid = h.pid_mode
    if pid == "host":
        m.pid = "host"
    elif pid.startswith("container:"):
        m.pid, m.pid_peer = "container", _peer(lookup, pid[len("container:"):], "PID")
    elif pid:
        raise SpecGenError(f"invalid PID mode: {pid}")

    if h.uts_mode == "host":
        m.uts = "host"
    elif h.uts_mode:
        raise SpecGenError(f"invalid UTS mode: {h.uts_mode}")

    if h.userns_mode not in ("", "host"):
        raise SpecGenError(f"invalid USER mode: {h.userns_mode} (only \"host\" is supported)")

    cg = h.cgroupns_mode or default_cgroupns
    if cg not in ("private", "host"):
        raise SpecGenError(f"invalid cgroup namespace mode: {cg}")
    m.cgroupns = cg
    if h.cgroup:
        raise SpecGenError(f"Cgroup mode {h.cgroup!r} is not supported")
    _conflicts(req, m)
    return m


def _conflicts(req: CreateRequest, m: Modes) -> None:
    h = req.host
    if m.uts == "host" and req.hostname:
        raise SpecGenError("conflicting options: hostname and the UTS mode")
    if m.uts == "host" and req.domainname:
        raise SpecGenError("conflicting options: domainname and the UTS mode")
    if m.net == "container":
        if req.hostname:
            raise SpecGenError("conflicting options: hostname and the network mode")
        if h.dns or h.dns_search or h.dns_options:
            raise SpecGenError("conflicting options: dns and the network mode")
        if h.extra_hosts:
            raise SpecGenError("conflicting options: custom host-to-IP mapping and the network mode")
        if h.port_bindings or h.publish_all_ports:
            raise SpecGenError("conflicting options: port publishing and the container type network mode")
        if req.exposed_ports:
            raise SpecGenError("conflicting options: port exposing and the container type network mode")
        if req.mac_address:
            raise SpecGenError("conflicting options: mac-address and the network mode")
        if h.links:
            raise SpecGenError("conflicting options: container type network can't be used with links. "
                               "This would result in undefined behavior")
    if m.net == "host" and req.mac_address:
        raise SpecGenError("conflicting options: mac-address and the network mode")


def namespaces(m: Modes) -> list[dict]:
    """linux.namespaces in Docker's order."""
    out = [{"type": "mount"}]
    if m.net == "container":
        out.append({"type": "network", "path": f"/proc/{m.net_peer.pid}/ns/net"})
    elif m.net != "host":
        out.append({"type": "network"})
    if m.uts != "host":
        out.append({"type": "uts"})
    if m.pid == "container":
        out.append({"type": "pid", "path": f"/proc/{m.pid_peer.pid}/ns/pid"})
    elif m.pid != "host":
        out.append({"type": "pid"})
    if m.ipc == "container":
        out.append({"type": "ipc", "path": f"/proc/{m.ipc_peer.pid}/ns/ipc"})
    elif m.ipc != "host":
        out.append({"type": "ipc"})
    if m.cgroupns == "private":
        out.append({"type": "cgroup"})
    return out


_BAD_NAME = re.compile(r"[\s\x00-\x1f\x7f/]")


def hostname_of(req: CreateRequest, m: Modes, container_id: str, host_hostname: str) -> str:
    """The container's hostname: given, the peer's (container network), the host's (host network) or id[:12]."""
    for what, value in (("hostname", req.hostname), ("domainname", req.domainname)):
        if len(value) > 64 or _BAD_NAME.search(value):
            raise SpecGenError(f"invalid {what} format: {value!r} (at most 64 characters, no spaces or '/')")
    if m.net == "container":
        return m.net_peer.hostname or m.net_peer.id[:12]
    if req.hostname:
        return req.hostname
    if m.net == "host":
        return host_hostname
    return container_id[:12]


def sysctls(user: dict[str, str], m: Modes, domainname: str) -> dict[str, str]:
    """linux.sysctl: what the user asked (if its namespace is the container's own), Docker's defaults."""
    out: dict[str, str] = {}
    for key, value in user.items():
        if not _SYSCTL_KEY.match(key) or ".." in key or any(c in value for c in "\n\x00"):
            raise SpecGenError(f"sysctl '{key}={value}' is not allowed")
        if key in D.SYSCTLS_IPC or key.startswith(D.SYSCTL_PREFIX_IPC):
            if m.ipc == "host":
                raise SpecGenError(f"sysctl \"{key}\" is not allowed in the hosts ipc namespace")
        elif key.startswith(D.SYSCTL_PREFIX_NET):
            if m.net == "host":
                raise SpecGenError(f"sysctl \"{key}\" not allowed in host network namespace")
            if m.net == "container":
                raise SpecGenError(f"sysctl \"{key}\" is not allowed: the network namespace belongs to "
                                   f"container {m.net_peer.id[:12]}")
        else:
            raise SpecGenError(f"sysctl '{key}={value}' is not allowed")
        out[key] = value
    if m.net == "private":
        for key, value in D.NETNS_SYSCTLS:
            out.setdefault(key, value)
    if domainname:
        out["kernel.domainname"] = domainname
    return out
