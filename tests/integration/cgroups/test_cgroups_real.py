"""The cgroup managers on this machine's real hierarchies (needs root)."""
import json
import os
import subprocess
import sys
import time

import pytest

from dockyard.cgroups import CgroupError, load, open_manager
from dockyard.spec.runtime import parse_resources

pytestmark = pytest.mark.root

COUNTER = ("import sys, time\nsys.stdin.read(1)\nn = 0\n"
           "while True:\n    n += 1\n    print(n, flush=True)\n    time.sleep(0.005)\n")


def proc_state(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(ln.split()[1] for ln in f if ln.startswith("State:"))


def test_created_below_own_cgroup_with_cpuset_copied(v1, top):
    own = {h.name: h.own_dir for h in v1.hierarchies}
    for h in v1.hierarchies:
        assert v1.dir_of(h) == os.path.join(own[h.name], top, "ctr") and os.path.isdir(v1.dir_of(h))
    cs = v1.path("cpuset")
    parent = os.path.dirname(os.path.dirname(cs))
    for f in ("cpuset.cpus", "cpuset.mems"):
        assert open(os.path.join(cs, f)).read().strip() == open(os.path.join(parent, f)).read().strip() != ""


def _first_block_device():
    with open("/proc/partitions") as f:
        for line in f.readlines()[2:]:
            major, minor, _, name = line.split()
            if not name.startswith(("loop", "ram")):
                return int(major), int(minor)
    pytest.skip("no block device")


def test_apply_reads_back_on_the_real_kernel(v1):
    major, minor = _first_block_device()
    v1.apply(parse_resources({
        "memory": {"limit": 64 << 20, "swap": 96 << 20, "reservation": 32 << 20, "swappiness": 10,
                   "disableOOMKiller": False},
        "cpu": {"shares": 512, "quota": 20000, "period": 50000, "burst": 1000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 42},
        "blockIO": {"weight": 300, "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}]},
    }))

    def rd(ctrl, f):
        return open(os.path.join(v1.path(ctrl), f)).read().strip()
    assert rd("memory", "memory.limit_in_bytes") == str(64 << 20)
    assert rd("memory", "memory.memsw.limit_in_bytes") == str(96 << 20)
    assert rd("memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert rd("memory", "memory.swappiness") == "10"
    assert rd("cpu", "cpu.shares") == "512"
    assert (rd("cpu", "cpu.cfs_quota_us"), rd("cpu", "cpu.cfs_period_us")) == ("20000", "50000")
    assert rd("cpuset", "cpuset.cpus") == "0" and rd("pids", "pids.max") == "42"
    assert rd("blkio", "blkio.throttle.read_bps_device") == f"{major}:{minor} 1048576"
    # lowering both limits again: the limit has to go first
    v1.apply(parse_resources({"memory": {"limit": 16 << 20, "swap": 16 << 20}}))
    assert (rd("memory", "memory.limit_in_bytes"), rd("memory", "memory.memsw.limit_in_bytes")) == \
        (str(16 << 20), str(16 << 20))
    v1.apply(parse_resources({"memory": {"limit": -1}, "pids": {"limit": -1}}))
    assert int(rd("memory", "memory.limit_in_bytes")) > 1 << 62 and rd("pids", "pids.max") == "max"


def test_memory_limit_oom_kills(v1, procs):
    v1.apply(parse_resources({"memory": {"limit": 32 << 20, "swap": 32 << 20}}))
    assert open(os.path.join(v1.path("memory"), "memory.limit_in_bytes")).read().strip() == str(32 << 20)
    p = procs.start("import sys\nsys.stdin.read(1)\nx = b'x' * (256 << 20)\nprint('survived')")
    v1.add_pid(p.pid)
    procs.go(p)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == -9 and b"survived" not in out
    assert v1.oom_kill_count() >= 1
    st = v1.stats()["memory"]
    assert st["limit"] == 32 << 20 and 16 << 20 < st["max_usage"] <= 32 << 20


def test_pids_limit_stops_forks(v1, procs):
    v1.apply(parse_resources({"pids": {"limit": 5}}))
    p = procs.start("import os, sys, time\nsys.stdin.read(1)\nkids, failed = [], 0\n"
                    "for i in range(10):\n"
                    "    try:\n        pid = os.fork()\n    except OSError:\n        failed += 1\n        continue\n"
                    "    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
                    "    kids.append(pid)\n"
                    "print(len(kids), failed, flush=True)\n"
                    "for k in kids:\n    os.kill(k, 9)\n    os.waitpid(k, 0)\n")
    v1.add_pid(p.pid)
    procs.go(p)
    out, err = p.communicate(timeout=30)
    assert out.split() == [b"4", b"6"], err
    assert v1.stats()["pids"]["limit"] == 5


def test_freeze_and_thaw(v1, procs):
    p = procs.start(COUNTER)
    v1.add_pid(p.pid)
    assert v1.pids() == [p.pid]
    procs.go(p)
    p.stdout.readline()
    v1.freeze()
    assert v1.frozen() and proc_state(p.pid) == "D"
    os.set_blocking(p.stdout.fileno(), False)
    p.stdout.read()  # drain what was printed before the freeze
    time.sleep(0.2)
    assert p.stdout.read() is None  # nothing new while frozen
    v1.thaw()
    assert not v1.frozen()
    time.sleep(0.2)
    assert p.stdout.read()


def test_devices_rules(v1, procs):
    v1.apply(parse_resources({"devices": [{"allow": False, "access": "rwm"},
                                          {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]}))
    assert open(os.path.join(v1.path("devices"), "devices.list")).read().split("\n")[0] == "c 1:3 rw"
    p = procs.start("import sys\nsys.stdin.read(1)\nopen('/dev/null', 'rb').close()\n"
                    "try:\n    open('/dev/zero', 'rb')\nexcept PermissionError:\n    print('denied')\n")
    v1.add_pid(p.pid)
    procs.go(p)
    out, err = p.communicate(timeout=30)
    assert out.strip() == b"denied", err


def test_kernel_refusal_is_reported(v1):
    # the kernel wants a CFS period of at least 1 ms
    with pytest.raises(CgroupError, match=r"^cgroup cpu: writing '1' to cpu.cfs_period_us: Invalid argument$"):
        v1.apply(parse_resources({"cpu": {"period": 1}}))


def test_state_reloaded_in_another_process(v1, procs):
    p = procs.start(COUNTER)
    v1.add_pid(p.pid)
    state = json.dumps(v1.to_state())
    code = ("import json, sys\nfrom dockyard.cgroups import load\nm = load(json.loads(sys.argv[1]))\n"
            "getattr(m, sys.argv[2])()\nprint(m.frozen(), m.pids())")
    out = subprocess.run([sys.executable, "-c", code, state, "freeze"], capture_output=True, text=True, check=True)
    assert out.stdout.split(None, 1) == ["True", f"[{p.pid}]\n"]
    assert v1.frozen()
    subprocess.run([sys.executable, "-c", code, state, "thaw"], check=True, capture_output=True)
    assert not v1.frozen()
    m2 = load(json.loads(state))
    assert m2.created == v1.created


def test_destroy_keeps_preexisting_parent(top, procs):
    pre = open_manager(f"/{top}", "unused")
    pre.create()  # stands for a cgroup someone else made
    m = open_manager(f"/{top}/ctr", "unused")
    try:
        m.create()
        assert all(d.endswith("/ctr") for d in m.created)
        p = procs.start("import sys\nsys.stdin.read(1)")
        m.add_pid(p.pid)
        procs.kill_all()
        m.destroy()
        for h in m.hierarchies:
            assert not os.path.exists(m.dir_of(h)) and os.path.isdir(os.path.dirname(m.dir_of(h)))
    finally:
        procs.kill_all()
        m.destroy()
        pre.destroy()
    for h in pre.hierarchies:
        assert not os.path.exists(pre.dir_of(h))


def test_v2_freeze_and_device_filter(v2, procs):
    """On the hybrid host's cgroup2 mount: no controllers, but the v2 freezer
    and the eBPF device filter work there."""
    v2.apply(parse_resources({"devices": [{"allow": False, "access": "rwm"},
                                          {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                                          {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "r"}]}))
    from dockyard.cgroups.bpf import attached_programs
    assert len(attached_programs(v2.dir)) == 1
    v2.apply(parse_resources({"devices": [{"allow": True, "type": "c", "major": 1, "minor": 3}]}))
    assert len(attached_programs(v2.dir)) == 1  # replaced, not stacked
    v2.apply(parse_resources({"devices": [{"allow": False, "access": "rwm"},
                                          {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                                          {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "r"}]}))
    p = procs.start("import sys\nsys.stdin.read(1)\nres = []\n"
                    "for path, mode in (('/dev/null', 'wb'), ('/dev/zero', 'rb'), ('/dev/zero', 'r+b'), "
                    "('/dev/full', 'rb')):\n"
                    "    try:\n        open(path, mode).close()\n        res.append('ok')\n"
                    "    except PermissionError:\n        res.append('denied')\n"
                    "print(*res, flush=True)\nsys.stdin.read(1)\n")
    v2.add_pid(p.pid)
    assert v2.pids() == [p.pid]
    procs.go(p)
    assert p.stdout.readline().split() == [b"ok", b"ok", b"denied", b"denied"]
    v2.freeze()
    assert v2.frozen()
    v2.thaw()
    assert not v2.frozen()
    procs.go(p)
    assert p.wait(timeout=10) == 0
