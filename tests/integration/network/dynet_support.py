"""Test environment for the networking integration tests, on the real host's network namespace.

Everything a test creates carries a random 3-hex tag: bridges ``y<tag>b…``, veths ``y<tag>v…``, the
default bridge ``yd<tag>``, nftables tables ``dyt<tag>`` and ``dyt<tag>-nat``, container namespaces
``y<tag>c<N>``, an "outside" namespace ``y<tag>o`` with the veth ``y<tag>o0`` (198.18.<n>.0/30).
Subnets come from a 10.<n>.0.0/16 that no host route overlaps. Teardown removes all of it, and
checks that ``ip -j link``, ``ip netns list`` and ``nft -s list ruleset`` are as before the test.
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
import time

from dockyard.network.names import Naming
from dockyard.network.nftrules import Tables
from dockyard.network.service import NetworkService

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netprobe.py")
PY = [sys.executable, "-I", "-S"]


def sh(*args, check=True, timeout=20, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def snapshot() -> dict:
    return {"links": json.loads(sh("ip", "-j", "link").stdout),
            "netns": sh("ip", "netns", "list").stdout,
            "nft": sh("nft", "-s", "list", "ruleset").stdout}


def _free_octet() -> int:
    routes = [ipaddress.ip_network(r["dst"] if "/" in r["dst"] else r["dst"] + "/32", strict=False)
              for r in json.loads(sh("ip", "-j", "-4", "route", "show", "table", "all").stdout)
              if r.get("dst") not in (None, "default")]
    for _ in range(100):
        n = secrets.choice(range(200, 250))
        net = ipaddress.ip_network(f"10.{n}.0.0/16")
        if not any(net.overlaps(r) for r in routes):
            return n
    raise RuntimeError("no free 10.x.0.0/16 for the tests")


class Netns:
    def __init__(self, name: str):
        self.name = name
        self.path = f"/run/netns/{name}"
        sh("ip", "netns", "add", name)

    def run(self, *cmd, check=False, timeout=20) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.name, *cmd, check=check, timeout=timeout)

    def probe(self, *args, timeout=20) -> subprocess.CompletedProcess:
        return self.run(*PY, PROBE, *args, timeout=timeout)

    def ping(self, host: str, wait: int = 2) -> bool:
        return self.run("busybox", "ping", "-c", "1", "-W", str(wait), host).returncode == 0

    def unreachable(self, host: str, port: int) -> bool:
        """Neither ping nor a TCP connection get through within a second."""
        return not self.ping(host, wait=1) and self.probe("tcp", host, str(port), "1").returncode != 0

    def set_resolv_conf(self, text: str) -> None:
        d = f"/etc/netns/{self.name}"
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write(text)

    def delete(self) -> None:
        shutil.rmtree(f"/etc/netns/{self.name}", ignore_errors=True)
        sh("ip", "netns", "del", self.name, check=False)


class Env:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.tag = secrets.token_hex(2)[:3]
        self.octet = _free_octet()
        self.naming = Naming(default_bridge=f"yd{self.tag}", bridge_prefix=f"y{self.tag}b", veth_prefix=f"y{self.tag}v")
        self.tables = Tables(f"dyt{self.tag}", f"dyt{self.tag}-nat")
        self.upstreams: list = []
        self.services: list[NetworkService] = []
        self.namespaces: list[Netns] = []
        self.servers: list[subprocess.Popen] = []
        self.outside_ns: Netns | None = None
        self.etc_netns_existed = os.path.isdir("/etc/netns")
        self.before = snapshot()

    def subnet(self, n: int) -> str:
        return f"10.{self.octet}.{n}.0/24"

    def service(self, restore=True, running=None, **kw) -> NetworkService:
        kw.setdefault("upstreams", lambda: list(self.upstreams))
        svc = NetworkService(str(self.tmp / "state"), naming=self.naming, tables=self.tables,
                             default_subnet=f"10.{self.octet}.0.0/24",
                             address_pools=((f"10.{self.octet}.128.0/17", 24),), **kw)
        self.services.append(svc)
        if restore:
            svc.restore(running or {})
        return svc

    def container(self) -> Netns:
        ns = Netns(f"y{self.tag}c{len(self.namespaces)}")
        self.namespaces.append(ns)
        return ns

    def outside(self) -> tuple[Netns, str, str]:
        """A namespace standing for the outside world, reached through the host: (ns, host ip, its ip)."""
        if self.outside_ns is None:
            ns = Netns(f"y{self.tag}o")
            self.outside_ns = ns
            host_if = f"y{self.tag}o0"
            sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
            sub = secrets.choice(range(0, 256, 4))
            self.out_host, self.out_ip = f"198.18.{sub}.1", f"198.18.{sub}.2"
            sh("ip", "addr", "add", f"{self.out_host}/30", "dev", host_if)
            sh("ip", "link", "set", host_if, "up")
            ns.run("ip", "addr", "add", f"{self.out_ip}/30", "dev", "eth0", check=True)
            ns.run("ip", "link", "set", "eth0", "up", check=True)
            ns.run("ip", "link", "set", "lo", "up", check=True)
        return self.outside_ns, self.out_host, self.out_ip

    def serve(self, ns: Netns, proto: str, port: int, tag: str = "hello") -> subprocess.Popen:
        p = subprocess.Popen(["ip", "netns", "exec", ns.name, *PY, PROBE, f"serve-{proto}", str(port), tag],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.servers.append(p)
        assert p.stdout.readline().strip() == "ready"
        return p

    # --- teardown --------------------------------------------------------------------------------

    def close(self) -> list[str]:
        """Graceful teardown through the service, then the comparison, then forced cleanup."""
        problems = []
        for p in self.servers:
            p.kill()
            p.wait()
        for svc in self.services:
            try:
                if not svc.closed:
                    with svc.db.read() as tx:
                        cids = {r[0] for r in tx.rows("SELECT container_id FROM endpoints")}
                    for cid in cids:
                        svc.disconnect_all(cid)
                    svc.shutdown()
            except Exception as e:   # closed already, or a bug: reported below through the snapshot
                problems.append(f"teardown: {e!r}")
                try:
                    svc.close()
                except Exception:
                    pass
        for ns in self.namespaces:
            ns.delete()
        if not self.etc_netns_existed:
            try:
                os.rmdir("/etc/netns")      # made by set_resolv_conf; kept if someone else uses it
            except OSError:
                pass
        if self.outside_ns:
            sh("ip", "link", "del", f"y{self.tag}o0", check=False)
            self.outside_ns.delete()
        after = self._settled()
        for key in ("links", "netns", "nft"):
            if after[key] != self.before[key]:
                problems.append(f"{key} differ after teardown:\nbefore: {self.before[key]}\nafter: {after[key]}")
        self._force_cleanup()
        return problems

    def _settled(self) -> dict:
        for _ in range(20):   # namespaces and their veths go away asynchronously
            snap = snapshot()
            if snap == self.before:
                return snap
            time.sleep(0.1)
        return snap

    def _force_cleanup(self) -> None:
        for link in json.loads(sh("ip", "-j", "link").stdout):
            name = link["ifname"]
            if name.startswith(f"y{self.tag}") or name == self.naming.default_bridge:
                sh("ip", "link", "del", name, check=False)
        for t in (self.tables.filter, self.tables.nat):
            sh("nft", "delete", "table", "ip", t, check=False)
