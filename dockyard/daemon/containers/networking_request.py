"""The networking part of a container create request, checked up front: the network mode, the
endpoint settings (``NetworkingConfig``), ``--ip``, ``--mac-address``, ``--network-alias``, ``--dns``,
``--add-host``, ``-p``/``-P``. A request that would fail at start fails at create instead, with the
message dockerd gives where it has one.

The result is the container's *endpoint plan*: for each network it joins at start, in order,
``{"Network": name, "NetworkID": id, "IPv4Address": "", "Aliases": [], "MacAddress": ""}``
(kept in the record as ``_endpoints``; ``network connect``/``disconnect`` change it).
"""
from __future__ import annotations

import ipaddress

from ..http import ApiError

PREDEFINED_MODES = ("host", "none")


def mode_of(network_mode: str | None, network_disabled: bool = False) -> str:
    """``bridge`` (for "default"), ``host``, ``none``, ``container:<ref>`` or a network name/id."""
    if network_disabled:
        return "none"
    m = network_mode or "default"
    return "bridge" if m == "default" else m


def kind_of(mode: str) -> str:
    """host | none | container | network."""
    if mode in PREDEFINED_MODES:
        return mode
    if mode.startswith("container:"):
        return "container"
    return "network"


def _bad(msg: str) -> ApiError:
    return ApiError(400, msg)


def _check_conflicts_shared(req, mode: str) -> None:
    """A container that shares another's (or the host's) network stack cannot configure one."""
    h = req.host
    if mode.startswith("container:"):
        if h.dns or h.dns_search or h.dns_options:
            raise _bad("conflicting options: dns and the network mode")
        if h.extra_hosts:
            raise _bad("conflicting options: custom host-to-IP mapping and the network mode")
        if h.port_bindings or h.publish_all_ports:
            raise _bad("conflicting options: port publishing and the container type network mode")
        if req.exposed_ports:
            raise _bad("conflicting options: port exposing and the container type network mode")
    if req.mac_address:
        raise _bad("conflicting options: mac-address and the network mode")


def _check_common(req, host_gateway_ip: str) -> None:
    from ...network.errors import NetworkError
    from ...network.ports import from_api, parse_key
    from .specgen_errors import SpecGenError
    from .specgen_etc import parse_extra_host
    h = req.host
    for s in h.dns:
        try:
            ipaddress.ip_address(s)
        except ValueError:
            raise _bad(f"{s} is not an ip address") from None
    for entry in h.extra_hosts:
        try:
            parse_extra_host(entry, host_gateway_ip)
        except SpecGenError as e:
            raise _bad(str(e)) from None
    if h.links:
        raise _bad("legacy container links (--link) are not supported: use a user-defined network")
    try:
        for key in req.exposed_ports or ():
            parse_key(key)
        if h.port_bindings is not None and not isinstance(h.port_bindings, dict):
            raise _bad("HostConfig.PortBindings must be an object")
        for key, binds in (h.port_bindings or {}).items():
            if binds is not None and (not isinstance(binds, list) or
                                      not all(isinstance(b, dict) or b is None for b in binds)):
                raise _bad(f"HostConfig.PortBindings[{key!r}] must be a list of objects")
        from_api(h.port_bindings, req.exposed_ports or (), h.publish_all_ports)
    except NetworkError as e:
        raise _bad(str(e)) from None


def _endpoint_configs(req) -> dict:
    nc = req.networking or {}
    eps = nc.get("EndpointsConfig") if isinstance(nc, dict) else None
    if eps is None:
        return {}
    if not isinstance(eps, dict) or not all(isinstance(v, dict) or v is None for v in eps.values()):
        raise _bad("NetworkingConfig.EndpointsConfig must be an object of endpoint settings")
    return {k: (v or {}) for k, v in eps.items()}


