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
import socket
import threading

from . import apishape, bridge, dnsindex, endpoint, etcfiles, ipam, netlink, store, sysctl
from . import model as m
from .db import StateDB
from .dns import LISTEN, DnsServer, host_upstreams
from .errors import Conflict, Forbidden, InvalidParameter, NetworkError, NotFound
from .loop import LoopThread
from .names import Naming, check_dns_name, check_mac, mac_for, new_id
from .nat import Firewall
from .nftrules import DnatRule, NetRules, Tables, render_dns, render_dns_delete
from .nsbroker import NetnsBroker
from .portmap import PortMap
from .ports import PortRequest, to_api

log = logging.getLogger(__name__)

DEFAULT_SUBNET = "10.210.0.0/16"
ADDRESS_POOLS = (("10.212.0.0/14", 20),)
DOCKER_DEFAULT = "172.17.0.0/16"   # never handed out automatically: docker0's


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class NetworkService:
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
        nets, dnats = [], []
        for n in self._bridge_networks(tx):
            pool = self.ipam.pool(tx, n.id)
            nets.append(NetRules(n.bridge, str(pool.subnet), n.internal, n.masquerade, n.icc))
        for p in store.ports(tx):
            if ":" not in p["HostIp"]:
                dnats.append(DnatRule(p["Proto"], p["HostIp"], int(p["HostPort"]), p["ContainerIp"],
                                      int(p["ContainerPort"])))
        self.firewall.apply(nets, dnats)

    def _resync_rules(self) -> None:
        """After a failed change: the rules of the committed state again (best effort)."""
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

    # --- endpoints ----------------------------------------------------------------------------

    def connect(self, container_id: str, netns_path: str, network: str, *, name: str = "", ip: str | None = None,
                mac: str | None = None, aliases=(), dns=()) -> dict:
        """Attach the container (its network namespace) to a network; its EndpointSettings."""
        aliases = [check_dns_name(a) for a in aliases]
        for s in dns:
            try:
                ipaddress.ip_address(s)
            except ValueError:
                raise InvalidParameter(f"invalid DNS server {s!r}") from None
        mac = check_mac(mac) if mac else None
        with self._lock:
            created_dns = False
            host_if = None
            try:
                with self.db.write() as tx:
                    net = store.find_network(tx, network)
                    if not net.is_bridge:
                        raise Forbidden(f"container cannot be disconnected from host network or connected to "
                                        f"{net.name} network")
                    if store.endpoints(tx, network_id=net.id, container_id=container_id):
                        raise Forbidden(f"endpoint with name {name or container_id[:12]} already exists in "
                                        f"network {net.name}")
                    if ip and not net.user_subnet:
                        raise InvalidParameter("user specified IP address is supported only when connecting to "
                                               "networks with user configured subnets")
                    if aliases and not net.user_defined:
                        raise InvalidParameter("network-scoped alias is supported only for containers in user "
                                               "defined networks")
                    pool = self.ipam.pool(tx, net.id)
                    eid = new_id()
                    addr = str(self.ipam.allocate(tx, net.id, eid, ip))
                    ep = m.Endpoint(id=eid, network_id=net.id, container_id=container_id, name=name,
                                    address=addr, prefixlen=pool.prefixlen, gateway=str(pool.gateway),
                                    mac=mac or mac_for(addr), host_ifname=self.naming.veth(eid),
                                    netns_path=netns_path, aliases=aliases, dns=list(dns), user_ip=bool(ip),
                                    seq=store.next_seq(tx))
                    need_dns = (self.dns_enabled and net.user_defined and container_id not in self.dns.keys())
                    spec = endpoint.EndpointSpec(ep.host_ifname, net.bridge, addr, pool.prefixlen, ep.mac, net.mtu,
                                                 None if net.internal else ep.gateway)
                    with netlink.host() as hipr, netlink.in_netns(self.broker, netns_path) as nipr:
                        host_if = ep.host_ifname
                        ep.ifname = endpoint.attach(hipr, nipr, netns_path, spec)
                    if need_dns:
                        self._start_dns(container_id, netns_path)
                        created_dns = True
                    store.put_endpoint(tx, ep)
            except BaseException:
                if created_dns:
                    self._stop_dns(container_id, netns_path)
                if host_if:
                    with netlink.host() as hipr:
                        endpoint.detach(hipr, host_if)
                raise
        self._reindex()
        return apishape.endpoint_settings(ep, net)

    def _start_dns(self, container_id: str, netns_path: str) -> None:
        udp = self.broker.socket(netns_path, socket.AF_INET, socket.SOCK_DGRAM)
        tcp = self.broker.socket(netns_path, socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind((LISTEN[0], 0))
            tcp.bind((LISTEN[0], 0))
            self.broker.nft(netns_path, render_dns(LISTEN[0], udp.getsockname()[1], tcp.getsockname()[1]))
        except (OSError, NetworkError) as e:
            udp.close()
            tcp.close()
            raise NetworkError(f"cannot start the embedded DNS server for container {container_id[:12]}: "
                               f"{getattr(e, 'strerror', None) or e}") from None
        self.loop.start()
        self.loop.call(self.dns.add(container_id, udp, tcp))

    def _stop_dns(self, container_id: str, netns_path: str) -> None:
        self.loop.call(self.dns.remove(container_id))
        try:
            self.broker.nft(netns_path, render_dns_delete())
        except NetworkError as e:   # the namespace may be gone with its container
            log.debug("DNS rules of %s: %s", container_id[:12], e)

    def disconnect(self, container_id: str, network: str, force: bool = False) -> None:
        with self._lock:
            gone_ports = []
            try:
                with self.db.write() as tx:
                    net = store.find_network(tx, network)
                    eps = store.endpoints(tx, network_id=net.id, container_id=container_id)
                    if not eps:
                        if force:
                            return
                        raise NotFound(f"container {container_id[:12]} is not connected to network {net.name}")
                    ep = eps[0]
                    store.delete_endpoint(tx, ep.id)
                    self.ipam.release(tx, net.id, ep.address)
                    gone_ports = store.delete_ports(tx, container_id, ep.id)
                    if gone_ports:
                        self._apply_rules(tx)
                    with netlink.host() as ipr:
                        endpoint.detach(ipr, ep.host_ifname)
                    rest = store.endpoints(tx, container_id=container_id)
                    nets = {n.id: n for n in store.networks(tx)}
            except BaseException:
                if gone_ports:
                    self._resync_rules()
                raise
            self.portmap.release(gone_ports)
            if container_id in self.dns.keys() and not any(nets[e.network_id].user_defined for e in rest):
                self._stop_dns(container_id, ep.netns_path)
            self._fix_default_route(ep, rest, nets)
        self._reindex()

    def _fix_default_route(self, gone: m.Endpoint, rest, nets) -> None:
        """If the default route went with the endpoint, route through another non-internal one."""
        if nets.get(gone.network_id) is None or not rest:
            return
        for ep in rest:
            net = nets.get(ep.network_id)
            if net is not None and not net.internal and os.path.exists(ep.netns_path):
                try:
                    with netlink.in_netns(self.broker, ep.netns_path) as nipr:
                        if not endpoint.has_default_route(nipr):
                            endpoint.set_default_route(nipr, ep.gateway)
                except Exception as e:
                    log.warning("default route for %s: %s", ep.container_id[:12], e)
                return

    def disconnect_all(self, container_id: str) -> None:
        """Container stop: unpublish its ports, leave every network."""
        self.unpublish(container_id)
        with self.db.read() as tx:
            nets = [ep.network_id for ep in store.endpoints(tx, container_id=container_id)]
        for nid in nets:
            self.disconnect(container_id, nid, force=True)

    def endpoints(self, container_id: str) -> dict:
        """NetworkSettings.Networks: network name → EndpointSettings."""
        with self.db.read() as tx:
            nets = {n.id: n for n in store.networks(tx)}
            return {nets[ep.network_id].name: apishape.endpoint_settings(ep, nets[ep.network_id])
                    for ep in store.endpoints(tx, container_id=container_id)}

    # --- published ports ----------------------------------------------------------------------

    def publish(self, container_id: str, requests: list[PortRequest]) -> dict:
        """Publish ports of a connected container (on its first non-internal network); NetworkSettings.Ports.
        All of them or none: a host port in use fails the whole call and changes nothing."""
        with self._lock:
            with self.db.read() as tx:
                nets = {n.id: n for n in store.networks(tx)}
                eps = [e for e in store.endpoints(tx, container_id=container_id) if not nets[e.network_id].internal]
            if not eps:
                raise InvalidParameter(f"container {container_id[:12]} is not connected to a non-internal "
                                       "bridge network: cannot publish ports")
            ep, net = eps[0], nets[eps[0].network_id]
            reqs = [PortRequest(r.proto, r.container_port, r.host_ip or net.host_binding, r.host_lo, r.host_hi)
                    for r in requests]
            docs = self.portmap.reserve(reqs, ep.id, ep.address)
            try:
                with self.db.write() as tx:
                    for d in docs:
                        store.put_port(tx, d["Key"], container_id, d)
                    self._apply_rules(tx)
                self.portmap.start_proxies(docs)
            except BaseException:
                self.portmap.release(docs)
                self._resync_rules()
                raise
            return self.ports(container_id)

    def unpublish(self, container_id: str) -> None:
        with self._lock:
            try:
                with self.db.write() as tx:
                    gone = store.delete_ports(tx, container_id)
                    if gone:
                        self._apply_rules(tx)
            except BaseException:
                self._resync_rules()
                raise
            self.portmap.release(gone)

    def ports(self, container_id: str) -> dict:
        from .portmap import binding_of, mirror_of
        with self.db.read() as tx:
            docs = store.ports(tx, container_id)
        out = []
        for d in docs:
            out.append(binding_of(d))
            if d.get("V6Proxy"):
                out.append(mirror_of(binding_of(d)))
        return to_api(out)

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

    # --- daemon start and stop ----------------------------------------------------------------

    def restore(self, running: dict | None = None) -> None:
        """Daemon start. ``running`` maps the ids of running containers to their netns paths; the
        endpoints of other containers are removed. Bridges, rules, port reservations and DNS
        listeners are rebuilt; leftover interfaces with Dockyard's names are deleted."""
        running = dict(running or {})
        with self._lock:
            with self.db.write() as tx:
                stale = [ep for ep in store.endpoints(tx) if ep.container_id not in running]
                for ep in stale:
                    store.delete_endpoint(tx, ep.id)
                    try:
                        self.ipam.release(tx, ep.network_id, ep.address)
                    except NotFound:
                        pass
                    store.delete_ports(tx, ep.container_id)
                for ep in store.endpoints(tx):
                    if ep.netns_path != running[ep.container_id]:
                        ep.netns_path = running[ep.container_id]
                        store.put_endpoint(tx, ep)
            with self.db.read() as tx:
                nets = self._bridge_networks(tx)
                pools = {n.id: self.ipam.pool(tx, n.id) for n in nets}
                live = store.endpoints(tx)
                docs = store.ports(tx)
            with netlink.host() as ipr:
                for ep in stale:
                    endpoint.detach(ipr, ep.host_ifname)
                for n in nets:
                    p = pools[n.id]
                    bridge.create(ipr, bridge.BridgeSpec(n.bridge, str(p.gateway), p.prefixlen, n.mtu), adopt=True)
                keep = {ep.host_ifname for ep in live} | {n.bridge for n in nets}
                for name in netlink.link_names(ipr):
                    if name not in keep and (self.naming.is_veth(name) or self.naming.is_bridge(name)):
                        netlink.delete_link(ipr, name)
            if any(not n.internal for n in nets):
                sysctl.ensure_ip_forward()
            with self.db.read() as tx:
                self._apply_rules(tx)
            for d in docs:
                try:
                    self.portmap.hold(d)
                except NetworkError as e:
                    self.warnings.append(f"published port {d['Key']}: {e}")
            self.portmap.start_proxies(docs)
            if self.dns_enabled:
                by_id = {n.id: n for n in nets}
                for cid in sorted({ep.container_id for ep in live if by_id[ep.network_id].user_defined}):
                    try:
                        self._start_dns(cid, running[cid])
                    except NetworkError as e:
                        self.warnings.append(str(e))
        self._reindex()

    def close(self) -> None:
        """Stop listeners, proxies and helpers and close the state; the kernel state stays
        (containers keep running with their network while the daemon is away)."""
        with self._lock:
            if self.closed:
                return
            if self.loop.loop is not None:
                try:
                    self.loop.call(self.dns.close())
                except Exception as e:
                    log.warning("closing the DNS server: %s", e)
            self.portmap.close()
            self.loop.stop()
            self.broker.close()
            self.db.close()
            self.closed = True

    def shutdown(self) -> bool:
        """Daemon stop: with no container connected, remove Dockyard's rules and bridges (True);
        otherwise keep them for the running containers (False). Then ``close()``."""
        with self._lock:
            if self.closed:
                return False
            with self.db.read() as tx:
                busy = bool(store.endpoints(tx))
                nets = self._bridge_networks(tx)
            if not busy:
                self.firewall.remove()
                with netlink.host() as ipr:
                    for n in nets:
                        bridge.delete(ipr, n.bridge)
            self.close()
            return not busy


