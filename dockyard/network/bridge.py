"""A network's bridge device: created with its gateway address and MTU, brought up; deleted."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from . import netlink, sysctl
from .errors import Conflict, NetworkError


@dataclass(frozen=True)
class BridgeSpec:
    name: str
    gateway: str       # the bridge's own address
    prefixlen: int
    mtu: int | None = None


def create(ipr, spec: BridgeSpec, adopt: bool = False) -> int:
    """Create and configure the bridge; on any failure nothing is left behind.

    ``adopt`` accepts an existing bridge of that name (a daemon restart) and makes sure it is
    configured; otherwise an existing interface of that name is a conflict.
    """
    idx = netlink.index(ipr, spec.name)
    created = False
    if idx is not None and not adopt:
        raise Conflict(f"interface {spec.name} already exists")
    try:
        if idx is None:
            kw = {"mtu": spec.mtu} if spec.mtu else {}
            # a fixed MAC: otherwise the bridge takes its ports' lowest one and containers' ARP
            # entries for the gateway go stale whenever a port comes or goes
            ipr.link("add", ifname=spec.name, kind="bridge", address=random_mac(), **kw)
            created = True
            idx = netlink.index(ipr, spec.name)
        elif (ipr.get_links(idx)[0].get_attr("IFLA_LINKINFO") or {}).get_attr("IFLA_INFO_KIND") != "bridge":
            raise Conflict(f"interface {spec.name} exists and is not a bridge")
        have = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=idx, family=2)}
        if (spec.gateway, spec.prefixlen) not in have:
            ipr.addr("add", index=idx, address=spec.gateway, prefixlen=spec.prefixlen)
        sysctl.set_route_localnet(spec.name)
        ipr.link("set", index=idx, state="up")
        return idx
    except Exception as e:
        if created:
            netlink.delete_link(ipr, spec.name)
        if isinstance(e, NetworkError):
            raise
        raise NetworkError(f"cannot create bridge {spec.name}: {e}") from None


def random_mac() -> str:
    b = bytearray(secrets.token_bytes(6))
    b[0] = (b[0] & 0xFE) | 0x02  # unicast, locally administered
    return ":".join(f"{x:02x}" for x in b)


def delete(ipr, name: str) -> bool:
    return netlink.delete_link(ipr, name)
