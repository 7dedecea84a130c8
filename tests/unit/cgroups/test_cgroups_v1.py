"""cgroup v1 manager against a fake v1 tree: exact writes, creation, removal, state."""
import errno
import os

import pytest

from dockyard.cgroups import CgroupError, V1Manager, load, open_manager
from dockyard.cgroups import tree
from dockyard.spec.runtime import parse_resources

REL = ("dockyard", "c1")


def mgr(h, path="", cid="c1"):
    return open_manager(path, cid, root=h.root, proc=h.proc, fs=h.kernel)


@pytest.fixture
def m(v1host):
    m = mgr(v1host)
    m.create()
    v1host.kernel.writes.clear()
    return m


def writes_for(h, m, res):
    h.kernel.writes.clear()
    m.apply(parse_resources(res))
    return [(f, v) for _, f, v in h.kernel.writes]


def test_create_makes_every_hierarchy_and_copies_cpuset(v1host):
    m = mgr(v1host)
    m.create()
    expect = []
    for mount, own in [("cpuset", ""), ("devices", ""), ("memory", "process_api/abc"), ("cpu,cpuacct", ""),
                       ("pids", ""), ("blkio", ""), ("freezer", ""), ("systemd", "user.slice")]:
        base = v1host.path(mount, own)
        expect += [os.path.join(base, "dockyard"), os.path.join(base, "dockyard", "c1")]
        assert os.path.isdir(os.path.join(base, *REL))
    assert sorted(m.created) == sorted(expect)
    # cpuset: each new directory got the parent's cpus and mems, outermost first
    cs = [(d, f, v) for d, f, v in v1host.kernel.writes if f.startswith("cpuset.")]
    assert cs == [("cpuset/dockyard", "cpuset.cpus", "0-3"), ("cpuset/dockyard", "cpuset.mems", "0"),
                  ("cpuset/dockyard/c1", "cpuset.cpus", "0-3"), ("cpuset/dockyard/c1", "cpuset.mems", "0")]
    assert open(v1host.path("cpuset", *REL, "cpuset.cpus")).read() == "0-3"


def test_create_failure_leaves_nothing(v1host):
    # the pids hierarchy's own cgroup vanished: nothing may be left in the others
    os.rename(v1host.path("pids"), v1host.path("pids-gone"))
    m = mgr(v1host)
    with pytest.raises(CgroupError, match="cgroup pids: the runtime's own cgroup .* does not exist"):
        m.create()
    assert not os.path.exists(v1host.path("cpuset", "dockyard"))
    assert not os.path.exists(v1host.path("memory", "process_api", "abc", "dockyard"))
    assert m.created == []


def test_destroy_removes_only_what_it_created(v1host):
    pre = v1host.path("memory", "process_api", "abc", "dockyard")
    os.mkdir(pre)
    v1host.kernel.populate(pre, ["memory"])
    sibling = v1host.path("pids", "dockyard", "other")
    m = mgr(v1host)
    m.create()
    assert pre not in m.created
    os.mkdir(sibling)  # another container's cgroup next to ours
    v1host.kernel.populate(sibling, ["pids"])
    nested = v1host.path("devices", *REL, "inner")  # made by the container itself
    os.mkdir(nested)
    v1host.kernel.populate(nested, ["devices"])
    m.destroy()
    assert os.path.isdir(pre) and not os.path.exists(os.path.join(pre, "c1"))
    assert os.path.isdir(sibling)  # "dockyard" there is shared now: left alone
    assert not os.path.exists(v1host.path("devices", "dockyard"))
    assert not os.path.exists(v1host.path("cpuset", "dockyard"))
    assert m.created == []


def test_destroy_busy_reports_and_keeps_state(v1host, monkeypatch):
    monkeypatch.setattr(tree, "RMDIR_FIRST_WAIT", 0.001)
    m = mgr(v1host)
    m.create()
    m.add_pid(4242)
    with pytest.raises(CgroupError, match=r"removing .*/dockyard/c1: Device or resource busy"):
        m.destroy()
    assert m.created and all(os.path.isdir(d) for d in m.created)
    for d in m.created:  # the "process" left
        p = os.path.join(d, "cgroup.procs")
        open(p, "w").close()
    m.destroy()
    assert m.created == [] and not os.path.exists(v1host.path("pids", "dockyard"))


