"""cgroup v2 manager against a fake unified tree: controller enabling, exact
writes and conversions, the device filter hand-off, freezing, state."""
import json
import os

import pytest

from dockyard.cgroups import CgroupError, V2Manager, load, open_manager
from dockyard.cgroups.devicefilter import build, encode
from dockyard.cgroups.devices import emulate, validate
from dockyard.cgroups.v2_resources import blkio_to_io_weight, shares_to_weight
from dockyard.spec.runtime import DeviceRule, parse_resources

OWN = ("user.slice", "session-1.scope")


class Filters:
    def __init__(self):
        self.calls = []

    def __call__(self, d, code):
        self.calls.append((d, code))


def mgr(h, path="", cid="c1"):
    m = open_manager(path, cid, root=h.root, proc=h.proc, fs=h.kernel)
    m.device_filter = Filters()
    return m


@pytest.fixture
def m(v2host):
    m = mgr(v2host)
    m.create()
    v2host.kernel.writes.clear()
    return m


def writes_for(h, m, res):
    h.kernel.writes.clear()
    m.apply(parse_resources(res))
    return [(f, v) for _, f, v in h.kernel.writes]


def test_create_enables_offered_controllers_down_to_the_parent(v2host):
    m = mgr(v2host)
    m.create()
    own = "/".join(OWN)
    sc = [(d, v) for d, f, v in v2host.kernel.writes if f == "cgroup.subtree_control"]
    # memory is already on in the own cgroup; hugetlb is not wanted; the leaf is left alone
    assert sc == [(own, "+cpu"), (own, "+cpuset"), (own, "+io"), (own, "+pids"),
                  (own + "/dockyard", "+cpu"), (own + "/dockyard", "+cpuset"), (own + "/dockyard", "+io"),
                  (own + "/dockyard", "+memory"), (own + "/dockyard", "+pids")]
    assert m.created == [v2host.path(*OWN, "dockyard"), v2host.path(*OWN, "dockyard", "c1")]
    assert sorted(open(v2host.path(*OWN, "dockyard", "c1", "cgroup.controllers")).read().split()) == \
        ["cpu", "cpuset", "io", "memory", "pids"]
    assert open(v2host.path(*OWN, "dockyard", "c1", "cgroup.subtree_control")).read() == ""
    assert open(v2host.path("user.slice", "cgroup.subtree_control")).read() == "memory"  # above own: untouched


def test_create_only_asks_for_what_is_offered(v2host):
    open(v2host.path(*OWN, "cgroup.controllers"), "w").write("memory pids")
    m = mgr(v2host)
    m.create()
    assert [v for d, f, v in v2host.kernel.writes if f == "cgroup.subtree_control"] == ["+pids", "+memory", "+pids"]


def test_create_survives_refused_enable(v2host):
    import errno
    v2host.kernel.refuse["cgroup.subtree_control"] = errno.EBUSY
    m = mgr(v2host)
    m.create()  # logged, not fatal: apply names the missing controller later
    assert os.path.isdir(m.dir)


