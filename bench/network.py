"""Benchmark: busybox httpd behind a published port on 127.0.0.1 against direct connections to the
container's address — with dockyardd (kernel DNAT) and with Debian's dockerd (its userland proxy,
docker-proxy, the default) side by side in the same run. Loopback and local bridges only.

Two measures with wrk, each bounded in time (``SECONDS`` per measurement) and in connections:
  * new-connection rate: GET of a small file; busybox httpd closes every connection, so each request
    is a new TCP connection (``-c 8``);
  * bulk throughput: GET of a 32 MiB file (``-c 2``).
Each published run is paired with a direct run of the same side right before or after it (the order
alternates by round, so drift and TIME_WAIT build-up hit both alike); medians are printed, with the
median ratio published/direct of the pairs (target: dockyard's published port >= 90% of direct), and
the start time a container's networking costs (``start`` with the default bridge against ``none``).

Usage (root): .venv/bin/python bench/network.py [ROUNDS] [SECONDS]      (defaults: 3 rounds, 2 s)
Needs wrk (Debian package ``wrk``) and dockerd (``docker.io``).
"""
import ipaddress
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

from peers import Dockerd, Dockyardd, busybox_tar

SERVE = ("mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=32 2>/dev/null && echo hello > /www/small && "
         "exec httpd -f -p 80 -h /www")


class BridgedDockerd(Dockerd):
    """dockerd with a bridge of its own (made here, removed after) and its default userland proxy;
    no iptables rules, so the published port is served by docker-proxy alone."""

    def __init__(self):
        super().__init__()
        self.bridge = "dybk" + secrets.token_hex(3)
        self.subnet = self._free_subnet()

    @staticmethod
    def _free_subnet() -> ipaddress.IPv4Network:
        routes = [ipaddress.ip_network(r["dst"], strict=False) for r in
                  json.loads(subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True).stdout)
                  if r.get("dst") not in (None, "default")]
        for third in range(1, 250):
            net = ipaddress.ip_network(f"10.193.{third}.0/24")
            if not any(net.overlaps(r) for r in routes):
                return net
        raise SystemExit("no free 10.193.x.0/24 for dockerd's bridge")

    def start(self):
        gw = f"{self.subnet[1]}/{self.subnet.prefixlen}"
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", gw, "dev", self.bridge], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        exe = shutil.which("dockerd") or "/usr/sbin/dockerd"
        log = open(f"{self.base}/dockerd.log", "w")
        self.proc = subprocess.Popen([exe, "--data-root", f"{self.base}/data", "--exec-root", f"{self.base}/exec",
                                      "--pidfile", f"{self.base}/pid", "-H", self.host, f"--bridge={self.bridge}",
                                      "--iptables=false", "--ip-masq=false", "--ip6tables=false",
                                      "--userland-proxy=true", "--containerd-namespace", self.ns,
                                      "--containerd-plugins-namespace", self.ns + "p"],
                                     stdout=log, stderr=log, start_new_session=True)
        for _ in range(300):
            if subprocess.run(["docker", "version"], env=self.env, capture_output=True).returncode == 0:
                return self
            time.sleep(0.1)
        raise SystemExit(f"dockerd did not start: see {self.base}/dockerd.log")

    def stop(self):
        try:
            super().stop()
        finally:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def wrk(url: str, connections: int, seconds: int) -> tuple[float, float]:
    """(requests/s, bytes/s) of one bounded wrk run."""
    p = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "2s", url],
                       capture_output=True, text=True, timeout=seconds + 30)
    if p.returncode != 0:
        raise SystemExit(f"wrk {url}: {p.stderr or p.stdout}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", p.stdout).group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", p.stdout)
    unit = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]
    return rps, float(m.group(1)) * unit


