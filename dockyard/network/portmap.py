"""The runtime side of published ports: host-port reservations and the IPv6 userland proxies.

A binding document (a row of the ports table) is::

    {"Key", "Proto", "ContainerPort", "HostIp", "HostPort", "EndpointId", "ContainerIp", "V6Proxy"}

``HostIp`` "" publishes on every IPv4 address (DNAT) and, with ``V6Proxy``, on every IPv6 address
through the proxy; an IPv6 ``HostIp`` is served by the proxy only.
"""
from __future__ import annotations

import logging

from . import proxy
from .errors import NetworkError
from .ports import PortBinding, PortRequest, Reservations

log = logging.getLogger(__name__)


def binding_of(doc: dict) -> PortBinding:
    return PortBinding(doc["Proto"], int(doc["ContainerPort"]), doc["HostIp"], int(doc["HostPort"]))


def mirror_of(b: PortBinding) -> PortBinding:
    return PortBinding(b.proto, b.container_port, "::", b.host_port)


def needs_proxy(doc: dict) -> list[PortBinding]:
    b = binding_of(doc)
    if ":" in b.host_ip:
        return [b]
    return [mirror_of(b)] if doc.get("V6Proxy") else []


class PortMap:
    def __init__(self, loop, ipv6_proxy: bool = True):
        self.loop = loop
        self.ipv6_proxy = ipv6_proxy
        self.res = Reservations()
        self._proxies: dict[str, object] = {}

    def reserve(self, requests: list[PortRequest], endpoint_id: str, container_ip: str) -> list[dict]:
        """Reserve every request or none; the binding documents."""
        docs: list[dict] = []
        try:
            for req in requests:
                b = self.res.reserve(req)
                doc = {"Key": b.key, **b.to_doc(), "EndpointId": endpoint_id, "ContainerIp": container_ip,
                       "V6Proxy": False}
                docs.append(doc)
                if b.host_ip == "" and self.ipv6_proxy:
                    try:
                        self.res.hold(mirror_of(b))
                        doc["V6Proxy"] = True
                    except NetworkError as e:   # IPv6 off, or the port taken there: IPv4 only
                        log.info("no IPv6 proxy for %s: %s", b.key, e)
        except BaseException:
            self.release(docs)
            raise
        return docs

    def hold(self, doc: dict) -> None:
        """Reserve a known binding again (daemon restart)."""
        self.res.hold(binding_of(doc))
        if doc.get("V6Proxy"):
            try:
                self.res.hold(mirror_of(binding_of(doc)))
            except NetworkError as e:
                log.info("no IPv6 proxy for %s: %s", doc["Key"], e)

    def start_proxies(self, docs) -> None:
        for doc in docs:
            for b in needs_proxy(doc):
                sock = self.res.socket_of(b)
                if sock is None or b.key in self._proxies:
                    continue
                self.loop.start()
                self._proxies[b.key] = self.loop.call(
                    proxy.start(b.proto, sock, (doc["ContainerIp"], int(doc["ContainerPort"]))))

    def release(self, docs) -> None:
        for doc in docs:
            b = binding_of(doc)
            for pb in needs_proxy(doc):
                p = self._proxies.pop(pb.key, None)
                if p is not None:
                    self.loop.call(p.close())
                self.res.release(pb)
            self.res.release(b)

    def close(self) -> None:
        for key in list(self._proxies):
            p = self._proxies.pop(key)
            try:
                self.loop.call(p.close())
            except Exception as e:
                log.warning("closing proxy %s: %s", key, e)
        self.res.close()