@pytest.mark.parametrize("res,expected", [
    ({"memory": {"limit": 100 << 20, "swap": 300 << 20}}, [("memory.swap.max", str(200 << 20)),
                                                            ("memory.max", str(100 << 20))]),
    ({"memory": {"limit": 100 << 20, "swap": 100 << 20}}, [("memory.swap.max", "0"), ("memory.max", str(100 << 20))]),
    ({"memory": {"limit": 100 << 20, "swap": -1}}, [("memory.swap.max", "max"), ("memory.max", str(100 << 20))]),
    ({"memory": {"limit": -1}}, [("memory.swap.max", "max"), ("memory.max", "max")]),
    ({"memory": {"limit": 1 << 20, "reservation": 512 << 10}},
     [("memory.max", "1048576"), ("memory.low", "524288")]),
    ({"memory": {"swappiness": 10, "kernel": 5, "kernelTCP": 5, "disableOOMKiller": True}}, []),
    ({"cpu": {"shares": 1024}}, [("cpu.weight", "39")]),
    ({"cpu": {"shares": 2}}, [("cpu.weight", "1")]),
    ({"cpu": {"shares": 262144}}, [("cpu.weight", "10000")]),
    ({"cpu": {"quota": 50000, "period": 100000}}, [("cpu.max", "50000 100000")]),
    ({"cpu": {"quota": -1, "period": 100000}}, [("cpu.max", "max 100000")]),
    ({"cpu": {"quota": 50000}}, [("cpu.max", "50000")]),
    ({"cpu": {"quota": 50000, "burst": 1000, "idle": 0}},
     [("cpu.idle", "0"), ("cpu.max.burst", "1000"), ("cpu.max", "50000"), ("cpu.max.burst", "1000")]),
    ({"cpu": {"cpus": "0-1", "mems": "0"}}, [("cpuset.cpus", "0-1"), ("cpuset.mems", "0")]),
    ({"pids": {"limit": 64}}, [("pids.max", "64")]),
    ({"pids": {"limit": -1}}, [("pids.max", "max")]),
    ({"blockIO": {"weight": 500}}, [("io.weight", "4950")]),
    ({"blockIO": {"weight": 10, "weightDevice": [{"major": 8, "minor": 0, "weight": 1000}]}},
     [("io.weight", "1"), ("io.weight", "8:0 10000")]),
    ({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2000}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 0}]}},
     [("io.max", "8:0 rbps=1000"), ("io.max", "8:0 wbps=2000"), ("io.max", "8:0 riops=30"),
      ("io.max", "8:0 wiops=max")]),
    ({"unified": {"memory.high": "5000", "io.max": "8:0 rbps=1\n8:16 wbps=2\n"}},
     [("memory.high", "5000"), ("io.max", "8:0 rbps=1"), ("io.max", "8:16 wbps=2")]),
    # typed settings first, then unified ones (which may override them)
    ({"pids": {"limit": 5}, "unified": {"pids.max": "7"}}, [("pids.max", "5"), ("pids.max", "7")]),
])
def test_apply_writes(v2host, m, res, expected):
    assert writes_for(v2host, m, res) == expected
    assert m.device_filter.calls == []


def test_conversions():
    assert [shares_to_weight(s) for s in (0, 2, 1024, 262144)] == [0, 1, 39, 10000]
    assert [blkio_to_io_weight(w) for w in (0, 10, 500, 1000)] == [0, 1, 4950, 10000]


def test_swap_without_swap_accounting(make_host):
    h = make_host("v2", missing=("memory.swap.max",))
    m = mgr(h)
    m.create()
    assert writes_for(h, m, {"memory": {"limit": -1}}) == [("memory.max", "max")]
    assert writes_for(h, m, {"memory": {"limit": 10, "swap": 10}}) == [("memory.max", "10")]
    with pytest.raises(CgroupError, match="memory.swap.max is not supported"):
        m.apply(parse_resources({"memory": {"limit": 10, "swap": 20}}))


