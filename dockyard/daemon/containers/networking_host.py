"""The daemon's networking on this host: kernel names, the default bridge's subnet, the service.

Kernel objects are host-wide while daemons are not: several dockyardd can run side by side (tests
do), each with its own data root. The daemon of the default data root uses the plain names (bridge
``dyd0``, bridges ``dy-…``, veths ``dyv…``, nftables tables ``dockyard`` and ``dockyard-nat``);
any other daemon gets names derived from its data root, so that one daemon never adopts, rewrites
or deletes another's bridges, veths or rules. ``--bridge`` names the default bridge device.

The default network's subnet is chosen once, at the first start (it is kept in the network state
afterwards): ``--bip`` if given, else 10.210.0.0/16 for the default data root, a /24 of
10.211.0.0/16 derived from the data root for others — the first of those that no host route
overlaps, else the first free one of the pools. Choosing a subnet and creating its bridge happen
under a host-wide lock, so two daemons starting together never pick the same one.

Each daemon notes its names in ``/run/dockyard-network/`` when it starts; a daemon that starts
later removes the bridges and tables of those whose network state no longer exists (killed, and
their data root deleted), which nobody could clean up otherwise.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import logging
import os

log = logging.getLogger("dockyard.network")

DEFAULT_DATA_ROOT = "/var/lib/dockyard"
DEFAULT_SUBNET = "10.210.0.0/16"
SECONDARY_BASE = "10.211.0.0/16"      # default bridges of other data roots: /24s
LOCK_PATH = "/run/lock/dockyard-network.lock"
REGISTRY_DIR = "/run/dockyard-network"    # which daemon owns which names (see collect_orphans)
STATE_DIR = "network"                 # under the data root


class NetworkSetupError(Exception):
    """The daemon cannot set networking up (bad --bridge/--bip, no nftables, …)."""


def _digest(data_root: str) -> str:
    return hashlib.sha256(os.path.realpath(data_root).encode()).hexdigest()


def is_default_root(data_root: str) -> bool:
    return os.path.realpath(data_root) == os.path.realpath(DEFAULT_DATA_ROOT)


def kernel_names(data_root: str, bridge: str = ""):
    """(``Naming``, ``Tables``) of the daemon with this data root."""
    from ...network.errors import InvalidParameter
    from ...network.names import Naming
    from ...network.nftrules import Tables
    try:
        if is_default_root(data_root):
            return Naming(default_bridge=bridge or "dyd0"), Tables()
        h = _digest(data_root)
        return (Naming(default_bridge=bridge or f"dyd{h[:4]}", bridge_prefix=f"d{h[:3]}b",
                       veth_prefix=f"d{h[:3]}v"),
                Tables(f"dockyard-{h[:6]}", f"dockyard-{h[:6]}-nat"))
    except InvalidParameter as e:
        raise NetworkSetupError(f"--bridge: {e}") from None


def state_dir(data_root: str) -> str:
    return os.path.join(data_root, STATE_DIR)


@contextlib.contextmanager
def host_lock():
    """Serialises subnet choices and bridge creation among the daemons of this host."""
    os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def parse_bip(bip: str) -> str:
    """``--bip 10.20.0.1/16``: the default network's subnet (its first address is the bridge's)."""
    try:
        iface = ipaddress.ip_interface(bip)
    except ValueError:
        raise NetworkSetupError(f"--bip {bip!r}: expected an IPv4 address with a prefix length, "
                                "like 10.20.0.1/16") from None
    net = iface.network
    if iface.version != 4 or "/" not in bip or not 8 <= net.prefixlen <= 30:
        raise NetworkSetupError(f"--bip {bip!r}: expected an IPv4 address with a prefix length of 8 to 30")
    if iface.ip not in (net.network_address, net.network_address + 1):
        raise NetworkSetupError(f"--bip {bip}: the bridge's address must be the first address of its subnet "
                                f"({net.network_address + 1}/{net.prefixlen})")
    if net.overlaps(ipaddress.ip_network("172.17.0.0/16")):
        log.warning("--bip %s overlaps Docker's default 172.17.0.0/16", bip)
    return str(net)


def host_routes() -> list[ipaddress.IPv4Network]:
    from ...network import netlink
    with netlink.host() as ipr:
        return [ipaddress.ip_network(f"{dst}/{plen}", strict=False)
                for dst, plen, _ in netlink.routes_v4(ipr) if plen]


def choose_default_subnet(data_root: str, routes) -> str:
    """The first start's default subnet (see the module's doc)."""
    from ...network import ipam
    from ...network.errors import PoolExhausted
    from ...network.service import ADDRESS_POOLS, DOCKER_DEFAULT
    if is_default_root(data_root):
        first = ipaddress.ip_network(DEFAULT_SUBNET)
    else:
        base = ipaddress.ip_network(SECONDARY_BASE)
        first = list(base.subnets(new_prefix=24))[int(_digest(data_root)[:2], 16)]
    if not any(first.overlaps(r) for r in routes):
        return str(first)
    try:
        return str(ipam.pick_subnet(((SECONDARY_BASE, 24), *ADDRESS_POOLS), [],
                                    [*routes, ipaddress.ip_network(DOCKER_DEFAULT)]))
    except PoolExhausted as e:
        raise NetworkSetupError(f"no free subnet for the default bridge network: {e}; use --bip") from None


def _entry_path(data_root: str) -> str:
    return os.path.join(REGISTRY_DIR, _digest(data_root)[:16] + ".json")


def register(data_root: str, naming, tables) -> None:
    """Note which kernel objects this data root's daemon owns (under the host lock)."""
    os.makedirs(REGISTRY_DIR, mode=0o700, exist_ok=True)
    doc = {"data_root": os.path.realpath(data_root), "default_bridge": naming.default_bridge,
           "bridge_prefix": naming.bridge_prefix, "veth_prefix": naming.veth_prefix,
           "tables": [tables.filter, tables.nat]}
    tmp = _entry_path(data_root) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, _entry_path(data_root))


