"""dockyard network create: docker's flags, IPAM consolidated as docker does it (each --ip-range,
--gateway and --aux-address goes with the --subnet that contains it)."""
from __future__ import annotations

import ipaddress

from ..errors import CLIError
from ..opts.env import kv_map

USAGE = "[OPTIONS] NETWORK"
SHORT = "Create a network"
ARGS = (1, 1)


def flags(fs):
    fs.bool("attachable", None, help="Enable manual container attachment")
    fs.list("aux-address", None, help="Auxiliary IPv4 or IPv6 addresses used by Network driver")
    fs.string("config-from", None, help="The network from which to copy the configuration")
    fs.bool("config-only", None, help="Create a configuration only network")
    fs.string("driver", "d", default="bridge", help="Driver to manage the Network")
    fs.list("gateway", None, help="IPv4 or IPv6 Gateway for the master subnet")
    fs.bool("ingress", None, help="Create swarm routing-mesh network")
    fs.bool("internal", None, help="Restrict external access to the network")
    fs.list("ip-range", None, help="Allocate container ip from a sub-range")
    fs.string("ipam-driver", None, default="default", help="IP Address Management Driver")
    fs.list("ipam-opt", None, help="Set IPAM driver specific options")
    fs.bool("ipv6", None, help="Enable or disable IPv6 address assignment")
    fs.list("label", None, help="Set metadata on a network")
    fs.list("opt", "o", help="Set driver specific options")
    fs.string("scope", None, help="Control the network's scope")
    fs.list("subnet", None, help="Subnet in CIDR format that represents a network segment")


def _subnet(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise CLIError(f"invalid subnet: invalid CIDR address: {text}") from None


def _address(text: str):
    try:
        return ipaddress.ip_address(text.split("/")[0])
    except ValueError:
        raise CLIError(f"invalid CIDR address: {text}" if "/" in text else f"invalid address: {text}") from None


def consolidate_ipam(subnets, ranges, gateways, aux: dict) -> list[dict]:
    if len(subnets) < len(ranges) or len(subnets) < len(gateways):
        raise CLIError("every ip-range or gateway must have a corresponding subnet")
    configs: dict[str, dict] = {}
    for s in subnets:
        for other in configs:   # (a single subnet goes to the daemon unparsed, as with docker)
            net, o = _subnet(s), _subnet(other)
            if net.version == o.version and (net.network_address in o or o.network_address in net):
                raise CLIError("multiple overlapping subnet configuration is not supported")
        configs[s] = {"Subnet": s, "AuxiliaryAddresses": {}}

    def owners(value: str) -> list[str]:
        addr = _address(value)
        return [s for s in subnets if addr.version == _subnet(s).version and addr in _subnet(s)]
    for r in ranges:
        match = owners(r)
        if not match:
            raise CLIError(f"no matching subnet for range {r}")
        for s in match:
            if configs[s].get("IPRange"):
                raise CLIError(f"cannot configure multiple ranges ({r}, {configs[s]['IPRange']}) on the same "
                               f"subnet ({s})")
            configs[s]["IPRange"] = r
    for g in gateways:
        match = owners(g)
        if not match:
            raise CLIError(f"no matching subnet for gateway {g}")
        for s in match:
            if configs[s].get("Gateway"):
                raise CLIError(f"cannot configure multiple gateways ({g}, {configs[s]['Gateway']}) for the same "
                               f"subnet ({s})")
            configs[s]["Gateway"] = g
    for key, a in aux.items():
        match = owners(a)
        if not match:
            raise CLIError(f"no matching subnet for aux-address {a}")
        for s in match:
            configs[s]["AuxiliaryAddresses"][key] = a
    return list(configs.values())


def _map(items, what: str) -> dict:
    for i in items:
        if "=" not in i:
            raise CLIError(f"invalid argument \"{i}\" for \"--{what}\" flag: bad format for {what}")
    return kv_map(items)


def main(app, opts, args):
    ipam = consolidate_ipam(opts.subnet, opts.ip_range, opts.gateway, _map(opts.aux_address, "aux-address"))
    body = {
        "Name": args[0], "CheckDuplicate": True, "Driver": opts.driver, "Scope": opts.scope,
        "EnableIPv6": bool(opts.ipv6),
        "IPAM": {"Driver": opts.ipam_driver, "Config": ipam, "Options": _map(opts.ipam_opt, "ipam-opt")},
        "Internal": bool(opts.internal), "Attachable": bool(opts.attachable), "Ingress": bool(opts.ingress),
        "ConfigOnly": bool(opts.config_only), "Options": _map(opts.opt, "opt"), "Labels": kv_map(opts.label),
    }
    if opts.config_from:
        body["ConfigFrom"] = {"Network": opts.config_from}
    resp = app.api.post("/networks/create", json_body=body) or {}
    if resp.get("Warning"):
        app.err(resp["Warning"])
    app.out(resp.get("Id", ""))
    return 0
