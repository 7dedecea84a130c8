"""Persistent IPv4 address management, one pool per network.

A pool is a subnet, a gateway (reserved) and an ip-range addresses are handed out from. Every
allocation is a row keyed by (network, address), so an address is never handed out twice, also
across daemon restarts; next-free allocation continues after the last address given (a cursor),
so a just-released address is not reused at once.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .errors import Conflict, InvalidParameter, NotFound, PoolExhausted

GATEWAY = "gateway"


@dataclass(frozen=True)
class Pool:
    subnet: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    ip_range: ipaddress.IPv4Network

    @property
    def prefixlen(self) -> int:
        return self.subnet.prefixlen

    def config(self) -> dict:
        """Docker's IPAM.Config entry."""
        out = {"Subnet": str(self.subnet), "Gateway": str(self.gateway)}
        if self.ip_range != self.subnet:
            out["IPRange"] = str(self.ip_range)
        return out


def _network(text, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except (ValueError, TypeError):
        raise InvalidParameter(f"invalid {what} {text!r}") from None
    if net.version != 4:
        raise InvalidParameter(f"invalid {what} {text}: only IPv4 is supported")
    if str(net) != str(text).strip():
        raise InvalidParameter(f"invalid {what} {text}: it should be {net}")
    return net


def _address(text, what: str) -> ipaddress.IPv4Address:
    try:
        addr = ipaddress.ip_address(str(text).split("/")[0])
    except ValueError:
        raise InvalidParameter(f"invalid {what} {text!r}") from None
    if addr.version != 4:
        raise InvalidParameter(f"invalid {what} {text}: only IPv4 is supported")
    return addr


def make_pool(subnet, gateway=None, ip_range=None) -> Pool:
    """Validate a pool: a /8 to /30 subnet, a usable gateway inside it, an ip-range inside it."""
    net = _network(subnet, "subnet")
    if not 8 <= net.prefixlen <= 30:
        raise InvalidParameter(f"invalid subnet {net}: the prefix length must be between 8 and 30")
    rng = _network(ip_range, "ip-range") if ip_range else net
    if not rng.subnet_of(net):
        raise InvalidParameter(f"ip-range {rng} is not inside subnet {net}")
    gw = _address(gateway, "gateway") if gateway else net.network_address + 1
    if gw not in net:
        raise InvalidParameter(f"gateway {gw} is not inside subnet {net}")
    if gw in (net.network_address, net.broadcast_address):
        raise InvalidParameter(f"gateway {gw} is the network or broadcast address of {net}")
    return Pool(net, gw, rng)


class IPAM:
    """Pools and allocations in the state db; every method runs in the caller's transaction."""

    def add_pool(self, tx, network_id: str, label: str, pool: Pool, aux: dict | None = None) -> None:
        for other_label, other in tx.rows("SELECT label, subnet FROM pools WHERE network_id != ?", (network_id,)):
            if pool.subnet.overlaps(ipaddress.ip_network(other)):
                raise Conflict(f"subnet {pool.subnet} overlaps with subnet {other} of network {other_label}")
        tx.execute("INSERT INTO pools (network_id, label, subnet, gateway, ip_range, cursor) VALUES (?,?,?,?,?,?)",
                   (network_id, label, str(pool.subnet), str(pool.gateway), str(pool.ip_range), -1))
        self._take(tx, network_id, pool.gateway, GATEWAY)
        for name, addr in (aux or {}).items():
            ip = _address(addr, f"auxiliary address {name}")
            if ip not in pool.subnet:
                raise InvalidParameter(f"auxiliary address {name}={ip} is not inside subnet {pool.subnet}")
            self._take(tx, network_id, ip, f"aux:{name}", label)

    def remove_pool(self, tx, network_id: str) -> None:
        tx.execute("DELETE FROM allocations WHERE network_id = ?", (network_id,))
        tx.execute("DELETE FROM pools WHERE network_id = ?", (network_id,))

    def pool(self, tx, network_id: str) -> Pool:
        row = tx.one("SELECT subnet, gateway, ip_range FROM pools WHERE network_id = ?", (network_id,))
        if row is None:
            raise NotFound(f"network {network_id} has no address pool")
        return Pool(ipaddress.ip_network(row[0]), ipaddress.ip_address(row[1]), ipaddress.ip_network(row[2]))

    def subnets(self, tx) -> list[ipaddress.IPv4Network]:
        return [ipaddress.ip_network(r[0]) for r in tx.rows("SELECT subnet FROM pools")]

    def allocations(self, tx, network_id: str) -> dict[str, str]:
        return dict(tx.rows("SELECT address, owner FROM allocations WHERE network_id = ?", (network_id,)))

    def allocate(self, tx, network_id: str, owner: str, address=None) -> ipaddress.IPv4Address:
        """A specific address (anywhere in the subnet but the network/broadcast address) or the next free one."""
        row = tx.one("SELECT label, cursor FROM pools WHERE network_id = ?", (network_id,))
        if row is None:
            raise NotFound(f"network {network_id} has no address pool")
        label, cursor = row
        pool = self.pool(tx, network_id)
        if address is not None:
            ip = _address(address, "IP address")
            if ip not in pool.subnet:
                raise InvalidParameter(f"IP address {ip} is not inside subnet {pool.subnet} of network {label}")
            if ip in (pool.subnet.network_address, pool.subnet.broadcast_address):
                raise InvalidParameter(f"IP address {ip} is the network or broadcast address of network {label}")
            self._take(tx, network_id, ip, owner, label)
            return ip
        taken = {int(ipaddress.ip_address(a)) for (a,) in
                 tx.rows("SELECT address FROM allocations WHERE network_id = ?", (network_id,))}
        first, last = int(pool.ip_range.network_address), int(pool.ip_range.broadcast_address)
        skip = {int(pool.subnet.network_address), int(pool.subnet.broadcast_address)}
        size = last - first + 1
        for step in range(1, size + 1):
            off = (cursor + step) % size
            n = first + off
            if n in taken or n in skip:
                continue
            ip = ipaddress.IPv4Address(n)
            self._take(tx, network_id, ip, owner, label)
            tx.execute("UPDATE pools SET cursor = ? WHERE network_id = ?", (off, network_id))
            return ip
        raise PoolExhausted(f"no available IPv4 addresses on network {label} ({pool.ip_range})")

    def release(self, tx, network_id: str, address) -> None:
        cur = tx.execute("DELETE FROM allocations WHERE network_id = ? AND address = ? AND owner != ?",
                         (network_id, str(address), GATEWAY))
        if cur.rowcount == 0:
            raise NotFound(f"address {address} is not allocated on network {network_id}")

    def _take(self, tx, network_id, ip, owner, label=None) -> None:
        row = tx.one("SELECT owner FROM allocations WHERE network_id = ? AND address = ?", (network_id, str(ip)))
        if row is not None:
            who = "the gateway" if row[0] == GATEWAY else "another endpoint"
            raise Conflict(f"address {ip} is already in use by {who} on network {label or network_id}")
        tx.execute("INSERT INTO allocations (network_id, address, owner) VALUES (?,?,?)", (network_id, str(ip), owner))


def pick_subnet(bases, used, avoid=()) -> ipaddress.IPv4Network:
    """The first ``size``-prefix subnet of the ``(base, size)`` pools that overlaps neither ``used``
    (other Dockyard networks) nor ``avoid`` (host routes and Docker's 172.17.0.0/16)."""
    blocked = [ipaddress.ip_network(n) for n in (*used, *avoid)]
    for base, size in bases:
        base = ipaddress.ip_network(base)
        if not base.prefixlen <= size <= 30:
            raise InvalidParameter(f"invalid address pool {base} size {size}")
        for cand in base.subnets(new_prefix=size):
            if not any(cand.overlaps(b) for b in blocked):
                return cand
    raise PoolExhausted("could not find an available, non-overlapping IPv4 address pool among the defaults "
                        "to assign to the network")
