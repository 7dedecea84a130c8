"""``NetworkService``: Docker's networks for the daemon.

The daemon makes one at start (``restore(running)`` rebuilds bridges, rules, reservations and DNS
listeners from the state and drops what belongs to containers that are gone) and calls, from a
worker thread (every method blocks on netlink/nftables and is serialised by a lock):

* ``create``/``remove``/``list``/``inspect``/``prune`` — the /networks API;
* ``connect(container_id, netns_path, network, …)`` when a container starts (its namespace
  exists), ``disconnect``/``disconnect_all`` when it stops or is disconnected;
* ``publish``/``unpublish``/``ports`` for ``-p``/``-P``;
* ``resolv_conf``/``hosts`` for the container's files;
* ``shutdown()`` at daemon stop: removes rules and bridges when no container is connected,
  otherwise leaves the kernel state alone so running containers keep their network.

Every operation changes the state db and the kernel together: if any step fails, the transaction
is rolled back and kernel changes already made are undone, so nothing is left half-configured.
"""
from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import threading

from . import apishape, bridge, dnsindex, etcfiles, ipam, netlink, store, sysctl
from . import model as m
from .db import StateDB
from .dns import DnsServer, host_upstreams
from .errors import Conflict, Forbidden, NotFound
from .loop import LoopThread
from .names import Naming, new_id
from .nat import Firewall
from .nftrules import NetRules, Tables
from .nsbroker import NetnsBroker
from .portmap import PortMap
from .svc_endpoints import EndpointsMixin
from .svc_lifecycle import LifecycleMixin
from .svc_ports import PortsMixin, dnat_rules_of

log = logging.getLogger(__name__)

