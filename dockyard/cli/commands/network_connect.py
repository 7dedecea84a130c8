"""dockyard network connect: a container joins a network (now if it runs, else at its next start)."""
from __future__ import annotations

from ..bulk import path
from ..errors import CLIError

USAGE = "[OPTIONS] NETWORK CONTAINER"
SHORT = "Connect a container to a network"
ARGS = (2, 2)


def flags(fs):
    fs.list("alias", None, help="Add network-scoped alias for the container")
    fs.list("driver-opt", None, help="driver options for the network")
    fs.string("ip", None, help="IPv4 address (e.g., 172.30.100.104)")
    fs.string("ip6", None, help="IPv6 address (e.g., 2001:db8::33)")
    fs.list("link", None, help="Add link to another container")
    fs.list("link-local-ip", None, help="Add a link-local address for the container")


def endpoint_config(opts) -> dict:
    ec: dict = {}
    if opts.ip or opts.ip6 or opts.link_local_ip:
        ipam: dict = {}
        if opts.ip:
            ipam["IPv4Address"] = opts.ip
        if opts.ip6:
            ipam["IPv6Address"] = opts.ip6
        if opts.link_local_ip:
            ipam["LinkLocalIPs"] = list(opts.link_local_ip)
        ec["IPAMConfig"] = ipam
    if opts.link:
        ec["Links"] = list(opts.link)
    if opts.alias:
        ec["Aliases"] = list(opts.alias)
    if opts.driver_opt:
        opts_map = {}
        for o in opts.driver_opt:
            k, eq, v = o.partition("=")
            if not eq:
                raise CLIError(f"invalid key/value pair format in driver options: {o}")
            opts_map[k] = v
        ec["DriverOpts"] = opts_map
    return ec


def main(app, opts, args):
    body = {"Container": args[1], "EndpointConfig": endpoint_config(opts)}
    app.api.request("POST", path("/networks/{}/connect", args[0]), json_body=body).read()
    return 0
