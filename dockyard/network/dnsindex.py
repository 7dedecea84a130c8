"""What the embedded DNS server knows: per user-defined network, the names of its endpoints
(container name, aliases, short id) and their addresses; per container, its networks.

Immutable: the service builds a new index after every change and swaps it in.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DnsIndex:
    networks_of: dict = field(default_factory=dict)   # container id -> (network id, ...)
    names: dict = field(default_factory=dict)         # network id -> {name: (ip, ...)}
    reverse: dict = field(default_factory=dict)       # network id -> {ip: "name.network"}
    net_ids: dict = field(default_factory=dict)       # network name (lower case) -> network id
    upstreams: dict = field(default_factory=dict)     # container id -> (server ip, ...) from --dns

    def lookup(self, cid: str, qname: str) -> tuple | None:
        """Addresses of ``qname`` as the container sees it; None if it is not a known name."""
        q = qname.rstrip(".").lower()
        nets = self.networks_of.get(cid, ())
        found: list[str] = []
        for nid in nets:
            found += [ip for ip in self.names.get(nid, {}).get(q, ()) if ip not in found]
        if found:
            return tuple(found)
        # "<name>.<network>"
        for netname, nid in self.net_ids.items():
            if nid in nets and q.endswith("." + netname):
                ips = self.names.get(nid, {}).get(q[: -len(netname) - 1])
                if ips:
                    return tuple(ips)
        return None

    def reverse_lookup(self, cid: str, ip: str) -> str | None:
        for nid in self.networks_of.get(cid, ()):
            name = self.reverse.get(nid, {}).get(ip)
            if name:
                return name
        return None


def build(networks, endpoints) -> DnsIndex:
    """``networks``: the user-defined ``model.Network``s; ``endpoints``: ``model.Endpoint``s."""
    by_id = {n.id: n for n in networks}
    networks_of: dict[str, list] = {}
    names: dict[str, dict] = {nid: {} for nid in by_id}
    reverse: dict[str, dict] = {nid: {} for nid in by_id}
    upstreams: dict[str, tuple] = {}
    for ep in sorted(endpoints, key=lambda e: e.seq):
        net = by_id.get(ep.network_id)
        if net is None:
            continue
        networks_of.setdefault(ep.container_id, []).append(net.id)
        for name in ep.dns_names():
            ips = names[net.id].setdefault(name.lower(), [])
            if ep.address not in ips:
                ips.append(ep.address)
        if ep.name:
            reverse[net.id].setdefault(ep.address, f"{ep.name}.{net.name}")
        if ep.dns:
            upstreams[ep.container_id] = tuple(ep.dns)
    return DnsIndex(
        networks_of={k: tuple(v) for k, v in networks_of.items()},
        names={nid: {k: tuple(v) for k, v in m.items()} for nid, m in names.items()},
        reverse=reverse,
        net_ids={n.name.lower(): n.id for n in networks},
        upstreams=upstreams,
    )
