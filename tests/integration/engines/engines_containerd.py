"""A private containerd 1.6 (own root, state, sockets, opt dir; no CRI) and `ctr` against it.

Containers run with the io.containerd.runc.v2 shim; the runtime under test is handed over with
``--runc-binary`` (runc itself when none is given) and keeps its state in ``--runc-root`` under the
temporary directory. ``ctr`` makes its IO FIFOs in ``--fifo-dir`` there as well. Every container gets
``--cgroup /<session name>/<id>`` so its cgroups can be found and removed whatever happens.

The shim's own socket is always /run/containerd/s/<sha256(address/namespace/id)> (a fixed place in
containerd 1.6); teardown removes the ones of our containers and the directories if it made them.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time

from engines_cleanup import kill_and_wait, leftovers, procs_mentioning, remove_cgroup_trees, unmount_under

CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")
SHIM = shutil.which("containerd-shim-runc-v2")
NAMESPACE = "default"
SHIM_SOCKET_DIR = "/run/containerd/s"

_CONFIG = """\
version = 2
root = "{base}/root"
state = "{base}/state"
temp = "{base}/tmp"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "{base}/c.sock"

[ttrpc]
  address = "{base}/c.sock.ttrpc"

[debug]
  address = ""
  level = "debug"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


class Containerd:
    def __init__(self, base: str, runtime_binary: str | None, cgroup_parent: str):
        """``runtime_binary`` None: the shim's default (runc)."""
        self.base = base
        self.runtime_binary = runtime_binary
        self.cgroup_parent = cgroup_parent
        self.address = os.path.join(base, "c.sock")
        self.rt_root = os.path.join(base, "rt")
        self.fifo_dir = os.path.join(base, "fifo")
        self.log_path = os.path.join(base, "containerd.log")
        for d in ("tmp", "opt", "rt", "fifo"):
            os.makedirs(os.path.join(base, d), exist_ok=True)
        self.config = os.path.join(base, "config.toml")
        with open(self.config, "w") as f:
            f.write(_CONFIG.format(base=base))
        self._made_run_dirs = [d for d in ("/run/containerd", SHIM_SOCKET_DIR) if not os.path.exists(d)]
        self.ids: set[str] = set()
        self.proc = None

    # ---- daemon --------------------------------------------------------
    def start(self, timeout: float = 15) -> None:
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([CONTAINERD, "--config", self.config], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited {self.proc.returncode} at start: {self.log_tail()}")
            if os.path.exists(self.address) and self.ctr("version", check=False, timeout=5).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"containerd did not answer on {self.address} within {timeout}s: {self.log_tail()}")

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # ---- ctr -----------------------------------------------------------
    def ctr_cmd(self, *args: str) -> list[str]:
        return [CTR, "--address", self.address, "--namespace", NAMESPACE, *args]

    def ctr(self, *args, check: bool = True, timeout: float = 60, **kw):
        cmd = self.ctr_cmd(*args)
        if "stdin" not in kw and "input" not in kw:
            kw["stdin"] = subprocess.DEVNULL
        if "stdout" not in kw and "stderr" not in kw:
            kw["capture_output"] = True
        p = subprocess.run(cmd, text=True, timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} exited {p.returncode}: {(p.stderr or '').strip()}")
        return p

    def runtime_flags(self) -> list[str]:
        flags = ["--runc-root", self.rt_root]
        if self.runtime_binary:
            flags += ["--runc-binary", self.runtime_binary]
        return flags

    def run_args(self, cid: str, *opts: str) -> list[str]:
        """`ctr run` arguments up to (not including) the image, for container ``cid``."""
        self.ids.add(cid)
        return ["run", "--fifo-dir", self.fifo_dir, "--cgroup", f"/{self.cgroup_parent}/{cid}",
                *self.runtime_flags(), *opts]

    def exec_args(self, cid: str, exec_id: str, *opts: str) -> list[str]:
        return ["task", "exec", "--fifo-dir", self.fifo_dir, "--exec-id", exec_id, *opts, cid]

    def task_status(self, cid: str) -> tuple[int, str] | None:
        for line in self.ctr("task", "ls").stdout.splitlines()[1:]:
            parts = line.split()
            if parts and parts[0] == cid:
                return int(parts[1]), parts[2]
        return None

    def wait_status(self, cid: str, want: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (st := self.task_status(cid)) is None or st[1] != want:
            if time.monotonic() > deadline:
                raise AssertionError(f"task {cid} is {st and st[1]}, not {want}, after {timeout}s")
            time.sleep(0.05)

    def runtime_state_dir(self) -> str:
        return os.path.join(self.rt_root, NAMESPACE)

    def shim_sockets(self) -> list[str]:
        """The shim sockets of our containers that exist (containerd 1.6: sha256 of address/ns/id)."""
        found = []
        for cid in sorted(self.ids):
            key = hashlib.sha256(os.path.join(self.address, NAMESPACE, cid).encode()).hexdigest()
            found += [p for p in (os.path.join(SHIM_SOCKET_DIR, key), os.path.join(SHIM_SOCKET_DIR, key) + ".sock")
                      if os.path.lexists(p)]
        return found

    # ---- teardown ------------------------------------------------------
    def close(self) -> list[str]:
        """Kill and delete our tasks and containers, stop containerd and stray shims, unmount,
        remove cgroups, shim sockets and files; returns what is left (empty when clean)."""
        if self.proc is not None and self.proc.poll() is None:
            for cid in sorted(self.ids):
                self.ctr("task", "kill", "--all", "--signal", "SIGKILL", cid, check=False, timeout=20)
            for cid in sorted(self.ids):
                self.ctr("task", "delete", "--force", cid, check=False, timeout=20)
                self.ctr("container", "rm", cid, check=False, timeout=20)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        kill_and_wait(procs_mentioning(self.base))  # shims outlive containerd by design
        remove_cgroup_trees(self.cgroup_parent)
        unmount_under(self.base)
        for path in self.shim_sockets():
            os.unlink(path)
        for d in reversed(self._made_run_dirs):
            try:
                os.rmdir(d)
            except OSError:
                pass  # not empty: someone else's shims live there now
        left = leftovers(self.base, self.cgroup_parent)
        if not left:
            shutil.rmtree(self.base, ignore_errors=True)
        return left
