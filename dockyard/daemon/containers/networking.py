"""The glue between the container lifecycle and the networking service (``dockyard.network``).

The daemon holds one ``Networks`` (``daemon.networks``):

* ``start()`` (daemon start, before containers are reconciled) opens the ``NetworkService`` and
  restores it with the running containers' namespaces; ``close()`` shuts it down (rules and
  bridges go when no container is connected, otherwise they stay for the running containers);
* ``plan_create`` checks a create request's networking and ``record_create`` keeps the plan;
* ``etc_files`` / ``attach`` at start (the container's network namespace exists once the shim has
  created it: ``/proc/<pid>/ns/net`` of the waiting init), ``release`` at exit or removal;
* ``connect_container`` / ``disconnect_container`` for ``network connect|disconnect``;
* ``call`` runs a blocking ``NetworkService`` method on a worker thread (pyroute2's sync API
  refuses to run in the event loop) and turns its errors into API errors.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets

from ..config import ConfigError
from ..http import ApiError
from . import networking_request as nreq
from . import networking_settings as nset

log = logging.getLogger("dockyard.network")


def endpoints_of(doc: dict) -> list[dict]:
    """The container's endpoint plan (records made before networking have none: from the mode)."""
    if "_endpoints" in doc:
        return list(doc["_endpoints"])
    mode = nreq.mode_of(doc["HostConfig"].get("NetworkMode"), doc["Config"].get("NetworkDisabled"))
    if nreq.kind_of(mode) != "network":
        return []
    return [{"Network": mode, "NetworkID": "", "IPv4Address": "", "Aliases": [], "MacAddress": ""}]


def netns_of(pid: int) -> str:
    return f"/proc/{pid}/ns/net"


