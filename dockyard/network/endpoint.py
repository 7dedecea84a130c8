"""A container's interface on a bridge network: a veth pair, the host side on the bridge (hairpin
on, so a container reaches its own published ports), the peer created directly inside the
container's namespace as ``eth<N>`` with its MAC, MTU, address and (optionally) the default route.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import netlink
from .errors import NetworkError

AF_INET = 2
LO_INDEX = 1   # the loopback device is interface 1 in every network namespace


@dataclass(frozen=True)
class EndpointSpec:
    host_ifname: str
    bridge: str
    address: str
    prefixlen: int
    mac: str
    mtu: int | None = None
    gateway: str | None = None   # default route via this address (if there is none yet); None: no route


def free_ifname(ns_ipr, prefix: str = "eth") -> str:
    names = set(netlink.link_names(ns_ipr))
    n = 0
    while f"{prefix}{n}" in names:
        n += 1
    return f"{prefix}{n}"


def has_default_route(ns_ipr) -> bool:
    return any(r["dst_len"] == 0 for r in ns_ipr.route("dump", family=AF_INET, table=254))


def set_default_route(ns_ipr, gateway: str) -> None:
    ns_ipr.route("replace", dst="0.0.0.0/0", gateway=gateway)


def attach(host_ipr, ns_ipr, netns_path: str, spec: EndpointSpec) -> str:
    """Create and configure the endpoint; returns the interface name inside the namespace.
    On failure the veth pair is removed (deleting the host side removes the peer too)."""
    br = netlink.index(host_ipr, spec.bridge)
    if br is None:
        raise NetworkError(f"bridge {spec.bridge} does not exist")
    inner = free_ifname(ns_ipr)
    mtu = {"mtu": spec.mtu} if spec.mtu else {}
    nsfd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        host_ipr.link("add", ifname=spec.host_ifname, kind="veth",
                      peer={"ifname": inner, "net_ns_fd": nsfd, "address": spec.mac, **mtu}, **mtu)
    except Exception as e:
        raise NetworkError(f"cannot create veth {spec.host_ifname}: {e}") from None
    finally:
        os.close(nsfd)
    try:
        host = netlink.index(host_ipr, spec.host_ifname)
        host_ipr.link("set", index=host, master=br, state="up")
        host_ipr.brport("set", index=host, mode=1)  # hairpin
        ns_ipr.link("set", index=LO_INDEX, state="up")
        peer = netlink.index(ns_ipr, inner)
        if peer is None:
            raise NetworkError(f"interface {inner} did not appear in {netns_path}")
        ns_ipr.addr("add", index=peer, address=spec.address, prefixlen=spec.prefixlen)
        ns_ipr.link("set", index=peer, state="up")
        if spec.gateway:
            try:
                ns_ipr.route("add", dst="0.0.0.0/0", gateway=spec.gateway, oif=peer)
            except Exception as e:
                if netlink.errno_of(e) != netlink.EEXIST:   # another network's default route stays
                    raise
    except Exception as e:
        netlink.delete_link(host_ipr, spec.host_ifname)
        if isinstance(e, NetworkError):
            raise
        raise NetworkError(f"cannot configure endpoint {spec.host_ifname} in {netns_path}: {e}") from None
    return inner


def detach(host_ipr, host_ifname: str) -> bool:
    """Remove the endpoint: its host side (the peer in the container goes with it)."""
    return netlink.delete_link(host_ipr, host_ifname)
