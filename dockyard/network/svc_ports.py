"""``NetworkService`` published ports: reservations, DNAT rules, IPv6 proxies."""
from __future__ import annotations

from . import store
from .errors import InvalidParameter
from .nftrules import DnatRule
from .portmap import binding_of, mirror_of
from .ports import PortRequest, to_api


class PortsMixin:
    """Part of ``NetworkService`` (its state: db, firewall, portmap)."""

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
            self._rules_touched = False
            try:
                with self.db.write() as tx:
                    for d in docs:
                        store.put_port(tx, d["Key"], container_id, d)
                    self._rules_touched = True
                    self.firewall.add_dnats(dnat_rules_of(docs))
                    self.portmap.start_proxies(docs)
            except BaseException:
                self.portmap.release(docs)
                self._resync_rules()
                raise
            return self.ports(container_id)

    def unpublish(self, container_id: str) -> None:
        with self._lock:
            self._rules_touched = False
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
        with self.db.read() as tx:
            docs = store.ports(tx, container_id)
        out = []
        for d in docs:
            out.append(binding_of(d))
            if d.get("V6Proxy"):
                out.append(mirror_of(binding_of(d)))
        return to_api(out)


def dnat_rules_of(docs) -> list[DnatRule]:
    """The DNAT rules of port bindings (IPv6 ones are the userland proxy's)."""
    return [DnatRule(d["Proto"], d["HostIp"], int(d["HostPort"]), d["ContainerIp"], int(d["ContainerPort"]))
            for d in docs if ":" not in d["HostIp"]]
