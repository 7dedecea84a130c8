"""``NetworkService`` at daemon start and stop: restore from the state, close, shut down."""
from __future__ import annotations

import logging

from . import bridge, endpoint, netlink, store, sysctl
from .errors import NetworkError, NotFound

log = logging.getLogger(__name__)


class LifecycleMixin:
    """Part of ``NetworkService`` (its state: db, ipam, firewall, portmap, dns, loop, broker)."""

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
                for route in self._host_routes(ipr):
                    for n in nets:
                        if pools[n.id].subnet.overlaps(route):
                            self.warnings.append(f"network {n.name} ({pools[n.id].subnet}) overlaps with the "
                                                 f"host route {route}")
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