DEFAULT_SUBNET = "10.210.0.0/16"
ADDRESS_POOLS = (("10.212.0.0/14", 20),)
DOCKER_DEFAULT = "172.17.0.0/16"   # never handed out automatically: docker0's


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class NetworkService(EndpointsMixin, PortsMixin, LifecycleMixin):
    def __init__(self, state_dir: str, *, naming: Naming | None = None, tables: Tables | None = None,
                 default_subnet: str = DEFAULT_SUBNET, address_pools=ADDRESS_POOLS, default_mtu: int | None = None,
                 nft=None, dns: bool = True, upstreams=None, ipv6_proxy: bool = True,
                 resolv_conf_path: str = "/etc/resolv.conf"):
        self.naming = naming or Naming()
        self.firewall = Firewall(tables, nft)
        self.address_pools = tuple(address_pools)
        self.default_mtu = default_mtu
        self.resolv_conf_path = resolv_conf_path
        self.db = StateDB(os.path.join(state_dir, "network.db"))
        self.ipam = ipam.IPAM()
        self.broker = NetnsBroker()
        self.loop = LoopThread()
        self.portmap = PortMap(self.loop, ipv6_proxy)
        self.dns_enabled = dns
        self.dns = DnsServer(lambda: self._index, upstreams or (lambda: host_upstreams(resolv_conf_path)))
        self._index = dnsindex.DnsIndex()
        self._lock = threading.RLock()
        self.warnings: list[str] = []
        self.closed = False
        self._rules_touched = False   # set when a change reaches nftables (see _resync_rules)
        with self.db.write() as tx:
            self._ensure_predefined(tx, default_subnet)

    # --- records ------------------------------------------------------------------------------

    def _ensure_predefined(self, tx, default_subnet: str) -> None:
        have = {n.name for n in store.networks(tx)}
        for name, driver in (("host", "host"), ("none", "null")):
            if name not in have:
                store.put_network(tx, m.Network(id=new_id(), name=name, created=_now(), driver=driver))
        if "bridge" not in have:
            net = m.Network(id=new_id(), name="bridge", created=_now(), bridge=self.naming.default_bridge,
                            mtu=self.default_mtu, default=True, options={
                                m.OPT_DEFAULT_BRIDGE: "true", m.OPT_ICC: "true", m.OPT_MASQUERADE: "true",
                                m.OPT_HOST_BINDING: "0.0.0.0", m.OPT_BRIDGE_NAME: self.naming.default_bridge,
                                m.OPT_MTU: str(self.default_mtu or 1500)})
            store.put_network(tx, net)
            self.ipam.add_pool(tx, net.id, net.name, ipam.make_pool(default_subnet))

    def _bridge_networks(self, tx) -> list[m.Network]:
        return [n for n in store.networks(tx) if n.is_bridge]

    def _apply_rules(self, tx) -> None:
        self._rules_touched = True
        nets = []
        for n in self._bridge_networks(tx):
            pool = self.ipam.pool(tx, n.id)
            nets.append(NetRules(n.bridge, str(pool.subnet), n.internal, n.masquerade, n.icc))
        self.firewall.apply(nets, dnat_rules_of(store.ports(tx)))

    def _resync_rules(self) -> None:
        """After a failed change that got as far as the rules: those of the committed state again."""
        if not self._rules_touched:
            return
        try:
            with self.db.read() as tx:
                self._apply_rules(tx)
        except Exception as e:
            log.error("cannot restore the firewall rules: %s", e)

    def _reindex(self) -> None:
        with self.db.read() as tx:
            nets = [n for n in store.networks(tx) if n.user_defined]
            self._index = dnsindex.build(nets, store.endpoints(tx))

    def _host_routes(self, ipr) -> list:
        """The host's IPv4 routes (but the default one) that do not go through Dockyard's bridges."""
        with self.db.read() as tx:
            ours = {n.bridge for n in self._bridge_networks(tx)}
        names = {idx: name for name, idx in netlink.link_names(ipr).items()}
        return [ipaddress.ip_network(f"{dst}/{plen}", strict=False)
                for dst, plen, oif in netlink.routes_v4(ipr) if plen and names.get(oif) not in ours]

    # --- networks -----------------------------------------------------------------------------

    def create(self, body: dict) -> dict:
        """NetworkCreate: ``{"Id": …, "Warning": ""}``."""
        req = apishape.parse_create(body)
        with self._lock:
            self._rules_touched = False
            with netlink.host() as ipr:
                routes = self._host_routes(ipr)
                try:
                    with self.db.write() as tx:
                        nid = self._create(tx, ipr, req, routes)
                except BaseException:
                    self._resync_rules()
                    raise
        self._reindex()
        return {"Id": nid, "Warning": ""}

    def _create(self, tx, ipr, req: apishape.CreateRequest, routes) -> str:
        existing = store.networks(tx)
        if any(n.name == req.name for n in existing):
            raise Conflict(f"network with name {req.name} already exists")
        nid = new_id()
        br = req.bridge_name or self.naming.bridge(nid)
        if any(n.bridge == br for n in existing) or netlink.index(ipr, br) is not None:
            raise Conflict(f"bridge name {br} is already in use")
        if req.subnet:
            pool = ipam.make_pool(req.subnet, req.gateway, req.ip_range)
            for route in routes:
                if pool.subnet.overlaps(route):
                    raise Conflict(f"subnet {pool.subnet} overlaps with the host route {route}")
        else:
            avoid = [*routes, ipaddress.ip_network(DOCKER_DEFAULT)]
            pool = ipam.make_pool(ipam.pick_subnet(self.address_pools, self.ipam.subnets(tx), avoid))
        net = m.Network(id=nid, name=req.name, created=_now(), bridge=br, internal=req.internal,
                        attachable=req.attachable, mtu=req.mtu or self.default_mtu, icc=req.icc,
                        masquerade=req.masquerade, host_binding=req.host_binding, user_subnet=bool(req.subnet),
                        options=req.options, labels=req.labels)
        store.put_network(tx, net)
        self.ipam.add_pool(tx, nid, net.name, pool, req.aux)
        bridge.create(ipr, bridge.BridgeSpec(br, str(pool.gateway), pool.prefixlen, net.mtu))
        try:
            if not net.internal:
                sysctl.ensure_ip_forward()
            self._apply_rules(tx)
        except BaseException:
            bridge.delete(ipr, br)
            raise
        return nid

    def remove(self, ref: str) -> None:
        with self._lock:
            self._rules_touched = False
            try:
                with self.db.write() as tx:
                    net = store.find_network(tx, ref)
                    if net.name in m.PREDEFINED:
                        raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
                    if store.endpoints(tx, network_id=net.id):
                        raise Forbidden(f"error while removing network: network {net.name} id {net.id} "
                                        "has active endpoints")
                    self.ipam.remove_pool(tx, net.id)
                    store.delete_network(tx, net.id)
                    self._apply_rules(tx)
                    with netlink.host() as ipr:
                        bridge.delete(ipr, net.bridge)
            except BaseException:
                self._resync_rules()
                raise
        self._reindex()

    def _inspect(self, tx, net: m.Network) -> dict:
        pool = self.ipam.pool(tx, net.id).config() if net.is_bridge else None
        return apishape.inspect(net, pool, store.endpoints(tx, network_id=net.id))

    def inspect(self, ref: str) -> dict:
        with self.db.read() as tx:
            return self._inspect(tx, store.find_network(tx, ref))

    def list(self) -> list[dict]:
        with self.db.read() as tx:
            return [self._inspect(tx, n) for n in store.networks(tx)]

    def prune(self, keep=None) -> list[str]:
        """Remove user-defined networks without endpoints (``keep(inspect_dict)`` → True spares one)."""
        removed = []
        for info in self.list():
            if info["Name"] in m.PREDEFINED or info["Containers"] or (keep and keep(info)):
                continue
            try:
                self.remove(info["Id"])
                removed.append(info["Name"])
            except (NotFound, Forbidden):
                continue
        return removed
    # --- container files ----------------------------------------------------------------------

    def resolv_conf(self, network: str, dns=(), search=(), options=()) -> str:
        """The resolv.conf of a container on ``network`` (its first network)."""
        with self.db.read() as tx:
            net = store.find_network(tx, network)
        try:
            with open(self.resolv_conf_path) as f:
                host = f.read(1 << 20)
        except OSError:
            host = ""
        return etcfiles.resolv_conf(host, self.dns_enabled and net.user_defined, dns, search, options)

    def hosts(self, container_id: str, hostname: str, extra=()) -> str:
        with self.db.read() as tx:
            addrs = [ep.address for ep in store.endpoints(tx, container_id=container_id)]
        return etcfiles.hosts_file(hostname, addrs, extra)

