"""Identifiers and kernel names: network/endpoint ids, bridge and veth names, MAC addresses."""
from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass

from .errors import InvalidParameter

IFNAMSIZ = 15  # usable characters of a Linux interface name
_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
# Docker's network name rule
_NETNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def new_id() -> str:
    return secrets.token_hex(32)


def check_ifname(name: str, what: str = "interface name") -> str:
    if not isinstance(name, str) or not _IFNAME.match(name) or name in (".", ".."):
        raise InvalidParameter(f"invalid {what} {name!r}: 1-15 characters of [A-Za-z0-9_.-]")
    return name


def check_network_name(name: str) -> str:
    if not isinstance(name, str) or not name or len(name) > 128 or not _NETNAME.match(name):
        raise InvalidParameter(f"invalid network name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name


_DNS_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})$")


def check_dns_name(name: str, what: str = "network alias") -> str:
    """A name the embedded DNS server can answer for: dot-separated labels of [A-Za-z0-9_-]."""
    if not isinstance(name, str) or not 0 < len(name) <= 253 or \
            not all(_DNS_LABEL.match(label) for label in name.split(".")):
        raise InvalidParameter(f"invalid {what} {name!r}: dot-separated labels of up to 63 letters, digits, '-', '_'")
    return name


def check_mac(mac: str) -> str:
    if not isinstance(mac, str) or not _MAC.match(mac):
        raise InvalidParameter(f"invalid MAC address {mac!r}")
    octets = [int(x, 16) for x in mac.split(":")]
    if octets[0] & 1:
        raise InvalidParameter(f"invalid MAC address {mac!r}: multicast address")
    if not any(octets):
        raise InvalidParameter(f"invalid MAC address {mac!r}: all zeros")
    return mac.lower()


def mac_for(ip: str) -> str:
    """Docker's generated MAC for an IPv4 address: 02:42 and the four address bytes."""
    addr = ipaddress.ip_address(ip)
    tail = addr.packed[-4:]
    return "02:42:" + ":".join(f"{b:02x}" for b in tail)


@dataclass(frozen=True)
class Naming:
    """How kernel objects are named: ``<bridge_prefix><hex>`` bridges, ``<veth_prefix><hex>`` veths.

    ``default_bridge`` is the default network's bridge. Only names matching these patterns are ever
    deleted as orphans, so tests (or a second daemon) pick distinct prefixes.
    """
    default_bridge: str = "dyd0"
    bridge_prefix: str = "dy-"
    veth_prefix: str = "dyv"

    def __post_init__(self):
        check_ifname(self.default_bridge, "default bridge name")
        for p in (self.bridge_prefix, self.veth_prefix):
            if not 1 <= len(p) <= 5 or not _IFNAME.match(p):
                raise InvalidParameter(f"invalid interface name prefix {p!r}")
        if self.bridge_prefix.startswith(self.veth_prefix) or self.veth_prefix.startswith(self.bridge_prefix):
            raise InvalidParameter("bridge and veth name prefixes must differ")

    def bridge(self, network_id: str) -> str:
        return self.bridge_prefix + network_id[: IFNAMSIZ - len(self.bridge_prefix)]

    def veth(self, endpoint_id: str) -> str:
        return self.veth_prefix + endpoint_id[: IFNAMSIZ - len(self.veth_prefix)]

    def is_bridge(self, name: str) -> bool:
        return _ours(name, self.bridge_prefix)

    def is_veth(self, name: str) -> bool:
        return _ours(name, self.veth_prefix)


def _ours(name: str, prefix: str) -> bool:
    rest = name[len(prefix):]
    return name.startswith(prefix) and len(name) == IFNAMSIZ and bool(re.fullmatch(r"[0-9a-f]+", rest))
