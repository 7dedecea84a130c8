"""docker stats arithmetic and the port listing, from daemon answers."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

from dockyard.cli.fmt_stats import StatsContext

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

SAMPLE = {
    "id": "b6a42b53f367b2967717e30ae77f0187c93d83111e39fa09edda8f2266427501", "name": "/i1",
    "cpu_stats": {"cpu_usage": {"total_usage": 400_000_000, "percpu_usage": [1, 2]}, "system_cpu_usage": 20_000_000_000,
                  "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 300_000_000}, "system_cpu_usage": 19_000_000_000},
    "memory_stats": {"usage": 4 << 20, "limit": 1 << 30, "stats": {"total_inactive_file": 1 << 20}},
    "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 700}, "eth1": {"rx_bytes": 500, "tx_bytes": 0}},
    "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 8192}, {"op": "Write", "value": 4096},
                                                    {"op": "read", "value": 8192}]},
    "pids_stats": {"current": 3},
}


def test_stats_numbers():
    s = StatsContext("i1", SAMPLE)
    # cpu: 100ms of 1s of system time on 2 CPUs = 20%; memory: 3MiB without the inactive file cache
    assert (s.ID(), s.Name(), s.CPUPerc(), s.MemUsage(), s.MemPerc(), s.NetIO(), s.BlockIO(), s.PIDs()) == \
        ("b6a42b53f367", "i1", "20.00%", "3MiB / 1GiB", "0.29%", "2kB / 700B", "16.4kB / 4.1kB", "3")
    assert StatsContext("x", {}, invalid=True).CPUPerc() == "--"
    assert StatsContext("x", {"memory_stats": {"usage": 10, "stats": {"inactive_file": 20}}}).MemUsage() == "10B / 0B"


def _fake_daemon(path: str, answers: dict):
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            f = c.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    break
                while f.readline() not in (b"\r\n", b""):
                    pass
                target = line.split()[1].decode()
                body = json.dumps(answers.get(target.split("?")[0].split("/", 2)[-1], {})).encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            c.close()
    threading.Thread(target=loop, daemon=True).start()
    return srv


def test_port_listing(tmp_path):
    ports = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
             "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}], "9000/tcp": None}
    srv = _fake_daemon(str(tmp_path / "d.sock"), {"containers/web/json": {"NetworkSettings": {"Ports": ports}}})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
    env.update({"PYTHONPATH": REPO, "DOCKYARD_HOST": f"unix://{tmp_path}/d.sock"})
    run = lambda *a: subprocess.run([sys.executable, "-m", "dockyard.cli.main", "port", "web", *a],
                                    capture_output=True, text=True, env=env, timeout=30)
    try:
        r = run()
        assert (r.returncode, r.stdout) == (0, "53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n")
        r = run("80")
        assert (r.returncode, r.stdout) == (0, "0.0.0.0:8080\n[::]:8080\n")
        r = run("53/udp")
        assert r.stdout == "127.0.0.1:5353\n"
        r = run("9000")
        assert (r.returncode, r.stderr) == (1, "Error: No public port '9000' published for web\n")
        r = run("x")
        assert r.returncode == 1 and r.stderr.startswith("Error: invalid port (x)")
    finally:
        srv.close()
