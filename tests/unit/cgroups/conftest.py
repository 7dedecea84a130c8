"""Fake cgroup trees for the cgroup unit tests (no root needed).

``FakeKernel`` is a CgroupFiles that writes real files in a temporary tree
and behaves like the kernel where the managers depend on it: a new cgroup
directory gets its controllers' control files, cgroup.subtree_control takes
"+ctrl" edits, cgroup.freeze updates cgroup.events. Every write is recorded
as (directory relative to the tree, file, value) so tests can assert the
exact values and their order. ``refuse`` makes the next write to a file
fail with an errno.
"""
import errno as E
import os
import pathlib
import shutil
import tempfile

import pytest

from dockyard.cgroups.files import CgroupFiles
from dockyard.cgroups.manager import CgroupError

UNLIMITED = "9223372036854771712"

V1_FILES = {
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": "", "cpuset.effective_cpus": ""},
    "cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1",
            "cpu.cfs_burst_us": "0", "cpu.idle": "0", "cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0",
            "cpu.stat": "nr_periods 7\nnr_throttled 2\nthrottled_time 5000\n"},
    "cpuacct": {"cpuacct.usage": "123456789", "cpuacct.usage_percpu": "100000000 23456789 \n",
                "cpuacct.stat": "user 5\nsystem 7\n"},
    "memory": {"memory.limit_in_bytes": UNLIMITED, "memory.memsw.limit_in_bytes": UNLIMITED,
               "memory.soft_limit_in_bytes": UNLIMITED, "memory.swappiness": "60",
               "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
               "memory.kmem.limit_in_bytes": UNLIMITED, "memory.kmem.tcp.limit_in_bytes": UNLIMITED,
               "memory.use_hierarchy": "1", "memory.usage_in_bytes": "4096", "memory.max_usage_in_bytes": "8192",
               "memory.failcnt": "3", "memory.stat": "cache 10\nrss 20\ntotal_inactive_file 5\n"},
    "devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm\n"},
    "freezer": {"freezer.state": "THAWED"},
    "blkio": {"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
              "blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
              "blkio.throttle.io_service_bytes_recursive": "254:0 Read 100\n254:0 Write 50\nTotal 150\n",
              "blkio.throttle.io_serviced_recursive": "254:0 Read 3\n254:0 Write 2\nTotal 5\n"},
    "pids": {"pids.max": "max", "pids.current": "0"},
}

