"""The nftables ruleset of Dockyard's networks, as text: pure functions of the network state.

Only Dockyard's own tables are written (``table ip <filter>`` and ``table ip <nat>``); each apply
refills both whole tables in one atomic transaction (``add table``, ``flush table``, the chains
and rules), so a daemon restart simply renders them again. Flushing instead of deleting keeps the
chains: creating into an empty table costs well under a millisecond, whereas destroying objects
makes the kernel wait for an RCU grace period (10-20 ms). Publishing a port therefore only appends
its rule (``render_add_dnats``); the refill happens when rules go away.

filter/forward (policy accept — it only ever drops):
  * an internal network: nothing leaves the subnet, nothing from outside it enters;
  * connections to published ports (DNAT) are let through from anywhere;
  * isolation: nothing is forwarded from one Dockyard bridge to another;
  * ``enable_icc=false``: nothing is forwarded between two ports of the same bridge.
nat:
  * prerouting and output: a packet to a local address (the host's, 127.0.0.1 and the gateways)
    on a published port is DNATed to the container (output covers the host's own connections,
    including to 127.0.0.1, which the bridge's route_localnet lets out);
  * postrouting: masquerade what leaves a non-internal subnet through another interface; what
    reaches a bridge from 127.0.0.0/8; and DNATed connections from the network to itself (hairpin:
    a container reaching its own published port through a host address).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tables:
    filter: str = "dockyard"
    nat: str = "dockyard-nat"


@dataclass(frozen=True)
class NetRules:
    bridge: str
    subnet: str
    internal: bool = False
    masquerade: bool = True
    icc: bool = True


@dataclass(frozen=True)
class DnatRule:
    proto: str           # tcp | udp
    host_ip: str         # "" = every local address
    host_port: int
    container_ip: str
    container_port: int


def _q(name: str) -> str:
    return f'"{name}"'


def _replace(table: str) -> list[str]:
    # creating then deleting makes the delete succeed whether the table existed or not
    return [f"table ip {table} {{}}", f"delete table ip {table}"]


def _refill(table: str, recreate: bool) -> list[str]:
    return _replace(table) if recreate else [f"add table ip {table}", f"flush table ip {table}"]


def forward_rules(nets) -> list[str]:
    out = []
    for n in nets:
        if n.internal:
            out.append(f"iifname {_q(n.bridge)} ip daddr != {n.subnet} drop")
            out.append(f"oifname {_q(n.bridge)} ip saddr != {n.subnet} drop")
    out.append("ct status dnat accept")
    bridges = [n.bridge for n in nets]
    for n in nets:
        others = [b for b in bridges if b != n.bridge]
        if others:
            out.append(f"iifname {_q(n.bridge)} oifname {{ {', '.join(map(_q, others))} }} drop")
    for n in nets:
        if not n.icc:
            out.append(f"iifname {_q(n.bridge)} oifname {_q(n.bridge)} drop")
    return out


def dnat_rules(dnats) -> list[str]:
    out = []
    for d in sorted(dnats, key=lambda d: (d.host_ip, d.proto, d.host_port)):
        match = f"ip daddr {d.host_ip} " if d.host_ip else ""
        out.append(f"{match}{d.proto} dport {d.host_port} dnat to {d.container_ip}:{d.container_port}")
    return out


def postrouting_rules(nets) -> list[str]:
    out = []
    for n in nets:
        out.append(f"oifname {_q(n.bridge)} ip saddr 127.0.0.0/8 masquerade")
        out.append(f"oifname {_q(n.bridge)} ip saddr {n.subnet} ct status dnat masquerade")
    for n in nets:
        if n.masquerade and not n.internal:
            out.append(f"ip saddr {n.subnet} oifname != {_q(n.bridge)} masquerade")
    return out


def _chain(name: str, hook: str | None, rules, prio: str = "") -> list[str]:
    lines = [f"\tchain {name} {{"]
    if hook:
        lines.append(f"\t\ttype {hook} priority {prio}; policy accept;")
    lines += [f"\t\t{r}" for r in rules]
    lines.append("\t}")
    return lines


def render(tables: Tables, nets, dnats, recreate: bool = False) -> str:
    """The script that refills both tables (``recreate``: deletes and creates them, for a table an
    older version left with other chains)."""
    nets = sorted(nets, key=lambda n: n.bridge)
    lines = _refill(tables.filter, recreate)
    lines.append(f"table ip {tables.filter} {{")
    lines += _chain("forward", "filter hook forward", forward_rules(nets), "filter")
    lines.append("}")
    lines += _refill(tables.nat, recreate)
    lines.append(f"table ip {tables.nat} {{")
    lines += _chain("prerouting", "nat hook prerouting", ["fib daddr type local jump published"], "dstnat")
    lines += _chain("output", "nat hook output", ["fib daddr type local jump published"], "-100")
    lines += _chain("published", None, dnat_rules(dnats))
    lines += _chain("postrouting", "nat hook postrouting", postrouting_rules(nets), "srcnat")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_add_dnats(tables: Tables, dnats) -> str:
    """Append published ports to the existing tables."""
    return "".join(f"add rule ip {tables.nat} published {r}\n" for r in dnat_rules(dnats))


def render_delete(tables: Tables) -> str:
    return "\n".join(_replace(tables.filter) + _replace(tables.nat)) + "\n"


DNS_TABLE = "dockyard-dns"


def render_dns(listen_ip: str, udp_port: int, tcp_port: int) -> str:
    """Inside a container's namespace: queries to ``listen_ip``:53 go to the embedded DNS server's
    sockets on their own ports (so port 53 stays free for the container's programs; conntrack
    makes the answers come from port 53)."""
    lines = _refill(DNS_TABLE, False)
    lines.append(f"table ip {DNS_TABLE} {{")
    lines += _chain("output", "nat hook output", [
        f"ip daddr {listen_ip} udp dport 53 dnat to {listen_ip}:{udp_port}",
        f"ip daddr {listen_ip} tcp dport 53 dnat to {listen_ip}:{tcp_port}"], "-100")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dns_delete() -> str:
    return "\n".join(_replace(DNS_TABLE)) + "\n"
