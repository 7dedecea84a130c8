"""A real dockyardd (python -m dockyard.daemon.main) on a private data root, exec root and unix
socket, seeded with the busybox image; the Docker CLI and a raw HTTP client pointed at it.

Teardown removes every container, stops the daemon, stops its shim (found by its ping answer,
killed by pid) and unmounts whatever is left below the temporary directory."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Daemon:
    def __init__(self, base: str):
        self.base = base
        self.data = os.path.join(base, "data")
        self.exec_root = os.path.join(base, "exec")
        self.sock = os.path.join(base, "api.sock")
        self.log = os.path.join(base, "daemon.log")
        self.proc: subprocess.Popen | None = None
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.sock}", DOCKER_CONFIG=os.path.join(base, "cli"))
        self.env.pop("DOCKER_CONTEXT", None)

    # -- lifecycle --------------------------------------------------------------------------------
    def seed(self) -> None:
        code = ("import sys\nfrom dockyard.daemon.images.service import ImageService\n"
                "from dockyard.images.base import make_busybox\n"
                "s = ImageService(sys.argv[1]); make_busybox(s.store, 'busybox:latest'); s.close()\n")
        subprocess.run([sys.executable, "-c", code, self.data], check=True, cwd=REPO, timeout=60)

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dockyard.daemon.main", "-H", f"unix://{self.sock}", "--data-root", self.data,
                 "--exec-root", self.exec_root, "--pidfile", os.path.join(self.base, "dockyardd.pid")],
                cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockyardd exited: {self.log_tail()}")
            try:
                if self.request("GET", "/_ping")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"dockyardd did not answer: {self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def shim_pid(self) -> int | None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(os.path.join(self.exec_root, "shim.sock"))
            s.sendall(b'{"op": "ping"}\n')
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            return int(json.loads(buf).get("pid") or 0) or None
        except (OSError, ValueError):
            return None
        finally:
            s.close()

    def stop(self) -> None:
        try:
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
        except Exception:
            pass
        shim = self.shim_pid()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if shim:
            try:
                os.kill(shim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for mp in sorted(mountpoints(self.base), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True)

    # -- clients ----------------------------------------------------------------------------------
    def docker(self, *args, input: bytes | None = None, check: bool = True, timeout: float = 60):
        p = subprocess.run(["docker", *args], env=self.env, input=input, capture_output=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({p.returncode}): "
                                 f"{p.stderr.decode(errors='replace')}\n--- daemon log:\n{self.log_tail()}")
        return p

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return UnixHTTPConnection(self.sock, timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers (dict, lower-case keys), body bytes)."""
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()


def mountpoints(under: str) -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == under or mp.startswith(under.rstrip("/") + "/"):
                out.append(mp)
    return out


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root (a real daemon: mounts, namespaces, cgroups)")
    for tool in ("docker", "ps"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not os.path.exists("/bin/busybox"):
        pytest.skip("/bin/busybox is not installed (busybox-static)")
    d = Daemon(str(tmp_path_factory.mktemp("dyarch")))
    try:
        d.seed()
        d.start()
        yield d
    finally:
        d.stop()
        if not mountpoints(d.base):   # never delete through something still mounted
            shutil.rmtree(d.base, ignore_errors=True)
