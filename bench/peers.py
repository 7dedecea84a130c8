"""Private daemons for benchmarks: Debian's dockerd and our dockyardd, side by side, cleaned up after."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.dirname(HERE))

from dockyardd_support import Dockyardd, busybox_tar  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)
DOCKYARD_CLI = os.path.join(VENV_BIN, "dockyard")


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_of(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


class Dockerd:
    """Debian's dockerd (docker.io) with its own roots and socket; no bridge, no iptables."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="dockyard-bench-dockerd-", dir="/var/tmp")
        self.sock = os.path.join(self.base, "docker.sock")
        self.host = f"unix://{self.sock}"
        self.proc = None
        self.ns = "dybench" + os.path.basename(self.base)[-6:].replace("_", "")

    @property
    def env(self):
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_CONFIG"] = os.path.join(self.base, "cfg")
        return env

    def start(self):
        exe = shutil.which("dockerd") or "/usr/sbin/dockerd"
        if not os.path.exists(exe):
            raise SystemExit("dockerd is not installed (apt-get install docker.io)")
        log = open(os.path.join(self.base, "dockerd.log"), "w")
        self.proc = subprocess.Popen([exe, "--data-root", f"{self.base}/data", "--exec-root", f"{self.base}/exec",
                                      "--pidfile", f"{self.base}/pid", "-H", self.host, "--bridge=none",
                                      "--iptables=false", "--ip-masq=false", "--ip6tables=false",
                                      "--containerd-namespace", self.ns, "--containerd-plugins-namespace",
                                      self.ns + "p"], stdout=log, stderr=log, start_new_session=True)
        for _ in range(300):
            if subprocess.run(["docker", "version"], env=self.env, capture_output=True).returncode == 0:
                return self
            time.sleep(0.1)
        raise SystemExit("dockerd did not start: see " + os.path.join(self.base, "dockerd.log"))

    def docker(self, *args, **kw):
        return subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True, **kw)

    def daemon_pids(self) -> list[int]:
        pids = [self.proc.pid] if self.proc else []
        pids += pids_of(f"containerd --config {self.base}/exec")
        pids += pids_of(f"containerd-shim-runc-v2 -namespace {self.ns} ")
        return pids

    def stop(self):
        try:
            ids = self.docker("ps", "-aq").stdout.split()
            if ids:
                self.docker("rm", "-f", *ids)
        except Exception:
            pass
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for pid in pids_of(self.base):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if self.base in line.split()[4]]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def median_time(cmd, env, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out


__all__ = ["Dockerd", "Dockyardd", "busybox_tar", "rss_kb", "pids_of", "DOCKYARD_CLI", "median_time"]
