"""Docker Engine API shapes: the NetworkCreate request, Network inspect and EndpointSettings."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from . import model as m
from .errors import Forbidden, InvalidParameter, NotFound
from .names import check_ifname, check_network_name

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


@dataclass
class CreateRequest:
    name: str
    internal: bool = False
    attachable: bool = False
    labels: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    aux: dict = field(default_factory=dict)
    bridge_name: str | None = None
    mtu: int | None = None
    icc: bool = True
    masquerade: bool = True
    host_binding: str = ""


def _bool_opt(opts: dict, key: str, default: bool) -> bool:
    v = opts.get(key)
    if v is None:
        return default
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise InvalidParameter(f"invalid value {v!r} for option {key}: expected true or false")


def _str_map(v, what: str) -> dict:
    if v is None:
        return {}
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise InvalidParameter(f"{what} must be an object of strings")
    return dict(v)


def parse_create(body) -> CreateRequest:
    if not isinstance(body, dict):
        raise InvalidParameter("network create: the request body must be a JSON object")
    name = body.get("Name")
    if not isinstance(name, str) or not name:
        raise InvalidParameter("network create: Name is required")
    check_network_name(name)
    if name in m.PREDEFINED:
        raise Forbidden(f"{name} is a pre-defined network and cannot be created")
    driver = body.get("Driver") or "bridge"
    if driver in ("host", "null"):
        raise Forbidden(f'only one instance of "{driver}" network is allowed')
    if driver != "bridge":
        raise NotFound(f'plugin "{driver}" not found')
    if (body.get("Scope") or "local") != "local":
        raise InvalidParameter(f"network scope {body.get('Scope')!r} is not supported (only local)")
    for key in ("EnableIPv6", "Ingress", "ConfigOnly"):
        if body.get(key):
            raise InvalidParameter(f"network create: {key} is not supported")
    if (body.get("ConfigFrom") or {}).get("Network"):
        raise InvalidParameter("network create: ConfigFrom is not supported")
    for key in ("Internal", "Attachable", "CheckDuplicate"):
        if body.get(key) is not None and not isinstance(body.get(key), bool):
            raise InvalidParameter(f"network create: {key} must be a boolean")
    opts = _str_map(body.get("Options"), "Options")
    req = CreateRequest(name=name, internal=bool(body.get("Internal")), attachable=bool(body.get("Attachable")),
                        labels=_str_map(body.get("Labels"), "Labels"), options=opts)
    _parse_ipam(body.get("IPAM"), req)
    if m.OPT_BRIDGE_NAME in opts:
        req.bridge_name = check_ifname(opts[m.OPT_BRIDGE_NAME], "bridge name")
        if req.bridge_name == "docker0":
            raise InvalidParameter("bridge name docker0 belongs to Docker")
    if m.OPT_MTU in opts:
        try:
            req.mtu = int(opts[m.OPT_MTU])
        except ValueError:
            req.mtu = -1
        if not 68 <= req.mtu <= 65535:
            raise InvalidParameter(f"invalid MTU {opts[m.OPT_MTU]!r}: 68-65535")
    req.icc = _bool_opt(opts, m.OPT_ICC, True)
    req.masquerade = _bool_opt(opts, m.OPT_MASQUERADE, True)
    if opts.get(m.OPT_HOST_BINDING):
        try:
            ip = ipaddress.ip_address(opts[m.OPT_HOST_BINDING])
        except ValueError:
            raise InvalidParameter(f"invalid {m.OPT_HOST_BINDING} {opts[m.OPT_HOST_BINDING]!r}") from None
        req.host_binding = "" if ip.is_unspecified else str(ip)
    return req


def _parse_ipam(ipam, req: CreateRequest) -> None:
    if ipam is None:
        return
    if not isinstance(ipam, dict):
        raise InvalidParameter("network create: IPAM must be an object")
    if (ipam.get("Driver") or "default") != "default":
        raise NotFound(f'IPAM driver "{ipam.get("Driver")}" not found')
    configs = ipam.get("Config") or []
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise InvalidParameter("network create: IPAM.Config must be a list of objects")
    if len(configs) > 1:
        raise InvalidParameter("network create: only one IPv4 subnet per network is supported")
    for c in configs:
        for key in ("Subnet", "IPRange", "Gateway"):
            if c.get(key) is not None and not isinstance(c.get(key), str):
                raise InvalidParameter(f"network create: IPAM {key} must be a string")
        req.subnet = c.get("Subnet") or None
        req.ip_range = c.get("IPRange") or None
        req.gateway = c.get("Gateway") or None
        req.aux = _str_map(c.get("AuxiliaryAddresses") or c.get("AuxAddress"), "AuxiliaryAddresses")
        if (req.ip_range or req.gateway or req.aux) and not req.subnet:
            raise InvalidParameter("network create: IPRange, Gateway and AuxiliaryAddresses need a Subnet")


def endpoint_settings(ep: m.Endpoint, net: m.Network) -> dict:
    """EndpointSettings (NetworkSettings.Networks[name] of container inspect)."""
    return {
        "IPAMConfig": {"IPv4Address": ep.address} if ep.user_ip else None,
        "Links": None,
        "Aliases": list(ep.aliases) or None,
        "MacAddress": ep.mac,
        "DriverOpts": None,
        "NetworkID": net.id,
        "EndpointID": ep.id,
        "Gateway": ep.gateway,
        "IPAddress": ep.address,
        "IPPrefixLen": ep.prefixlen,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": ep.dns_names() if net.user_defined else None,
    }


def inspect(net: m.Network, pool_config: dict | None, endpoints) -> dict:
    options = dict(net.options)
    return {
        "Name": net.name,
        "Id": net.id,
        "Created": net.created,
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": [pool_config] if pool_config else []},
        "Internal": net.internal,
        "Attachable": net.attachable,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": {ep.container_id: {
            "Name": ep.name,
            "EndpointID": ep.id,
            "MacAddress": ep.mac,
            "IPv4Address": f"{ep.address}/{ep.prefixlen}",
            "IPv6Address": "",
        } for ep in endpoints},
        "Options": options,
        "Labels": dict(net.labels),
    }