def test_bfq_weight_preferred(v2host, m):
    open(os.path.join(m.dir, "io.bfq.weight"), "w").close()
    assert writes_for(v2host, m, {"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 20}]}}) \
        == [("io.bfq.weight", "500"), ("io.bfq.weight", "8:0 20")]


@pytest.mark.parametrize("res,msg", [
    ({"memory": {"swap": 100}}, "swap limit needs a memory limit"),
    ({"memory": {"limit": 200, "swap": 100}}, "lower than the memory limit"),
    ({"cpu": {"realtimeRuntime": 1000}}, "realtime .* not supported on cgroup v2"),
    ({"cpu": {"shares": 1}}, "invalid cpu shares 1"),
    ({"blockIO": {"weight": 5}}, "invalid blkio weight 5"),
    ({"unified": {"../x": "1"}}, "must be a file name"),
    ({"unified": {"a/b": "1"}}, "must be a file name"),
    ({"unified": {"..": "1"}}, "must be a file name"),
    ({"unified": {"cgroup.procs": "1"}}, "cannot be set from the configuration"),
    ({"unified": {"hugetlb.2MB.max": "1"}}, "controller 'hugetlb' is not enabled"),
    ({"unified": {"memory.nosuch": "1"}}, "memory.nosuch is not supported"),
    ({"unified": {"nodot": "1"}}, "CONTROLLER.PARAMETER"),
])
def test_bad_input_writes_nothing(v2host, m, res, msg):
    res = dict(res, pids={"limit": 10})
    with pytest.raises(CgroupError, match=msg):
        m.apply(parse_resources(res))
    assert v2host.kernel.writes == [] and m.device_filter.calls == []


def test_missing_controller_named(make_host):
    h = make_host("v2")
    open(h.path(*OWN, "cgroup.controllers"), "w").write("memory")
    m = mgr(h)
    m.create()
    with pytest.raises(CgroupError, match="cannot set pids.max: controller 'pids' is not enabled"):
        m.apply(parse_resources({"pids": {"limit": 3}}))


def test_device_rules_go_to_the_filter(v2host, m):
    rules = [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]
    m.apply(parse_resources({"devices": rules, "pids": {"limit": 3}}))
    want = encode(build(emulate(validate([DeviceRule(False), DeviceRule(True, "c", 1, 3, "rw")]))))
    assert m.device_filter.calls == [(m.dir, want)]
    assert v2host.kernel.writes[-1][1:] == ("pids.max", "3")  # files first, then the filter


def test_freeze_thaw_via_cgroup_freeze(v2host, m):
    assert not m.frozen()
    m.freeze()
    assert m.frozen() and open(os.path.join(m.dir, "cgroup.freeze")).read() == "1"
    m.thaw()
    assert not m.frozen()


def test_freeze_timeout_thaws_and_fails(v2host, m, monkeypatch):
    import dockyard.cgroups.v2 as v2mod
    monkeypatch.setattr(v2mod, "FREEZE_TIMEOUT", 0.05)
    real = v2host.kernel.write

    def stuck(d, name, value, c):  # the "kernel" never reports frozen
        real(d, name, value, c)
        if name == "cgroup.freeze":
            open(os.path.join(d, "cgroup.events"), "w").write("populated 1\nfrozen 0\n")
    v2host.kernel.write = stuck
    with pytest.raises(CgroupError, match="could not freeze"):
        m.freeze()
    assert open(os.path.join(m.dir, "cgroup.freeze")).read() == "0"


def test_pids_oom_stats(v2host, m):
    m.add_pid(55)
    sub = os.path.join(m.dir, "sub")
    os.mkdir(sub)
    open(os.path.join(sub, "cgroup.procs"), "w").write("66\n")
    assert m.pids() == [55, 66]
    assert m.oom_kill_count() == 1
    s = m.stats()
    assert s["memory"] == {"usage": 4096, "max_usage": 8192, "limit": None, "failcnt": 4,
                           "stats": {"anon": 20, "file": 10}}
    assert s["cpu"]["usage_total"] == 1500000 and s["cpu"]["throttling"] == {
        "periods": 4, "throttled_periods": 1, "throttled_time": 7000}
    assert s["pids"] == {"current": 2, "limit": None}
    assert s["blkio"]["io_serviced_recursive"] == [{"major": 254, "minor": 0, "op": "Read", "value": 3},
                                                   {"major": 254, "minor": 0, "op": "Write", "value": 2}]


def test_destroy_state_and_mounts(v2host, m):
    assert m.mounts_for_container() == [("", v2host.path(*OWN, "dockyard", "c1"))]
    m2 = load(json.loads(json.dumps(m.to_state())), fs=v2host.kernel)
    assert isinstance(m2, V2Manager) and m2.dir == m.dir and m2.created == m.created
    m2.destroy()
    assert not os.path.exists(v2host.path(*OWN, "dockyard"))
    assert os.path.isdir(v2host.path(*OWN))
    assert m2.created == []


def test_load_refuses_tampered_state(v2host, m):
    st = m.to_state()
    st["created"] = [v2host.path(*OWN)]
    with pytest.raises(CgroupError, match="invalid state"):
        load(st)
    with pytest.raises(CgroupError, match="invalid"):
        load({"version": 2, "rel": 1})