MEM = "memory.limit_in_bytes"
SW = "memory.memsw.limit_in_bytes"


@pytest.mark.parametrize("res,expected", [
    ({"memory": {"limit": 1048576}}, [(MEM, "1048576")]),
    # current limit (unlimited) is above the new memsw: lower the limit first
    ({"memory": {"limit": 4 << 20, "swap": 8 << 20}}, [(MEM, "4194304"), (SW, "8388608")]),
    ({"memory": {"limit": -1}}, [(SW, "-1"), (MEM, "-1")]),
    ({"memory": {"limit": 4 << 20, "swap": -1}}, [(SW, "-1"), (MEM, "4194304")]),
    ({"memory": {"limit": 0, "swap": 0}}, []),
    ({"memory": {"reservation": 1 << 20, "swappiness": 0, "disableOOMKiller": True}},
     [("memory.soft_limit_in_bytes", "1048576"), ("memory.swappiness", "0"), ("memory.oom_control", "1")]),
    ({"memory": {"swappiness": -1}}, []),
    ({"memory": {"kernel": 1 << 20, "kernelTCP": 2 << 20}},
     [("memory.kmem.limit_in_bytes", "1048576"), ("memory.kmem.tcp.limit_in_bytes", "2097152")]),
    ({"cpu": {"shares": 512, "period": 100000, "quota": 50000}},
     [("cpu.shares", "512"), ("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "50000")]),
    ({"cpu": {"quota": -1}}, [("cpu.cfs_quota_us", "-1")]),
    ({"cpu": {"burst": 1000, "quota": 20000, "idle": 1}},
     [("cpu.cfs_quota_us", "20000"), ("cpu.cfs_burst_us", "1000"), ("cpu.idle", "1")]),
    ({"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 950000}},
     [("cpu.rt_period_us", "1000000"), ("cpu.rt_runtime_us", "950000")]),
    ({"cpu": {"cpus": "1-2", "mems": "0"}}, [("cpuset.cpus", "1-2"), ("cpuset.mems", "0")]),
    ({"pids": {"limit": 100}}, [("pids.max", "100")]),
    ({"pids": {"limit": 0}}, [("pids.max", "max")]),
    ({"pids": {"limit": -1}}, [("pids.max", "max")]),
    # no blkio weight file on this kernel: skipped quietly
    ({"blockIO": {"weight": 500, "weightDevice": [{"major": 254, "minor": 0, "weight": 300}]}}, []),
    ({"blockIO": {"throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1000}],
                  "throttleWriteIOPSDevice": [{"major": 254, "minor": 0, "rate": 30},
                                              {"major": 8, "minor": 16, "rate": 40}]}},
     [("blkio.throttle.read_bps_device", "254:0 1000"), ("blkio.throttle.write_iops_device", "254:0 30"),
      ("blkio.throttle.write_iops_device", "8:16 40")]),
    ({"devices": [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3,
                                                       "access": "rwm"},
                  {"allow": True, "type": "c", "major": 136, "access": "rw"},
                  {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "m"},
                  {"allow": True, "type": "b", "access": "m"}]},
     [("devices.deny", "a"), ("devices.deny", "a"), ("devices.allow", "c 1:3 rwm"), ("devices.allow", "c 136:* rw"),
      ("devices.deny", "c 1:3 m"), ("devices.allow", "b *:* m")]),
    ({"devices": [{"allow": True, "access": "rwm"}]}, [("devices.deny", "a"), ("devices.allow", "a")]),
])
def test_apply_writes(v1host, m, res, expected):
    assert writes_for(v1host, m, res) == expected


def test_apply_order_across_controllers(v1host, m):
    got = writes_for(v1host, m, {"pids": {"limit": 5}, "memory": {"limit": 1 << 20}, "cpu": {"shares": 2, "cpus": "0"},
                                 "devices": [{"allow": True, "type": "c", "major": 1, "minor": 3}]})
    assert [f for f, _ in got] == ["cpuset.cpus", "devices.deny", "devices.allow", MEM, "cpu.shares", "pids.max"]
    assert open(v1host.path("pids", *REL, "pids.max")).read() == "5"
    assert open(v1host.path("memory", "process_api", "abc", *REL, MEM)).read() == "1048576"


def test_memory_swap_raise_writes_memsw_first(v1host, m):
    writes_for(v1host, m, {"memory": {"limit": 1 << 20, "swap": 2 << 20}})
    # now raising above the current limit: memsw must go first
    assert writes_for(v1host, m, {"memory": {"limit": 4 << 20, "swap": 8 << 20}}) == [(SW, "8388608"), (MEM, "4194304")]


def test_swap_ignored_without_memsw(make_host):
    h = make_host("hybrid", missing=(SW,))
    m = mgr(h)
    m.create()
    assert writes_for(h, m, {"memory": {"limit": 1 << 20, "swap": 2 << 20}}) == [(MEM, "1048576")]
    assert writes_for(h, m, {"memory": {"limit": -1}}) == [(MEM, "-1")]


def test_kmem_absent_is_ignored(make_host):
    h = make_host("hybrid", missing=("memory.kmem.limit_in_bytes",))
    m = mgr(h)
    m.create()
    assert writes_for(h, m, {"memory": {"kernel": 1 << 20}}) == []


def test_blkio_weight_written_where_the_kernel_has_it(v1host, m):
    d = v1host.path("blkio", *REL)
    for f in ("blkio.weight", "blkio.weight_device"):
        open(os.path.join(d, f), "w").close()
    assert writes_for(v1host, m, {"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}]}}) \
        == [("blkio.weight", "500"), ("blkio.weight_device", "8:0 300")]


@pytest.mark.parametrize("res,msg", [
    ({"memory": {"limit": 4 << 20, "swap": 2 << 20}}, "memory\\+swap limit 2097152 is lower than the memory limit"),
    ({"memory": {"swappiness": 101}}, "invalid swappiness 101"),
    ({"memory": {"limit": -5}}, "invalid memory limit -5"),
    ({"unified": {"memory.high": "1"}}, "needs cgroup v2"),
    ({"devices": [{"allow": True, "type": "a", "access": "r"}]}, "must not restrict"),
    ({"devices": [{"allow": True, "type": "c", "major": -7}]}, "invalid major -7"),
    ({"cpu": {"burst": 5000, "quota": 1000}}, "burst 5000 is larger than the quota"),
])
def test_bad_input_writes_nothing(v1host, m, res, msg):
    # a valid part first: it must not be written either
    res = dict(res, pids={"limit": 10})
    with pytest.raises(CgroupError, match=msg):
        m.apply(parse_resources(res))
    assert v1host.kernel.writes == []


def test_missing_throttle_file_is_an_error(make_host):
    h = make_host("hybrid", missing=("blkio.throttle.read_bps_device",))
    m = mgr(h)
    m.create()
    h.kernel.writes.clear()
    with pytest.raises(CgroupError, match="blkio.throttle.read_bps_device is not supported by this kernel"):
        m.apply(parse_resources({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}]}}))
    assert h.kernel.writes == []


def test_kernel_refusal_message(v1host, m):
    v1host.kernel.refuse[MEM] = errno.EINVAL
    with pytest.raises(CgroupError) as ei:
        m.apply(parse_resources({"memory": {"limit": 1048576}}))
    assert str(ei.value) == "cgroup memory: writing '1048576' to memory.limit_in_bytes: Invalid argument"
    assert ei.value.errno == errno.EINVAL


def test_period_refused_is_retried_after_quota(v1host, m):
    v1host.kernel.refuse["cpu.cfs_period_us"] = errno.EINVAL
    assert writes_for(v1host, m, {"cpu": {"period": 10000, "quota": 5000}}) == [
        ("cpu.cfs_period_us", "10000"), ("cpu.cfs_quota_us", "5000"), ("cpu.cfs_period_us", "10000")]
    assert open(v1host.path("cpu,cpuacct", *REL, "cpu.cfs_period_us")).read() == "10000"


def test_period_refused_without_quota_fails(v1host, m):
    v1host.kernel.refuse["cpu.cfs_period_us"] = errno.EINVAL
    with pytest.raises(CgroupError, match="cpu.cfs_period_us: Invalid argument"):
        m.apply(parse_resources({"cpu": {"period": 10000}}))


def test_shares_clamped_by_kernel_is_an_error(v1host, m):
    v1host.kernel.clamp["cpu.shares"] = "262144"
    with pytest.raises(CgroupError, match="set cpu.shares to 262144 instead of 500000"):
        m.apply(parse_resources({"cpu": {"shares": 500000}}))


def test_missing_controller_is_an_error(v1host):
    m = mgr(v1host)
    m.hierarchies = [x for x in m.hierarchies if x.name != "pids"]
    with pytest.raises(CgroupError, match="cgroup pids: controller not available"):
        m.apply(parse_resources({"pids": {"limit": 3}}))


def test_add_pid_pids_and_recursion(v1host, m):
    m.add_pid(101)
    assert [(d, v) for d, f, v in v1host.kernel.writes if f == "cgroup.procs"] == \
        [(os.path.relpath(m.dir_of(h), v1host.root), "101") for h in m.hierarchies]
    inner = os.path.join(m.path("pids"), "inner")
    os.mkdir(inner)
    open(os.path.join(inner, "cgroup.procs"), "w").write("7\n300\n")
    assert m.pids() == [7, 101, 300]


def test_freeze_thaw(v1host, m):
    v1host.kernel.freezing = 3
    m.freeze()
    assert m.frozen()
    assert v1host.kernel.of("freezer.state") == [("freezer/dockyard/c1", "FROZEN")] * 4
    m.thaw()
    assert not m.frozen()


def test_oom_kill_count_and_stats(v1host, m):
    open(os.path.join(m.path("memory"), "memory.oom_control"), "w").write(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert m.oom_kill_count() == 2
    open(os.path.join(m.path("pids"), "pids.max"), "w").write("50\n")
    s = m.stats()
    assert s["memory"] == {"usage": 4096, "max_usage": 8192, "limit": None, "failcnt": 3,
                           "stats": {"cache": 10, "rss": 20, "total_inactive_file": 5}}
    tick = 10**9 // os.sysconf("SC_CLK_TCK")
    assert s["cpu"] == {"usage_total": 123456789, "usage_user": 5 * tick, "usage_system": 7 * tick,
                        "percpu": [100000000, 23456789],
                        "throttling": {"periods": 7, "throttled_periods": 2, "throttled_time": 5000}}
    assert s["pids"] == {"current": 0, "limit": 50}
    assert s["blkio"]["io_service_bytes_recursive"] == [
        {"major": 254, "minor": 0, "op": "Read", "value": 100}, {"major": 254, "minor": 0, "op": "Write", "value": 50}]
    m.apply(parse_resources({"memory": {"limit": 1 << 20}}))
    assert m.stats()["memory"]["limit"] == 1 << 20


def test_state_round_trip(v1host, m):
    st = m.to_state()
    import json
    m2 = load(json.loads(json.dumps(st)), fs=v1host.kernel)
    assert isinstance(m2, V1Manager)
    assert m2.controller_dirs() == m.controller_dirs() and m2.created == m.created
    assert m2.mounts_for_container() == m.mounts_for_container()
    m2.destroy()
    assert not os.path.exists(v1host.path("cpuset", "dockyard"))


@pytest.mark.parametrize("tamper", [
    lambda st, h: st["created"].append("/etc"),
    lambda st, h: st["created"].append(h.path("pids")),                      # the own cgroup itself
    lambda st, h: st["created"].append(h.path("pids", "dockyard", "other")),  # a sibling
    lambda st, h: st["created"].append(h.path("pids", "dockyard", "c1", "..", "..", "x")),
    lambda st, h: st.update(rel="../x"),
    lambda st, h: st.update(version=3),
    lambda st, h: st.pop("hierarchies"),
])
def test_load_refuses_tampered_state(v1host, m, tamper):
    st = m.to_state()
    tamper(st, v1host)
    with pytest.raises(CgroupError, match="invalid"):
        load(st)


def test_mounts_for_container(v1host, m):
    assert m.mounts_for_container() == [
        ("cpuset", v1host.path("cpuset", *REL)), ("devices", v1host.path("devices", *REL)),
        ("memory", v1host.path("memory", "process_api", "abc", *REL)),
        ("cpu,cpuacct", v1host.path("cpu,cpuacct", *REL)), ("pids", v1host.path("pids", *REL)),
        ("blkio", v1host.path("blkio", *REL)), ("freezer", v1host.path("freezer", *REL)),
        ("systemd", v1host.path("systemd", "user.slice", *REL))]