V2_FILES = {
    "cpu": {"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "io": {"io.weight": "default 100", "io.max": "", "io.stat": "254:0 rbytes=100 wbytes=50 rios=3 wios=2\n"},
    "memory": {"memory.max": "max", "memory.low": "0", "memory.high": "max", "memory.swap.max": "max", "memory.current": "4096",
               "memory.peak": "8192", "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
               "memory.stat": "anon 20\nfile 10\n"},
    "pids": {"pids.max": "max", "pids.current": "2"},
}
V2_CORE = {"cgroup.procs": "", "cgroup.events": "populated 0\nfrozen 0\n", "cgroup.freeze": "0",
           "cgroup.subtree_control": "", "cgroup.type": "domain",
           "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
                       "nr_periods 4\nnr_throttled 1\nthrottled_usec 7\n"}

V1_MOUNTS = ["cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "blkio", "pids", "name=systemd"]


def _put(path, text):
    with open(path, "w") as f:
        f.write(text)


class FakeKernel(CgroupFiles):
    def __init__(self, root, v1_dirs=None, v2_mount=None, missing=()):
        self.root = str(root)
        self.v1_dirs = v1_dirs or {}  # mount directory -> controllers
        self.v2_mount = v2_mount
        self.missing = set(missing)   # control files this "kernel" lacks
        self.writes = []
        self.refuse = {}              # file -> errno, once
        self.freezing = 0             # v1: times freezer.state reads FREEZING
        self.clamp = {}               # file -> value the "kernel" stores instead

    def rel(self, d):
        return os.path.relpath(d, self.root)

    def of(self, name):
        return [(d, v) for d, f, v in self.writes if f == name]

    def populate(self, d, controllers):
        for c in controllers:
            for f, v in V1_FILES.get(c, {}).items():
                if f not in self.missing:
                    _put(os.path.join(d, f), v)
        for f in ("cgroup.procs", "tasks", "notify_on_release"):
            _put(os.path.join(d, f), "")

    def populate_v2(self, d, parent):
        enabled = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
        _put(os.path.join(d, "cgroup.controllers"), " ".join(enabled))
        for f, v in V2_CORE.items():
            _put(os.path.join(d, f), v)
        for c in enabled:
            for f, v in V2_FILES.get(c, {}).items():
                if f not in self.missing:
                    _put(os.path.join(d, f), v)

    def mkdir(self, path, controller):
        made = super().mkdir(path, controller)
        if made:
            if self.v2_mount and path.startswith(self.v2_mount + "/"):
                self.populate_v2(path, os.path.dirname(path))
            for mount, ctrls in self.v1_dirs.items():
                if path.startswith(mount + "/"):
                    self.populate(path, ctrls)
        return made

    def rmdir(self, path):
        # the kernel removes a cgroup directory with its control files
        if os.path.isdir(path):
            if open(os.path.join(path, "cgroup.procs")).read().split():
                raise OSError(E.EBUSY, os.strerror(E.EBUSY))
            for e in os.scandir(path):
                if e.is_file():
                    os.unlink(e.path)
        super().rmdir(path)

    def write(self, directory, name, value, controller):
        self.writes.append((self.rel(directory), name, value))
        if name in self.refuse:
            err = self.refuse.pop(name)
            raise CgroupError(f"cgroup {controller}: writing '{value}' to {name}: {os.strerror(err)}", err)
        path = os.path.join(directory, name)
        if name == "cgroup.subtree_control" and os.path.exists(path):
            cur = open(path).read().split()
            for tok in value.split():
                if tok[0] == "+" and tok[1:] not in cur:
                    cur.append(tok[1:])
                elif tok[0] == "-" and tok[1:] in cur:
                    cur.remove(tok[1:])
            _put(path, " ".join(cur))
            # children see the change at once: cgroup.controllers and the files
            for e in os.scandir(directory):
                if e.is_dir() and os.path.exists(os.path.join(e.path, "cgroup.controllers")):
                    _put(os.path.join(e.path, "cgroup.controllers"), " ".join(cur))
                    for c in cur:
                        for f, v in V2_FILES.get(c, {}).items():
                            fp = os.path.join(e.path, f)
                            if f not in self.missing and not os.path.exists(fp):
                                _put(fp, v)
            return
        if name == "cgroup.procs" and os.path.exists(path):
            _put(path, open(path).read() + value + "\n")
            return
        super().write(directory, name, value, controller)
        if name in self.clamp:
            _put(path, self.clamp[name])
        if name == "cgroup.freeze":
            _put(os.path.join(directory, "cgroup.events"), f"populated 1\nfrozen {value}\n")

    def read(self, directory, name, controller):
        if name == "freezer.state" and self.freezing > 0:
            self.freezing -= 1
            return "FREEZING\n"
        return super().read(directory, name, controller)


class Host:
    """A fake host: cgroup tree under root/, /proc/self files under proc/."""

    def __init__(self, tmp, kind, missing=(), own_memory="/process_api/abc", v2_own="/user.slice/session-1.scope"):
        self.tmp = tmp
        self.root = str(tmp / "cgroup")
        self.proc = str(tmp / "proc")
        os.makedirs(os.path.join(self.proc, "self"))
        mi, pc = [], []
        n = 30
        v1_dirs = {}
        if kind in ("v1", "hybrid"):
            mi.append(f"{n} 1 0:{n} / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755")
            for i, name in enumerate(V1_MOUNTS):
                n += 1
                ctrls = [] if name.startswith("name=") else name.split(",")
                mp = "systemd" if name == "name=systemd" else name
                mi.append(f"{n} 30 0:{n} / /sys/fs/cgroup/{mp} rw,nosuid shared:{n} - cgroup cgroup rw,{name}")
                own = own_memory if name == "memory" else ("/user.slice" if name == "name=systemd" else "/")
                pc.append(f"{12 - i}:{name}:{own}")
                d = os.path.join(self.root, mp)
                os.makedirs(os.path.join(d, own.strip("/")), exist_ok=True)
                v1_dirs[d] = ctrls
                # every directory from the mount down to our own cgroup is a cgroup
                cur = d
                for part in [""] + [p for p in own.strip("/").split("/") if p]:
                    cur = os.path.join(cur, part) if part else cur
                    FakeKernel(self.root).populate(cur, ctrls)
                if "cpuset" in ctrls:
                    _put(os.path.join(d, "cpuset.cpus"), "0-3")
                    _put(os.path.join(d, "cpuset.mems"), "0")
            if kind == "hybrid":
                n += 1
                mi.append(f"{n} 30 0:{n} / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw")
                os.makedirs(os.path.join(self.root, "unified"))
            pc.append("0::/")
            v2_mount = None
        else:
            mi.append(f"{n} 1 0:{n} / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate")
            pc.append(f"0::{v2_own}")
            own = os.path.join(self.root, v2_own.strip("/"))
            os.makedirs(own)
            cur = self.root
            for part in [""] + v2_own.strip("/").split("/"):
                cur = os.path.join(cur, part) if part else cur
                _put(os.path.join(cur, "cgroup.controllers"), "cpuset cpu io memory pids hugetlb")
                _put(os.path.join(cur, "cgroup.subtree_control"), "memory")
                _put(os.path.join(cur, "cgroup.procs"), "")
            v2_mount = self.root
        mi.insert(0, "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw")
        _put(os.path.join(self.proc, "self", "mountinfo"), "\n".join(mi) + "\n")
        _put(os.path.join(self.proc, "self", "cgroup"), "\n".join(pc) + "\n")
        self.kernel = FakeKernel(self.root, v1_dirs, v2_mount, missing)

    def path(self, *parts):
        return os.path.join(self.root, *parts)


@pytest.fixture
def base(tmp_path):
    """A scratch directory, on tmpfs when there is one: the fake trees hold
    hundreds of small files, and creating files on this machine's ext4 is slow."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        d = tempfile.mkdtemp(prefix="dockyard-cgtest-", dir="/dev/shm")
        try:
            yield pathlib.Path(d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    else:
        yield tmp_path


@pytest.fixture
def v1host(base):
    return Host(base, "hybrid")


@pytest.fixture
def v2host(base):
    return Host(base, "v2")


@pytest.fixture
def make_host(base):
    made = []

    def make(kind, **kw):
        h = Host(base / f"h{len(made)}", kind, **kw)
        made.append(h)
        return h
    return make
