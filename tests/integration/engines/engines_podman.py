"""Podman 4.3 isolated from this machine's defaults, driving an OCI runtime under test.

Everything podman keeps lives under one temporary directory: containers.conf and storage.conf of our
own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF), --root/--runroot/--tmpdir,
file locks instead of /dev/shm/libpod_lock, the file events backend, no network (--network none, the
CNI backend with our own --network-config-dir), cgroupfs under a cgroup parent named for the session, ulimits below this
machine's hard limits (podman's defaults are above them).

The runtime is reached through a two-line wrapper named like the runtime (so podman treats it the
same way): it records each argv and adds ``--root`` so the runtime's state stays in the temporary
directory too. A wrapper is needed because podman does not hand ``--runtime-flag`` on to the
``podman container cleanup`` that conmon runs when a container exits: a bare ``--runtime-flag
root=...`` would have that cleanup look for the container in the runtime's default root.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess

from engines_cleanup import kill_and_wait, leftovers, procs_mentioning, remove_cgroup_trees, unmount_under
from engines_image import IMAGE

PODMAN = shutil.which("podman")

_VERBS = {"create", "start", "run", "exec", "kill", "delete", "pause", "resume", "update", "state", "ps",
          "checkpoint", "restore", "features", "list", "events"}

_CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
image_copy_tmp_dir = "{tmp}"

[network]
# rootful netavark keeps its state in a fixed /run/containers/networks; the CNI backend, never asked
# to set a network up (netns none), keeps nothing outside --network-config-dir
network_backend = "cni"
"""

_STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{root}"
runroot = "{runroot}"
"""


class Podman:
    def __init__(self, base: str, runtime_binary: str, cgroup_parent: str):
        self.base = base
        self.runtime_binary = runtime_binary
        self.cgroup_parent = cgroup_parent  # a single path component, unique to the session
        d = {k: os.path.join(base, k) for k in ("root", "run", "tmp", "net", "rt", "bin")}
        if len(d["run"]) > 50:  # podman refuses longer ones (its sockets live there)
            raise ValueError(f"podman test base {base!r} is too long: the runroot must fit in 50 characters")
        for path in d.values():
            os.makedirs(path, exist_ok=True)
        self.root, self.runroot, self.tmp, self.rt_root = d["root"], d["run"], d["tmp"], d["rt"]
        self.argv_log = os.path.join(base, "runtime-argv.log")
        self.wrapper = os.path.join(d["bin"], os.path.basename(runtime_binary))
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"printf '%s\\n' \"$*\" >> {shlex.quote(self.argv_log)}\n"
                    f"exec {shlex.quote(runtime_binary)} --root {shlex.quote(self.rt_root)} \"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        conf = {
            "CONTAINERS_CONF": ("containers.conf", _CONTAINERS_CONF.format(tmp=self.tmp)),
            "CONTAINERS_STORAGE_CONF": ("storage.conf", _STORAGE_CONF.format(root=self.root, runroot=self.runroot)),
            "CONTAINERS_REGISTRIES_CONF": ("registries.conf", ""),
        }
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTAINERS_", "REGISTRY_AUTH"))}
        self.env["TMPDIR"] = self.tmp
        for var, (name, text) in conf.items():
            path = os.path.join(base, name)
            with open(path, "w") as f:
                f.write(text)
            self.env[var] = path
        self.args = [PODMAN, "--root", self.root, "--runroot", self.runroot, "--tmpdir", self.tmp,
                     "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                     "--network-config-dir", d["net"], "--runtime", self.wrapper]

    # ---- running podman ------------------------------------------------
    def __call__(self, *args, check: bool = True, timeout: float = 60, input: str | None = None, **kw):
        cmd = self.args + list(args)
        p = subprocess.run(cmd, env=self.env, input=input, capture_output=True, text=True, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def run_args(self, *more: str) -> list[str]:
        """`podman run` options every test container gets."""
        return ["run", "--network", "none", "--cgroup-parent", "/" + self.cgroup_parent, *more]

    def import_image(self, layer_tar: bytes, name: str = IMAGE) -> None:
        """`podman import` of a rootfs tar. containers/image records blobs in a cache at a fixed host path
        (/var/lib/containers/cache for root); the import runs in a private mount namespace with a tmpfs
        over that place, so the host's cache is not touched."""
        hide = "/var/lib/containers" if os.path.isdir("/var/lib/containers") else "/var/lib"
        script = f"mount -t tmpfs -o size=8m,mode=0700 dyeng-cache {hide} && exec \"$@\""
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
               *self.args, "import", "--quiet", "-", name]
        p = subprocess.run(cmd, env=self.env, input=layer_tar, capture_output=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"podman import exited {p.returncode}: {p.stderr.decode(errors='replace')}")

    def inspect(self, name: str, fmt: str) -> str:
        return self("inspect", "--format", fmt, name).stdout.strip()

    # ---- what the runtime saw -----------------------------------------
    def runtime_calls(self, cid: str) -> list[list[str]]:
        """Each recorded runtime argv that names container ``cid``, from the verb on (podman puts global
        options such as --log-format=json before it for runtimes it knows, e.g. runc)."""
        try:
            with open(self.argv_log) as f:
                lines = [line.split() for line in f]
        except FileNotFoundError:
            return []
        calls = []
        for argv in lines:
            if cid in argv:
                verb = next((i for i, a in enumerate(argv) if a in _VERBS), 0)
                calls.append(argv[verb:])
        return calls

    def runtime_state(self, cid: str) -> dict:
        p = subprocess.run([self.runtime_binary, "--root", self.rt_root, "state", cid],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError(f"runtime state {cid} exited {p.returncode}: {p.stderr.strip()}")
        return json.loads(p.stdout)

    def runtime_ids(self) -> list[str]:
        try:
            return sorted(os.listdir(self.rt_root))
        except FileNotFoundError:
            return []

    # ---- teardown ------------------------------------------------------
    def close(self) -> list[str]:
        """Remove every container, kill what is left, unmount, remove cgroups and files; returns what
        could not be removed (empty when clean)."""
        try:
            self("rm", "--all", "--force", "--time", "0", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            pass
        for cid in self.runtime_ids():
            subprocess.run([self.runtime_binary, "--root", self.rt_root, "delete", "--force", cid],
                           capture_output=True, timeout=30)
        kill_and_wait(procs_mentioning(self.base))
        remove_cgroup_trees(self.cgroup_parent)
        unmount_under(self.base)
        left = leftovers(self.base, self.cgroup_parent)
        if not left:
            shutil.rmtree(self.base, ignore_errors=True)
        return left