def endpoint_from(net: dict, ec: dict, what: str) -> dict:
    """One plan entry from an EndpointSettings request for network ``net`` (its inspect document)."""
    from ...network.errors import InvalidParameter
    from ...network.names import check_dns_name, check_mac
    name = net["Name"]
    user_defined = net["Driver"] == "bridge" and name != "bridge"
    ipam = ec.get("IPAMConfig") or {}
    if not isinstance(ipam, dict):
        raise _bad(f"{what}: IPAMConfig must be an object")
    if ipam.get("IPv6Address"):
        raise _bad(f"{what}: IPv6 addresses are not supported (network {name} has no IPv6 subnet)")
    if ipam.get("LinkLocalIPs"):
        raise _bad(f"{what}: link-local addresses are not supported")
    ip = ipam.get("IPv4Address") or ""
    if ip:
        try:
            addr = ipaddress.IPv4Address(ip)
        except ValueError:
            raise _bad(f"invalid IPv4 address: {ip}") from None
        if not user_defined:
            raise _bad("user specified IP address is supported on user defined networks only")
        subnets = [c for c in net["IPAM"]["Config"] if c.get("Subnet")]
        if not net.get("_user_subnet"):
            raise _bad("user specified IP address is supported only when connecting to networks with user "
                       "configured subnets")
        if not any(addr in ipaddress.ip_network(c["Subnet"]) for c in subnets):
            raise _bad(f"no configured subnet or ip-range contain the IP address {ip}")
        if any(str(addr) == c.get("Gateway") for c in subnets):
            raise _bad(f"address {ip} is already in use by the gateway of network {name}")
    aliases = ec.get("Aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise _bad(f"{what}: Aliases must be a list of strings")
    if aliases and not user_defined:
        raise _bad("network-scoped alias is supported only for containers in user defined networks")
    mac = ec.get("MacAddress") or ""
    try:
        for a in aliases:
            check_dns_name(a)
        if mac:
            mac = check_mac(mac)
    except InvalidParameter as e:
        raise _bad(str(e)) from None
    if ec.get("Links"):
        raise _bad("legacy container links are not supported: use a user-defined network")
    return {"Network": name, "NetworkID": net["Id"], "IPv4Address": ip, "Aliases": list(aliases), "MacAddress": mac}


def plan(req, find_network, find_container, host_gateway_ip: str = "") -> list[dict]:
    """The endpoint plan of a create request (see the module's doc); raises ``ApiError``.

    ``find_network(ref)`` → the network's inspect document plus ``_user_subnet`` (raises ApiError 404);
    ``find_container(ref)`` raises ApiError 404 for an unknown container.
    """
    from ...network.errors import InvalidParameter
    from ...network.names import check_mac
    mode = mode_of(req.host.network_mode, req.network_disabled)
    kind = kind_of(mode)
    eps = _endpoint_configs(req)
    if req.mac_address:
        try:
            check_mac(req.mac_address)
        except InvalidParameter as e:
            raise _bad(str(e)) from None
    _check_common(req, host_gateway_ip)
    if kind != "network":
        if kind == "container":
            ref = mode[len("container:"):]
            if not ref:
                raise _bad("invalid network mode container: it needs a container name or id")
            find_container(ref)
        if kind in ("host", "container"):
            _check_conflicts_shared(req, mode)
        extra = [k for k in eps if k not in (mode, req.host.network_mode)]
        if extra:
            raise _bad(f"Container cannot be connected to network endpoints: {', '.join([mode, *extra])}")
        if any((eps.get(k) or {}).get("Aliases") for k in eps):
            raise _bad("network-scoped alias is supported only for containers in user defined networks")
        return []
    if len(eps) > 1:
        raise _bad(f"Container cannot be connected to network endpoints: {', '.join(eps)}")
    net = find_network(mode)
    if net["Driver"] == "host" or net["Driver"] == "null":
        raise _bad(f"network {mode} is the {net['Name']} network: use --network {net['Name']}")
    ec: dict = {}
    for key, value in eps.items():
        if mode_of(key) not in (mode, req.host.network_mode) and find_network(mode_of(key))["Id"] != net["Id"]:
            raise _bad(f"Container cannot be connected to network endpoints: {mode}, {key}")
        ec = value
    entry = endpoint_from(net, ec, f"endpoint settings for network {net['Name']}")
    if req.mac_address and not entry["MacAddress"]:
        entry["MacAddress"] = check_mac(req.mac_address)
    return [entry]
