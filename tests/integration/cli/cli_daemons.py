"""Daemons the CLI tests run against: a private dockerd today (dockyardd will join).

``Dockerd.start(base)`` runs ``/usr/sbin/dockerd`` with its own data root, exec root, pidfile,
socket, containerd namespace and no networking set-up, waits for ``/_ping``, and ``stop()``
removes every container, stops the daemon (and what it spawned), unmounts anything left under
its directories and deletes them — reporting what it could not clean.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

DOCKERD = next((p for p in (shutil.which("dockerd"), "/usr/sbin/dockerd") if p and os.path.exists(p)), "")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def api(sock: str, method: str, path: str, body=None, headers=None, timeout: float = 60):
    """One request to the daemon (the fixtures' own client, independent of the code under test)."""
    c = UnixHTTP(sock, timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, data
    finally:
        c.close()


class Dockerd:
    name = "dockerd"

    def __init__(self, base: str, tag: str):
        self.base = base
        self.sock = os.path.join(base, "d.sock")
        self.data = os.path.join(base, "data")
        self.exec_root = os.path.join(base, "exec")
        self.log_path = os.path.join(base, "dockerd.log")
        self.tag = tag
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.sock}"

    def log_tail(self, n: int = 3000) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def start(self, timeout: float = 60) -> None:
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [DOCKERD, "--data-root", self.data, "--exec-root", self.exec_root,
             "--pidfile", os.path.join(self.base, "dockerd.pid"), "-H", self.host,
             "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip-forward=false",
             "--storage-driver=overlay2", "--containerd-namespace", self.tag,
             "--containerd-plugins-namespace", self.tag + "p", "--userland-proxy=false"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                status, _ = api(self.sock, "GET", "/_ping", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"dockerd did not answer /_ping in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def remove_all_containers(self) -> None:
        status, data = api(self.sock, "GET", "/containers/json?all=1")
        if status != 200:
            return
        for c in json.loads(data):
            api(self.sock, "DELETE", f"/containers/{c['Id']}?force=1&v=1")

    def stop(self) -> list[str]:
        """Stop and clean up; returns what was left behind (empty when all is clean)."""
        left: list[str] = []
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.remove_all_containers()
            except OSError as e:
                left.append(f"could not list/remove containers: {e}")
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                left.append("dockerd ignored SIGTERM for 30s: killed")
                self.proc.kill()
                self.proc.wait(10)
        left += kill_leftovers(self.tag, self.base)
        left += unmount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)
        if os.path.exists(self.base):
            left.append(f"could not remove {self.base}")
        return left


def kill_leftovers(tag: str, base: str) -> list[str]:
    """Processes this daemon started that outlived it (containerd, shims): found by our unique paths."""
    left = []
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if base in cmd or f"-namespace {tag} " in cmd + " ":
            try:
                os.kill(int(pid), signal.SIGKILL)
                left.append(f"killed leftover process {pid}: {cmd[:120]}")
            except ProcessLookupError:
                pass
    return [x for x in left if "containerd-shim" not in x]


def unmount_under(base: str) -> list[str]:
    left = []
    real = os.path.realpath(base)
    for _ in range(3):
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = line.split()[4].replace("\\040", " ")
                if mp == real or mp.startswith(real + "/"):
                    mounts.append(mp)
        if not mounts:
            return left
        for mp in sorted(mounts, key=len, reverse=True):
            r = subprocess.run(["umount", "-l", mp], capture_output=True, text=True)
            if r.returncode != 0:
                left.append(f"umount {mp}: {r.stderr.strip()}")
    return left
