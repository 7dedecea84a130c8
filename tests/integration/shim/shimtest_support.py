"""Helpers for the shim's integration tests: a shim on a private exec root, bundles, readers."""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from dockyard.runtime.bundle import make_bundle
from dockyard.shim.client import ShimClient, answers
from dockyard.shim.frames import read_frame

DOCKYARD_RUNTIME = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")
RUNC = "/usr/sbin/runc"


def run(coro, timeout=60):
    """Run a test's async body with a deadline."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class ShimUnderTest:
    def __init__(self, tmp, rootfs, runtime, long_root=False):
        self.tmp, self.rootfs, self.runtime = tmp, rootfs, runtime
        self.base = tempfile.mkdtemp(prefix="dys-", dir="/tmp")  # short: socket paths
        self.exec_root = self.base
        if long_root:  # as long as the shim's socket allows: console sockets must go elsewhere
            self.exec_root = os.path.join(self.base, "x" * (96 - len(self.base)))
        self.runtime_root = os.path.join(self.exec_root, "runtime")
        self.log = os.path.join(tmp, "shim.log")
        self.client = ShimClient(self.exec_root)
        self.procs: list[subprocess.Popen] = []
        self.n = 0

    # ---- the shim process --------------------------------------------------------
    def start(self):
        p = subprocess.Popen([sys.executable, "-m", "dockyard.shim", "--exec-root", self.exec_root, "--log", self.log],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        self.procs.append(p)
        deadline = time.monotonic() + 15
        while not answers(self.exec_root, timeout=0.5):
            if p.poll() is not None:
                raise AssertionError(f"dockyard-shim exited {p.returncode}: {self.log_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"dockyard-shim did not answer: {self.log_text()[-2000:]}")
            time.sleep(0.02)
        return p

    @property
    def proc(self) -> subprocess.Popen:
        return self.procs[-1]

    def kill(self, sig=signal.SIGKILL):
        p = self.proc
        if p.poll() is None:
            p.send_signal(sig)
            p.wait(10)

    def log_text(self) -> str:
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    # ---- containers ---------------------------------------------------------------
    def cid(self, prefix="shimt") -> str:
        """64 characters, as long as Docker's ids."""
        return f"{prefix}-{uuid.uuid4().hex}{uuid.uuid4().hex}"[:64]

    def bundle(self, args, tty=False, edit=None) -> str:
        self.n += 1
        d = os.path.join(self.tmp, f"bundle{self.n}")
        path = make_bundle(d, args, rootfs=self.rootfs, terminal=tty)
        if edit:
            with open(path) as f:
                spec = json.load(f)
            edit(spec)
            with open(path, "w") as f:
                json.dump(spec, f)
        return d

    def log_path(self, cid) -> str:
        return os.path.join(self.tmp, f"{cid}-json.log")

    async def create(self, cid, args, *, tty=False, stdin=False, edit=None, **kw) -> int:
        kw.setdefault("log_path", self.log_path(cid))
        return await self.client.create(cid, bundle=self.bundle(args, tty, edit), runtime=self.runtime,
                                        runtime_root=self.runtime_root, tty=tty, stdin=stdin, **kw)

    def log_entries(self, cid) -> list[dict]:
        with open(self.log_path(cid)) as f:
            return [json.loads(line) for line in f]

    def check_log(self):
        """The shim logged no internal error (a traceback) during the test."""
        text = self.log_text()
        assert "Traceback" not in text, text[-4000:]

    def cleanup(self):
        if os.path.isdir(self.runtime_root):
            for cid in os.listdir(self.runtime_root):
                subprocess.run([self.runtime, "--root", self.runtime_root, "delete", "--force", cid],
                               capture_output=True, timeout=30)
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)


def make_shim(tmp_path, rootfs, runtime, long_root=False):
    if runtime == RUNC and not os.path.exists(RUNC):
        pytest.skip("runc is not installed")
    s = ShimUnderTest(str(tmp_path), rootfs, runtime, long_root)
    return s


async def read_frames(reader) -> dict:
    """All frames until the shim closes the stream: {1: stdout bytes, 2: stderr bytes}."""
    out = {1: b"", 2: b""}
    while True:
        f = await read_frame(reader)
        if f is None:
            return out
        out[f[0]] += f[1]


async def read_until(reader, needle: bytes, timeout=10) -> bytes:
    """Raw (tty) bytes until ``needle`` has been seen."""
    buf = b""

    async def go():
        nonlocal buf
        while needle not in buf:
            chunk = await reader.read(4096)
            if not chunk:
                raise AssertionError(f"stream ended before {needle!r}; got {buf!r}")
            buf += chunk
        return buf
    return await asyncio.wait_for(go(), timeout)
