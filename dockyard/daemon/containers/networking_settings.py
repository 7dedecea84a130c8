"""``NetworkSettings`` of the container record (what inspect shows), as dockerd fills it.

Created: ``Networks`` lists the planned networks with empty endpoint fields. Running: each network's
EndpointSettings, the published ports (exposed but unpublished ports as ``null``), and — for the
default bridge network only, like dockerd — the deprecated top-level address fields. Stopped: the
networks stay listed, their endpoint fields and the ports are emptied.
"""
from __future__ import annotations

import os

_ENDPOINT_RUNTIME = {"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                     "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DNSNames": None}
_TOP_RUNTIME = {"SandboxID": "", "SandboxKey": "", "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": ""}


def planned_endpoint(entry: dict) -> dict:
    """EndpointSettings of a network the container will join (not connected yet)."""
    out = {"IPAMConfig": {"IPv4Address": entry["IPv4Address"]} if entry.get("IPv4Address") else None,
           "Links": None, "Aliases": list(entry.get("Aliases") or []) or None, "NetworkID": entry["NetworkID"],
           "DriverOpts": None}
    out.update(_ENDPOINT_RUNTIME)
    out["MacAddress"] = entry.get("MacAddress") or ""
    return out


def planned_networks(plan: list[dict]) -> dict:
    return {e["Network"]: planned_endpoint(e) for e in plan}


def set_running(ns: dict, endpoints: dict, ports: dict, sandbox_key: str, sandbox_id: str) -> None:
    """Fill ``ns`` (NetworkSettings) for a started container; ``endpoints``: name → EndpointSettings."""
    ns.update(_TOP_RUNTIME)
    ns["SandboxID"], ns["SandboxKey"] = sandbox_id, sandbox_key
    ns["Networks"] = dict(endpoints)
    ns["Ports"] = ports
    primary = endpoints.get("bridge")
    if primary:
        ns.update(EndpointID=primary["EndpointID"], Gateway=primary["Gateway"], IPAddress=primary["IPAddress"],
                  IPPrefixLen=primary["IPPrefixLen"], MacAddress=primary["MacAddress"])


def set_stopped(ns: dict) -> None:
    """Empty what belonged to the running container, keep which networks it is on."""
    ns.update(_TOP_RUNTIME)
    ns["Ports"] = {}
    nets = ns.get("Networks") or {}
    for ep in nets.values():
        ep.update(_ENDPOINT_RUNTIME)


def ports_with_exposed(published: dict, exposed) -> dict:
    """NetworkSettings.Ports: the published bindings, and each exposed port not published as null."""
    out = dict(published)
    for key in exposed or ():
        port, _, proto = key.partition("/")
        k = f"{port}/{proto or 'tcp'}"
        if k not in out and "-" not in port:
            out[k] = None
    return out


def write_in_place(path: str, content: str) -> None:
    """Rewrite a file the container has bind-mounted: same inode (a rename would leave the
    container's mount on the old file)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        data = content.encode()
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, len(data) - len(view))
            view = view[n:]
    finally:
        os.close(fd)