def _free_port() -> int:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve(docker_env, name: str) -> tuple[str, int]:
    """Start the web container; (its address, the published port on 127.0.0.1)."""
    port = _free_port()
    subprocess.run(["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c",
                    SERVE], env=docker_env, check=True, capture_output=True)
    info = json.loads(subprocess.run(["docker", "inspect", name], env=docker_env, check=True, capture_output=True,
                                     text=True).stdout)[0]
    ip = info["NetworkSettings"]["IPAddress"] or \
        next(iter(info["NetworkSettings"]["Networks"].values()))["IPAddress"]
    for _ in range(100):   # the file is written before httpd starts
        try:
            with urllib.request.urlopen(f"http://{ip}/small", timeout=1) as r:
                r.read()
            return ip, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name}: httpd did not answer on {ip}")


def start_cost(env, rounds: int) -> dict:
    """Median time of ``docker start`` per network mode (the CLI's own time included, alike for both)."""
    out = {}
    for mode in ("none", "bridge"):
        times = []
        for _ in range(rounds):
            cid = subprocess.run(["docker", "create", "--network", mode, "busybox", "sleep", "30"], env=env,
                                 check=True, capture_output=True, text=True).stdout.strip()
            t = time.perf_counter()
            subprocess.run(["docker", "start", cid], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
            subprocess.run(["docker", "rm", "-f", cid], env=env, capture_output=True)
        out[mode] = statistics.median(times)
    return out


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    for tool in ("wrk", "dockerd"):
        if not shutil.which(tool) and not shutil.which("/usr/sbin/" + tool):
            raise SystemExit(f"{tool} is not installed")
    dy, dk = Dockyardd(), BridgedDockerd()
    try:
        dy.start()
        dk.start()
        tar = busybox_tar()
        dy.docker("load", "-i", tar)
        assert subprocess.run(["docker", "load", "-i", tar], env=dk.env, capture_output=True).returncode == 0
        targets = {}
        for side, env in (("dockyard", dy.env), ("docker", dk.env)):
            ip, port = serve(env, "bench-web")
            targets[f"{side} direct"] = f"http://{ip}:80"
            targets[f"{side} published"] = f"http://127.0.0.1:{port}"
        res = {k: {"conn": [], "bulk": []} for k in targets}
        ratios = {side: {"conn": [], "bulk": []} for side in ("dockyard", "docker")}
        for r in range(rounds):
            for side in ratios:   # each published run next to its direct one, in alternating order
                for what, path, conns, idx in (("conn", "/small", 8, 0), ("bulk", "/big", 2, 1)):
                    order = ("direct", "published") if r % 2 == 0 else ("published", "direct")
                    got = {how: wrk(targets[f"{side} {how}"] + path, conns, seconds)[idx] for how in order}
                    for how, v in got.items():
                        res[f"{side} {how}"][what].append(v)
                    ratios[side][what].append(got["published"] / got["direct"])
        med = {k: {m: statistics.median(v) for m, v in r.items()} for k, r in res.items()}
        print(f"{'':22s} {'new conn/s':>12s} {'bulk MB/s':>10s}")
        for key, m in med.items():
            print(f"{key:22s} {m['conn']:12.0f} {m['bulk'] / 1e6:10.1f}")
        print("\npublished / direct (median of paired runs)   new conn   bulk")
        for side, rs in ratios.items():
            print(f"{side:44s} {statistics.median(rs['conn']):8.2f} {statistics.median(rs['bulk']):6.2f}")
        cost = start_cost(dy.env, max(5, rounds * 3))
        print(f"\ndockyard start: --network none {cost['none'] * 1000:.0f} ms, default bridge "
              f"{cost['bridge'] * 1000:.0f} ms (networking adds {(cost['bridge'] - cost['none']) * 1000:.0f} ms)")
        for env in (dy.env, dk.env):
            subprocess.run(["docker", "rm", "-f", "bench-web"], env=env, capture_output=True)
    finally:
        dk.stop()
        try:
            dy.docker("rm", "-f", *dy.docker("ps", "-aq", check=False).stdout.split(), check=False)
            dy.stop_daemon()
        finally:
            dy.cleanup()


if __name__ == "__main__":
    main()
