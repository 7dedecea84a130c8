"""Starting and stopping a private dockyardd for tests, and leaving nothing behind.

Each daemon gets its own socket, data root, exec root and pid file under a temporary directory, its
own cgroup parent, and a busybox image made offline (the host's busybox-static). ``stop`` kills
every container, the daemon and its shim, unmounts what is left under its roots and removes the
cgroups it made, also when the test failed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

VENV_BIN = os.path.dirname(sys.executable)
DOCKYARDD = os.path.join(VENV_BIN, "dockyardd")
RUNTIME = os.path.join(VENV_BIN, "dockyard-runtime")
_BUSYBOX_TAR: list[str] = []


def busybox_tar() -> str:
    """A docker-archive of the offline busybox image (built once per test session)."""
    if _BUSYBOX_TAR and not os.path.exists(_BUSYBOX_TAR[0]):
        _BUSYBOX_TAR.clear()  # something removed the temporary dir: build it again
    if not _BUSYBOX_TAR:
        from dockyard.images import archive, base
        from dockyard.images.content import ContentStore
        from dockyard.images.store import ImageStore
        d = tempfile.mkdtemp(prefix="dockyard-test-busybox-")
        store = ImageStore(os.path.join(d, "images"), content=ContentStore(os.path.join(d, "content")))
        base.make_busybox(store, tag="busybox:latest")
        path = os.path.join(d, "busybox.tar")
        with open(path, "wb") as f:
            archive.save(store, ["busybox:latest"], f)
        store.close()
        _BUSYBOX_TAR.append(path)
    return _BUSYBOX_TAR[0]


def _mounts_under(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        pts = [line.split()[4] for line in f]
    return [p for p in pts if p == path or p.startswith(path.rstrip("/") + "/")]


def _shim_pid(exec_root: str) -> int:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(os.path.join(exec_root, "shim.sock"))
        s.sendall(b'{"op": "ping"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return int(json.loads(buf).get("pid") or 0)
    except (OSError, ValueError):
        return 0
    finally:
        s.close()


class Dockyardd:
    def __init__(self, base: str | None = None, extra_args=()):
        self.base = base or tempfile.mkdtemp(prefix="dockyard-test-daemon-", dir="/var/tmp")
        os.chmod(self.base, 0o755)
        self.sock = os.path.join(self.base, "d.sock")
        self.data_root = os.path.join(self.base, "data")
        self.exec_root = os.path.join(self.base, "exec")
        self.pidfile = os.path.join(self.base, "d.pid")
        self.logfile = os.path.join(self.base, "daemon.log")
        self.cgroup_parent = "dytest-" + os.path.basename(self.base).rsplit("-", 1)[-1]
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.host = f"unix://{self.sock}"

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env["DOCKYARD_HOST"] = self.host
        env.pop("DOCKER_CONTEXT", None)
        env["DOCKER_CONFIG"] = os.path.join(self.base, "docker-config")
        return env

    def start(self, timeout: float = 20.0) -> "Dockyardd":
        cfg = os.path.join(self.base, "daemon.json")
        if not os.path.exists(cfg):
            with open(cfg, "w") as f:
                json.dump({"cgroup-parent": self.cgroup_parent}, f)
        log = open(self.logfile, "a")
        self.proc = subprocess.Popen([DOCKYARDD, "-H", self.host, "--data-root", self.data_root, "--exec-root",
                                      self.exec_root, "--pidfile", self.pidfile, "--config-file", cfg,
                                      *self.extra_args], stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockyardd exited {self.proc.returncode}:\n{self.log()}")
            if self.ping():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"dockyardd did not answer in {timeout}s:\n{self.log()}")

    def ping(self) -> bool:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(self.sock)
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False
        finally:
            s.close()

    def log(self) -> str:
        try:
            with open(self.logfile) as f:
                return f.read()[-20000:]
        except OSError:
            return ""

    def docker(self, *args, check=True, input=None, timeout=60, **kw) -> subprocess.CompletedProcess:
        p = subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\n"
                                 f"stderr: {p.stderr}\n--- daemon log ---\n{self.log()[-4000:]}")
        return p

    def load_busybox(self) -> None:
        self.docker("load", "-i", busybox_tar())

    def stop_daemon(self, sig=signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self) -> None:
        """Everything this daemon made goes away: containers, shim, mounts, cgroups, networks, files."""
        if self.proc and self.proc.poll() is None and self.ping():
            try:  # through the API first, then a clean stop: the daemon removes its bridges and rules
                ids = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
                if ids:
                    self.docker("rm", "-f", "-v", *ids, check=False, timeout=60)
            except (OSError, subprocess.SubprocessError):
                pass
            self.stop_daemon(signal.SIGTERM, timeout=15)
        self.stop_daemon(signal.SIGKILL)
        runtime_root = os.path.join(self.exec_root, "runtime")
        if os.path.isdir(runtime_root):
            for cid in os.listdir(runtime_root):
                subprocess.run([RUNTIME, "--root", runtime_root, "delete", "--force", cid], capture_output=True)
        pid = _shim_pid(self.exec_root)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for m in sorted(_mounts_under(self.base), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        for ctrl in os.listdir("/sys/fs/cgroup"):
            for dirpath, dirnames, _ in os.walk(f"/sys/fs/cgroup/{ctrl}", topdown=False):
                if self.cgroup_parent in dirpath.split("/"):
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass
        shutil.rmtree(self.base, ignore_errors=True)
        try:  # bridges and nft tables of daemons whose state is gone (this one, if it was killed)
            from dockyard.daemon.containers.networking_host import collect_orphans
            collect_orphans()
        except Exception:
            pass
