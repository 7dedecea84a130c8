"""Helpers for the daemon networking tests: both CLIs, raw API calls, the kernel objects a daemon
owns, the host's own address, HTTP and UDP probes (loopback and this host's addresses only)."""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time

from dockyard.daemon.containers.networking_host import kernel_names

VENV_BIN = os.path.dirname(sys.executable)
DOCKYARD = os.path.join(VENV_BIN, "dockyard")
CLIS = ("docker", "dockyard")


def uniq(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def cli(d, which: str, *args, check=True, timeout=60) -> subprocess.CompletedProcess:
    exe = "docker" if which == "docker" else DOCKYARD
    p = subprocess.run([exe, *args], env=d.env, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"{which} {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\n"
                             f"stderr: {p.stderr}\n--- daemon log ---\n{d.log()[-3000:]}")
    return p


def inspect(d, name: str) -> dict:
    return json.loads(d.docker("inspect", name).stdout)[0]


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def api(d, method: str, path: str, body=None) -> tuple[int, object]:
    """One Engine API call (independent of both CLIs): (status, decoded JSON body or None)."""
    c = _Unix(d.sock)
    try:
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, "/v1.41" + path, body=data, headers={"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw.strip() else None)
    finally:
        c.close()


def wait_for(pred, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return False


# ---- the kernel objects of one daemon --------------------------------------------------------------

def _sh(*args) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def owned(d) -> dict:
    """The links and nftables tables this daemon's names cover, and the named network namespaces."""
    naming, tables = kernel_names(d.data_root)
    links = sorted(link["ifname"] for link in json.loads(_sh("ip", "-j", "link"))
                   if link["ifname"] == naming.default_bridge or naming.is_bridge(link["ifname"])
                   or naming.is_veth(link["ifname"]))
    have = _sh("nft", "list", "tables").split()
    return {"links": links, "tables": sorted(t for t in (tables.filter, tables.nat) if t in have),
            "netns": sorted(_sh("ip", "netns", "list").split())}


def bridge_of(d, network: str) -> str:
    """The bridge device of a network of this daemon (from its id and the daemon's naming)."""
    naming, _ = kernel_names(d.data_root)
    info = json.loads(d.docker("network", "inspect", network).stdout)[0]
    if info["Name"] == "bridge":
        return naming.default_bridge
    return info["Options"].get("com.docker.network.bridge.name") or naming.bridge(info["Id"])


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


# ---- this host --------------------------------------------------------------------------------------

def host_ipv4() -> str | None:
    """An IPv4 address of this machine: the default-route interface's (connecting to it from here
    never leaves the host)."""
    routes = json.loads(_sh("ip", "-j", "-4", "route", "show", "default"))
    if not routes or "dev" not in routes[0]:
        return None
    for a in json.loads(_sh("ip", "-j", "-4", "addr", "show", "dev", routes[0]["dev"])):
        for info in a.get("addr_info", []):
            if info.get("family") == "inet":
                return info["local"]
    return None


def free_port(proto: str = "tcp", count: int = 1) -> int:
    """The first of ``count`` consecutive ports free for TCP and UDP on every address."""
    for _ in range(200):
        base = secrets.choice(range(20000, 30000))
        socks = []
        try:
            for p in range(base, base + count):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind(("0.0.0.0", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


def http_get(host: str, port: int, path: str = "/hostname", timeout: float = 3.0) -> str:
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.read().decode().strip()
    finally:
        c.close()


def udp_ask(host: str, port: int, payload: bytes = b"ping", timeout: float = 3.0) -> bytes:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, (host, port))
        return s.recvfrom(2048)[0]
    finally:
        s.close()


UDP_ECHO = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',int(sys.argv[1])))\n"
            "print('ready',flush=True)\n"
            "while True:\n"
            "    data,peer=s.recvfrom(2048); s.sendto(b'echo:'+data,peer)\n")


def udp_echo_in(pid: int, port: int) -> subprocess.Popen:
    """A UDP echo server inside a container's network namespace (busybox has no UDP server)."""
    p = subprocess.Popen(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-I", "-S", "-c", UDP_ECHO,
                          str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def links_named(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [link["ifname"] for link in json.loads(_sh("ip", "-j", "link")) if rx.search(link["ifname"])]


def _foreign(data_root: str):
    """Names and tables of the other dockyard daemons on this host (they come and go meanwhile)."""
    from dockyard.daemon.containers import networking_host as nh
    from dockyard.network.names import Naming
    mine = os.path.realpath(data_root)
    namings, tables = [], set()
    try:
        entries = os.listdir(nh.REGISTRY_DIR)
    except FileNotFoundError:
        entries = []
    for e in entries:
        try:
            with open(os.path.join(nh.REGISTRY_DIR, e)) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        if doc.get("data_root") == mine:
            continue
        namings.append(Naming(doc["default_bridge"], doc["bridge_prefix"], doc["veth_prefix"]))
        tables.update(doc["tables"])
    return namings, tables


def host_snapshot(d) -> dict:
    """``ip link``, ``ip netns`` and the nftables ruleset, less what other dockyard daemons own."""
    namings, foreign_tables = _foreign(d.data_root)

    def foreign(name):
        return any(name == n.default_bridge or n.is_bridge(name) or n.is_veth(name) for n in namings)
    links = sorted(link["ifname"] for link in json.loads(_sh("ip", "-j", "link")) if not foreign(link["ifname"]))
    tables = {}
    for line in _sh("nft", "list", "tables").splitlines():
        _, family, name = line.split()
        if name not in foreign_tables:
            tables[f"{family} {name}"] = subprocess.run(["nft", "list", "table", family, name], capture_output=True,
                                                        text=True).stdout
    return {"links": links, "netns": sorted(_sh("ip", "netns", "list").split()), "nft": tables}


FAKE_DNS = ("import socket,struct,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],53))\n"
            "ip=bytes(int(x) for x in sys.argv[2].split('.'))\n"
            "print('ready',flush=True)\n"
            "while True:\n"
            "    q,peer=s.recvfrom(512)\n"
            "    end=q.index(b'\\0',12)+5; qtype=struct.unpack('>H',q[end-4:end-2])[0]\n"
            "    ans=b'\\xc0\\x0c'+struct.pack('>HHIH',1,1,60,4)+ip if qtype==1 else b''\n"
            "    s.sendto(q[:2]+b'\\x81\\x80'+q[4:6]+struct.pack('>HHH',1 if ans else 0,0,0)+q[12:end]+ans,peer)\n")


def fake_dns(listen: str, answer: str):
    """A DNS server on the host answering every A query with ``answer``."""
    p = subprocess.Popen([sys.executable, "-I", "-S", "-c", FAKE_DNS, listen, answer], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p