def collect_orphans() -> list[str]:
    """Remove the bridges and nftables tables of daemons whose network state is gone (a test
    daemon killed and its directory deleted): nobody could ever clean them up otherwise. Runs
    under the host lock; a daemon registers before it creates anything."""
    from ...network import netlink
    from ...network.nat import Firewall
    from ...network.names import Naming
    from ...network.nftrules import Tables
    try:
        entries = sorted(os.listdir(REGISTRY_DIR))
    except FileNotFoundError:
        return []
    gone = []
    for name in entries:
        path = os.path.join(REGISTRY_DIR, name)
        if not name.endswith(".json"):
            continue
        try:
            with open(path) as f:
                doc = json.load(f)
            root = doc["data_root"]
            naming = Naming(doc["default_bridge"], doc["bridge_prefix"], doc["veth_prefix"])
            tables = Tables(*doc["tables"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("ignoring the network registry entry %s: %s", path, e)
            continue
        if os.path.isdir(state_dir(root)):
            continue
        with netlink.host() as ipr:
            for link in netlink.link_names(ipr):
                if link == naming.default_bridge or naming.is_bridge(link) or naming.is_veth(link):
                    netlink.delete_link(ipr, link)
        Firewall(tables).remove()
        os.unlink(path)
        gone.append(root)
        log.info("removed the bridges and rules left by the daemon of %s (its state is gone)", root)
    return gone


def open_service(cfg, running: dict):
    """The daemon's ``NetworkService``, restored: bridges, rules, reservations and DNS listeners of
    the running containers (``running``: id → netns path) rebuilt, everything else dropped."""
    from ...network.errors import NetworkError
    from ...network.service import NetworkService
    if cfg.bridge == "none":
        raise NetworkSetupError("--bridge none (no default bridge network) is not supported")
    naming, tables = kernel_names(cfg.data_root, cfg.bridge)
    bip = parse_bip(cfg.bip) if cfg.bip else ""
    state = state_dir(cfg.data_root)
    first_start = not os.path.exists(os.path.join(state, "network.db"))
    with host_lock():
        try:
            collect_orphans()
        except Exception as e:   # never a reason not to start
            log.warning("cleaning up after vanished daemons: %s", e)
        register(cfg.data_root, naming, tables)
        try:
            if bip:
                subnet = bip
            elif first_start:
                subnet = choose_default_subnet(cfg.data_root, host_routes())
            else:
                subnet = DEFAULT_SUBNET   # unused: the default network exists in the state already
            svc = NetworkService(state, naming=naming, tables=tables, default_subnet=subnet)
        except NetworkError as e:
            raise NetworkSetupError(str(e)) from None
        try:
            have = svc.inspect("bridge")["IPAM"]["Config"][0]["Subnet"]
            if cfg.bip and have != subnet:
                log.warning("--bip %s is ignored: the default bridge network already has subnet %s (remove "
                            "every container and %s to change it)", cfg.bip, have, state)
            svc.restore(running)
        except BaseException as e:
            svc.close()
            if isinstance(e, NetworkError):
                raise NetworkSetupError(f"cannot restore the networks: {e}") from None
            raise
    for w in svc.warnings:
        log.warning("networking: %s", w)
    return svc