class Networks:
    def __init__(self, daemon):
        self.d = daemon
        self.service = None
        self.gateway = ""      # the default bridge's address: --add-host NAME:host-gateway

    # ---- daemon lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        from .networking_host import NetworkSetupError, open_service
        running = await self._running()
        try:
            self.service = await asyncio.to_thread(open_service, self.d.cfg, running)
        except NetworkSetupError as e:
            raise ConfigError(f"networking: {e}") from None
        info = await self.call(self.service.inspect, "bridge")
        self.gateway = (info["IPAM"]["Config"] or [{}])[0].get("Gateway", "")

    async def _running(self) -> dict[str, str]:
        try:
            listed = await self.d.shim.list()
        except Exception as e:
            log.error("cannot list the shim's containers: %s", e)
            return {}
        out = {}
        for c in listed:
            pid = c.get("pid") or 0
            if c.get("status") in ("created", "running", "paused") and pid and os.path.exists(netns_of(pid)):
                out[c["id"]] = netns_of(pid)
        return out

    async def close(self) -> None:
        svc, self.service = self.service, None
        if svc is None:
            return
        try:
            cleaned = await asyncio.to_thread(svc.shutdown)
            log.info("networking shut down (%s)", "rules and bridges removed" if cleaned
                     else "kept for the running containers")
        except Exception as e:
            log.error("shutting networking down: %s", e)

    async def call(self, fn, *args, **kw):
        from ...network.errors import NetworkError
        if self.service is None:
            raise ApiError(503, "networking is not available (the daemon is starting or stopping)")
        try:
            return await asyncio.to_thread(fn, *args, **kw)
        except NetworkError as e:
            raise ApiError(e.status, str(e)) from None

    # ---- networks -------------------------------------------------------------------------------
    def find_network(self, ref: str) -> dict:
        """(worker thread) The network's inspect document, plus ``_user_subnet``."""
        from ...network import store
        from ...network.errors import NotFound
        svc = self.service
        try:
            with svc.db.read() as tx:
                net = store.find_network(tx, ref)
            doc = svc.inspect(net.id)
        except NotFound as e:
            raise ApiError(404, str(e)) from None
        doc["_user_subnet"] = net.user_subnet
        return doc

    def _create_locked(self, body: dict) -> dict:
        from .networking_host import host_lock
        with host_lock():   # subnets are chosen among every daemon's bridges
            return self.service.create(body)

    async def create(self, body: dict) -> dict:
        return await self.call(self._create_locked, body)

    # ---- container create -----------------------------------------------------------------------
    async def plan_create(self, req) -> list[dict]:
        """The endpoint plan of a create request (ApiError on bad input)."""
        # an unknown network or container is a bad parameter here: a 404 from create would make
        # the docker CLI try to pull the image
        mode = nreq.mode_of(req.host.network_mode, req.network_disabled)
        if nreq.kind_of(mode) == "container" and mode != "container:":
            try:
                self.d.containers.get(mode[len("container:"):])
            except ApiError as e:
                raise ApiError(400, e.message) from None

        def run():
            return nreq.plan(req, self.find_network, lambda ref: None, self.gateway)
        if self.service is None:
            raise ApiError(503, "networking is not available (the daemon is starting or stopping)")
        try:
            return await asyncio.to_thread(run)
        except ApiError as e:
            if e.status == 404:
                raise ApiError(400, e.message) from None
            raise

    @staticmethod
    def record_create(doc: dict, plan: list[dict]) -> None:
        doc["_endpoints"] = plan
        doc["NetworkSettings"]["Networks"] = nset.planned_networks(plan)

    # ---- container start ------------------------------------------------------------------------
    async def etc_files(self, doc: dict, files: dict) -> dict:
        """resolv.conf of a container whose first network is user-defined: the embedded DNS server."""
        plan = endpoints_of(doc)
        if not plan or "resolv.conf" not in files or self.service is None:
            return files
        net = await asyncio.to_thread(self._resolve, plan[0])
        if net["Name"] == "bridge" or net["Driver"] != "bridge":
            return files
        hc = doc["HostConfig"]
        files = dict(files)
        files["resolv.conf"] = await self.call(self.service.resolv_conf, net["Id"], (), hc.get("DnsSearch") or (),
                                               hc.get("DnsOptions") or ())
        return files

    def _resolve(self, entry: dict) -> dict:
        """A plan entry's network: by id, else by name (a network re-created under the same name)."""
        if entry.get("NetworkID"):
            try:
                return self.find_network(entry["NetworkID"])
            except ApiError:
                pass
        return self.find_network(entry["Network"])

    async def attach(self, doc: dict, pid: int, hostname: str) -> None:
        """Connect a just-created container's namespace to its networks, publish its ports, write
        its /etc/hosts and fill its NetworkSettings (in ``doc``; the caller saves it). All or nothing."""
        mode = nreq.mode_of(doc["HostConfig"].get("NetworkMode"), doc["Config"].get("NetworkDisabled"))
        kind = nreq.kind_of(mode)
        if kind in ("host", "container"):
            return
        if self.service is None:
            raise ApiError(503, "networking is not available (the daemon is starting or stopping)")
        from ...network.errors import NetworkError
        try:
            await asyncio.to_thread(self._attach, doc, pid, hostname, kind)
        except NetworkError as e:
            raise ApiError(e.status, str(e)) from None
        self._events(doc, "connect")

    def _events(self, doc: dict, action: str) -> None:
        """dockerd's ``network connect``/``disconnect`` events of a container's start and stop."""
        for name, ep in (doc["NetworkSettings"].get("Networks") or {}).items():
            if ep.get("EndpointID"):
                self.d.events.emit("network", action, ep.get("NetworkID") or "",
                                   {"container": doc["Id"], "name": name, "type": "bridge"})

    def _attach(self, doc: dict, pid: int, hostname: str, kind: str) -> None:
        cid = doc["Id"]
        netns = netns_of(pid)
        svc = self.service
        if kind == "none":
            _loopback_up(svc, netns)
            nset.set_running(doc["NetworkSettings"], {}, {}, netns, secrets.token_hex(32))
            return
        from ...network.ports import from_api
        hc, cfg = doc["HostConfig"], doc["Config"]
        endpoints: dict[str, dict] = {}
        external = False   # ports are published on a non-internal network (on internal ones not at all, as by dockerd)
        try:
            for entry in endpoints_of(doc):
                net = self._resolve(entry)
                external = external or not net["Internal"]
                endpoints[net["Name"]] = svc.connect(
                    cid, netns, net["Id"], name=doc["Name"].lstrip("/"), ip=entry.get("IPv4Address") or None,
                    mac=entry.get("MacAddress") or None, aliases=entry.get("Aliases") or (),
                    dns=hc.get("Dns") or ())
            if not endpoints:
                _loopback_up(svc, netns)
            reqs = from_api(hc.get("PortBindings"), list((cfg.get("ExposedPorts") or {}).keys()),
                            bool(hc.get("PublishAllPorts")))
            published = svc.publish(cid, reqs) if reqs and external else {}
            self._write_hosts(doc, hostname, endpoints)
        except BaseException:
            try:
                svc.disconnect_all(cid)
            except Exception as e:
                log.error("undoing the network of %s: %s", cid[:12], e)
            raise
        ports = nset.ports_with_exposed(published, (cfg.get("ExposedPorts") or {}).keys())
        nset.set_running(doc["NetworkSettings"], endpoints, ports, netns, secrets.token_hex(32))

    def _write_hosts(self, doc: dict, hostname: str, endpoints: dict) -> None:
        from .specgen_etc import hosts_file
        hc = doc["HostConfig"]
        addresses = [ep["IPAddress"] for ep in endpoints.values() if ep.get("IPAddress")]
        text = hosts_file(hostname or doc["Config"].get("Hostname") or doc["Id"][:12],
                          doc["Config"].get("Domainname") or "", addresses, hc.get("ExtraHosts") or (), self.gateway)
        nset.write_in_place(doc["HostsPath"], text)

    async def release(self, doc: dict) -> None:
        """The container stopped (or goes away): leave every network, unpublish, empty its
        NetworkSettings in ``doc``. Never raises: an exit must be recorded whatever happens."""
        self._events(doc, "disconnect")
        nset.set_stopped(doc["NetworkSettings"])
        if self.service is None or not endpoints_of(doc):
            return
        try:
            await asyncio.to_thread(self.service.disconnect_all, doc["Id"])
        except Exception as e:
            log.error("disconnecting container %s from its networks: %s", doc["Id"][:12], e)

    # ---- network connect / disconnect -----------------------------------------------------------
    def _check_connectable(self, doc: dict) -> None:
        mode = nreq.mode_of(doc["HostConfig"].get("NetworkMode"), doc["Config"].get("NetworkDisabled"))
        kind = nreq.kind_of(mode)
        if kind == "host":
            raise ApiError(403, "container cannot be disconnected from host network or connected to host network")
        if kind == "container":
            raise ApiError(403, "container sharing network namespace with another container or host cannot be "
                                "connected to any other network")
        if kind == "none":
            raise ApiError(403, "container cannot be connected to multiple networks with one of the networks in "
                                "private (none) mode")

    async def connect_container(self, net_ref: str, container_ref: str, ec: dict) -> tuple[dict, dict]:
        """``network connect``: now if the container runs, at its next start otherwise. (network, container)"""
        cs = self.d.containers
        if not isinstance(ec, dict):
            raise ApiError(400, "EndpointConfig must be an object")
        doc = cs.get(container_ref)
        async with cs.lock(doc["Id"]):
            doc = cs.get(doc["Id"])
            net = await self.call(self.find_network, net_ref)
            if net["Driver"] in ("host", "null"):
                raise ApiError(403, f"container cannot be disconnected from host network or connected to "
                                    f"{net['Name']} network")
            self._check_connectable(doc)
            entry = nreq.endpoint_from(net, ec, f"endpoint settings for network {net['Name']}")
            plan = endpoints_of(doc)
            if any(e.get("NetworkID") == net["Id"] or e["Network"] == net["Name"] for e in plan):
                raise ApiError(403, f"endpoint with name {doc['Name'].lstrip('/')} already exists in network "
                                    f"{net['Name']}")
            ns = doc["NetworkSettings"]
            if doc["State"]["Running"] and doc["State"]["Pid"]:
                settings = await self.call(
                    self.service.connect, doc["Id"], netns_of(doc["State"]["Pid"]), net["Id"],
                    name=doc["Name"].lstrip("/"), ip=entry["IPv4Address"] or None, mac=entry["MacAddress"] or None,
                    aliases=entry["Aliases"], dns=doc["HostConfig"].get("Dns") or ())
                ns.setdefault("Networks", {})[net["Name"]] = settings
                await asyncio.to_thread(self._write_hosts, doc, doc["Config"].get("Hostname") or "",
                                        ns["Networks"])
            else:
                ns.setdefault("Networks", {})[net["Name"]] = nset.planned_endpoint(entry)
            doc["_endpoints"] = plan + [entry]
            cs.save(doc)
        return net, doc

    async def disconnect_container(self, net_ref: str, container_ref: str, force: bool) -> tuple[dict, dict]:
        cs = self.d.containers
        doc = cs.get(container_ref)
        async with cs.lock(doc["Id"]):
            doc = cs.get(doc["Id"])
            net = await self.call(self.find_network, net_ref)
            if net["Driver"] in ("host", "null"):
                raise ApiError(403, f"container cannot be disconnected from host network or connected to "
                                    f"{net['Name']} network")
            plan = endpoints_of(doc)
            keep = [e for e in plan if e.get("NetworkID") != net["Id"] and e["Network"] != net["Name"]]
            if len(keep) == len(plan) and not force:
                raise ApiError(404, f"container {doc['Id'][:12]} is not connected to network {net['Name']}")
            ns = doc["NetworkSettings"]
            if doc["State"]["Running"] and doc["State"]["Pid"]:
                await self.call(self.service.disconnect, doc["Id"], net["Id"], force)
                (ns.get("Networks") or {}).pop(net["Name"], None)
                if net["Name"] == "bridge":
                    nset.set_running(ns, ns.get("Networks") or {}, ns.get("Ports") or {}, ns.get("SandboxKey", ""),
                                     ns.get("SandboxID", ""))
                await asyncio.to_thread(self._write_hosts, doc, doc["Config"].get("Hostname") or "",
                                        ns.get("Networks") or {})
            else:
                (ns.get("Networks") or {}).pop(net["Name"], None)
            doc["_endpoints"] = keep
            cs.save(doc)
        return net, doc


def _loopback_up(svc, netns: str) -> None:
    """A namespace with no network: only its loopback device, up (as Docker leaves it)."""
    from ...network import netlink
    from ...network.endpoint import LO_INDEX
    with netlink.in_netns(svc.broker, netns) as ipr:
        ipr.link("set", index=LO_INDEX, state="up")
