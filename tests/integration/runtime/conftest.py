"""Fixtures for running real containers through dockyard-runtime, each test in its own --root,
with everything (processes, cgroups, mounts, state) cleaned up even when the test fails."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from dockyard.runtime.bundle import busybox_rootfs
from dockyard.runtime.defaults import default_spec

RUNTIME = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")

pytestmark = pytest.mark.root


@pytest.fixture(scope="session")
def busybox_root(tmp_path_factory):
    if not os.path.exists("/bin/busybox"):
        pytest.skip("Debian's busybox-static is not installed (/bin/busybox)")
    return busybox_rootfs(str(tmp_path_factory.mktemp("busybox") / "rootfs"))


class RT:
    """Runs dockyard-runtime with a private --root; makes bundles."""

    def __init__(self, root, tmp, rootfs, binary=RUNTIME):
        self.root, self.tmp, self.rootfs, self.binary = root, tmp, rootfs, binary
        self.n = 0

    def __call__(self, *args, check=True, input=None, timeout=30, stdout=None, stderr=None, **kw):
        cmd = [self.binary, "--root", self.root, *args]
        # a detached container keeps the stdio it was given: never hand it our capture pipes
        detached = args and (args[0] == "create" or (args[0] in ("run", "exec") and
                                                      ("-d" in args or "--detach" in args)))
        if detached:
            with tempfile.TemporaryFile("w+") as err:
                p = subprocess.run(cmd, input=input, stdout=stdout or subprocess.DEVNULL, stderr=stderr or err,
                                   stdin=None if input is not None else subprocess.DEVNULL,
                                   timeout=timeout, text=True, **kw)
                err.seek(0)
                p.stderr = err.read() if stderr is None else p.stderr
        else:
            cap = stdout is None and stderr is None
            p = subprocess.run(cmd, input=input, capture_output=cap, stdout=stdout, stderr=stderr,
                               timeout=timeout, text=True, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr}")
        return p

    def spec(self, args, **changes):
        s = default_spec()
        s["process"]["terminal"] = False
        s["process"]["args"] = list(args)
        s["root"] = {"path": self.rootfs, "readonly": False}
        for k, v in changes.items():
            s[k] = v
        return s

    def bundle(self, spec):
        self.n += 1
        b = os.path.join(self.tmp, f"bundle{self.n}")
        os.makedirs(b)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(spec, f)
        return b

    def run(self, args=None, spec=None, cid=None, **kw):
        spec = spec or self.spec(args)
        self.n += 1
        return self("run", "--bundle", self.bundle(spec), cid or f"c{self.n}", check=False, **kw)

    def state(self, cid):
        return json.loads(self("state", cid).stdout)

    def cgroup_dirs(self, cid):
        with open(os.path.join(self.root, cid, "state.json")) as f:
            st = json.load(f)
        return [d for d in cgroup_paths(st["cgroup"]) if d.rstrip("/").endswith("/" + cid)]


def cgroup_paths(state):
    out = []

    def walk(v):
        if isinstance(v, str) and v.startswith("/sys/fs/cgroup/"):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(state)
    return sorted(set(out))


def _mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path)]


@pytest.fixture
def rt(tmp_path, busybox_root):
    root = tmp_path / "state"
    r = RT(str(root), str(tmp_path), busybox_root)
    created_cgroups = []
    r.created_cgroups = created_cgroups
    try:
        yield r
    finally:
        leftovers = []
        if root.exists():
            for cid in os.listdir(root):
                sp = root / cid / "state.json"
                if sp.exists():
                    created_cgroups.extend(cgroup_paths(json.loads(sp.read_text()).get("cgroup", {})))
                subprocess.run([RUNTIME, "--root", str(root), "delete", "--force", cid], capture_output=True)
                leftovers.append(cid)
        for d in sorted(set(created_cgroups), key=len, reverse=True):
            if os.path.isdir(d):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        for m in sorted(_mounts_under(str(tmp_path)), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
