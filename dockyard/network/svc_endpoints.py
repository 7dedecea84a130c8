"""``NetworkService`` endpoints: connect and disconnect containers (veth, address, routes, DNS)."""
from __future__ import annotations

import ipaddress
import logging
import os
import socket

from . import apishape, endpoint, netlink, store
from . import model as m
from .dns import LISTEN
from .errors import Forbidden, InvalidParameter, NetworkError, NotFound
from .names import check_dns_name, check_mac, mac_for, new_id
from .nftrules import render_dns, render_dns_delete

log = logging.getLogger(__name__)


class EndpointsMixin:
    """Part of ``NetworkService`` (its state: db, ipam, broker, dns, loop, portmap)."""

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
        _check_foreign_netns(netns_path)
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
            self._rules_touched = False
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


def _check_foreign_netns(path: str) -> None:
    """A container's namespace, not the daemon's own (eth0 and a default route would go to the host)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise NotFound(f"network namespace {path}: {e.strerror}") from None
    own = os.stat("/proc/self/ns/net")
    if (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino):
        raise InvalidParameter(f"network namespace {path} is the host's own")

