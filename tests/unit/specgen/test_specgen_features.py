"""generate(): each `docker run` option's effect on config.json (and the errors of bad input)."""
from __future__ import annotations

import os

import pytest

from dockyard.daemon.containers import defaults as D
from dockyard.daemon.containers.specgen import DaemonOptions, Peer, generate
from dockyard.daemon.containers.specgen_errors import SpecGenError
from dockyard.daemon.containers.specgen_host import CAP_BY_NUMBER, HostInfo
from dockyard.daemon.containers.specgen_request import Ulimit
from specgen_helpers import CID, base_request


@pytest.fixture
def gen(make_inputs):
    def g(inputs=None, **changes):
        return generate(base_request(**changes), inputs or make_inputs())
    return g


def mounts_by_dest(cfg):
    return {m["destination"]: m for m in cfg["mounts"]}


# --- privileges ---------------------------------------------------------------------------------------


def test_default_capabilities(gen):
    caps = gen().config["process"]["capabilities"]
    assert caps == {k: list(D.DEFAULT_CAPABILITIES) for k in ("bounding", "effective", "permitted")}


def test_privileged(gen, make_inputs, host):
    host.capabilities = tuple(c for c in CAP_BY_NUMBER if c != "CAP_SYS_RESOURCE")  # like this machine
    host.dev_root = "/dev"
    cfg = gen(make_inputs(host=host), HostConfig={"Privileged": True}).config
    assert cfg["process"]["capabilities"]["bounding"] == list(host.capabilities)  # all the host has, no more
    lin = cfg["linux"]
    assert "maskedPaths" not in lin and "readonlyPaths" not in lin
    assert lin["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    paths = {d["path"]: d for d in lin["devices"]}
    assert paths["/dev/null"]["major"] == 1 and paths["/dev/null"]["minor"] == 3
    assert "/dev/console" not in paths and not any(p.startswith("/dev/pts/") for p in paths)
    ms = mounts_by_dest(cfg)
    assert "ro" not in ms["/sys"]["options"] and "ro" not in ms["/sys/fs/cgroup"]["options"]


@pytest.mark.parametrize("add, drop, want", [
    (["SYS_ADMIN", "cap_net_admin"], ["chown", "CAP_MKNOD"],
     [c for c in D.DEFAULT_CAPABILITIES if c not in ("CAP_CHOWN", "CAP_MKNOD")] + ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]),
    (["KILL"], ["ALL"], ["CAP_KILL"]),
    (["all"], ["SYS_ADMIN"], [c for c in CAP_BY_NUMBER[:38] if c != "CAP_SYS_ADMIN"]),
    (["CHOWN"], [], list(D.DEFAULT_CAPABILITIES)),  # no duplicates
    ([], ["ALL"], []),
])
def test_cap_add_drop(gen, add, drop, want):
    assert gen(HostConfig={"CapAdd": add, "CapDrop": drop}).config["process"]["capabilities"]["bounding"] == want


def test_cap_errors_and_missing_host_caps(gen, make_inputs, host):
    with pytest.raises(SpecGenError, match='^invalid CapAdd: unknown capability: "CAP_NOPE"$'):
        gen(HostConfig={"CapAdd": ["NOPE"]})
    with pytest.raises(SpecGenError, match='^invalid CapDrop: unknown capability: "CAP_X"$'):
        gen(HostConfig={"CapDrop": ["x"]})
    host.capabilities = tuple(c for c in CAP_BY_NUMBER if c != "CAP_SYS_RESOURCE")
    g = gen(make_inputs(host=host), HostConfig={"CapAdd": ["SYS_RESOURCE"]})
    assert "CAP_SYS_RESOURCE" not in g.config["process"]["capabilities"]["bounding"]
    assert any("CAP_SYS_RESOURCE" in w for w in g.warnings)


def test_non_root_gets_the_bounding_set_only(gen):
    caps = gen(User="bob", HostConfig={"CapAdd": ["SYS_TIME"]}).config["process"]["capabilities"]
    assert caps == {"bounding": list(D.DEFAULT_CAPABILITIES) + ["CAP_SYS_TIME"]}


def test_security_opts(gen):
    assert gen(HostConfig={"SecurityOpt": ["no-new-privileges"]}).config["process"]["noNewPrivileges"] is True
    assert gen(HostConfig={"SecurityOpt": ["no-new-privileges:true"]}).config["process"]["noNewPrivileges"] is True
    assert "noNewPrivileges" not in gen(HostConfig={"SecurityOpt": ["no-new-privileges=false"]}).config["process"]
    g = gen(HostConfig={"SecurityOpt": ["label=disable", "apparmor=unconfined", "label:type:x"]})
    assert g.config == gen().config and g.notes
    for bad, msg in (("bogus", 'invalid --security-opt 1: "bogus"'), ("foo=bar", 'invalid --security-opt 2: "foo=bar"'),
                     ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"')):
        with pytest.raises(SpecGenError) as e:
            gen(HostConfig={"SecurityOpt": [bad]})
        assert str(e.value) == msg


def test_daemon_no_new_privileges(gen, make_inputs):
    inputs = make_inputs(options=DaemonOptions(no_new_privileges=True))
    assert gen(inputs).config["process"]["noNewPrivileges"] is True
    proc = gen(inputs, HostConfig={"SecurityOpt": ["no-new-privileges=false"]}).config["process"]
    assert "noNewPrivileges" not in proc


def test_seccomp_hook(gen, make_inputs):
    calls = []

    def hook(profile, spec):
        calls.append((profile, list(spec["process"]["capabilities"]["bounding"])))
        return {"defaultAction": "SCMP_ACT_ERRNO"} if profile is None else {"defaultAction": "SCMP_ACT_LOG"}

    assert gen(make_inputs(seccomp=hook)).config["linux"]["seccomp"] == {"defaultAction": "SCMP_ACT_ERRNO"}
    assert calls[0] == (None, list(D.DEFAULT_CAPABILITIES))
    prof = '{"defaultAction":"SCMP_ACT_LOG"}'
    assert gen(make_inputs(seccomp=hook), HostConfig={"SecurityOpt": [f"seccomp={prof}"]}).config["linux"]["seccomp"] \
        == {"defaultAction": "SCMP_ACT_LOG"}
    assert calls[-1][0] == prof
    n = len(calls)
    for hc in ({"SecurityOpt": ["seccomp=unconfined"]}, {"Privileged": True}):
        assert "seccomp" not in gen(make_inputs(seccomp=hook), HostConfig=hc).config["linux"]
    assert len(calls) == n  # not asked
    assert "seccomp" not in gen().config["linux"]  # no hook: no filter
    with pytest.raises(SpecGenError, match="cannot run a custom seccomp profile"):
        gen(HostConfig={"SecurityOpt": [f"seccomp={prof}"]})

    def bad(profile, spec):
        raise ValueError("unknown action SCMP_ACT_NOPE")
    with pytest.raises(SpecGenError, match="^Error loading seccomp profile: unknown action SCMP_ACT_NOPE$"):
        gen(make_inputs(seccomp=bad))


def test_masked_and_readonly_paths(gen):
    lin = gen(HostConfig={"MaskedPaths": [], "ReadonlyPaths": []}).config["linux"]  # systempaths=unconfined
    assert "maskedPaths" not in lin and "readonlyPaths" not in lin
    lin = gen(HostConfig={"MaskedPaths": ["/proc/x"], "ReadonlyPaths": None}).config["linux"]
    assert lin["maskedPaths"] == ["/proc/x"] and lin["readonlyPaths"] == list(D.READONLY_PATHS)


# --- filesystem ------------------------------------------------------------------------------------------


def test_readonly_rootfs(gen):
    cfg = gen(HostConfig={"ReadonlyRootfs": True, "Tmpfs": {"/run": ""}}).config
    assert cfg["root"]["readonly"] is True
    ms = mounts_by_dest(cfg)
    assert ms["/etc/hosts"]["options"] == ["rbind", "ro", "rprivate"]
    assert "ro" not in ms["/run"]["options"] and "ro" not in ms["/dev/shm"]["options"]
    assert "readonly" not in gen().config["root"]


def test_binds_and_volumes(gen, make_inputs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "f.txt"
    a.mkdir()
    b.write_text("x")
    vol = str(tmp_path / "volumes" / "v1" / "_data")
    inputs = make_inputs(volume_paths={"/vol": vol, "/anon": "/anon-path"})
    g = gen(inputs, Volumes={"/anon": {}}, HostConfig={"Binds": [f"{a}:/data", f"{b}:/etc/f.txt:ro", "v1:/vol:ro",
                                                                    f"{tmp_path}/new:/new"]})
    ms = mounts_by_dest(g.config)
    assert ms["/data"] == {"destination": "/data", "type": "bind", "source": str(a), "options": ["rbind", "rprivate"]}
    assert ms["/etc/f.txt"]["options"] == ["rbind", "ro", "rprivate"]
    assert ms["/vol"] == {"destination": "/vol", "type": "bind", "source": vol, "options": ["rbind", "ro"]}
    assert ms["/anon"]["source"] == "/anon-path"
    assert g.host_dirs == [f"{tmp_path}/new"]  # -v creates a missing source (at start, by the daemon)
    assert g.volumes == ["/anon"]
    with pytest.raises(SpecGenError, match="^no volume was prepared for /vol$"):
        gen(HostConfig={"Binds": ["v1:/vol"]})


def test_mounts_api(gen, make_inputs, tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    inputs = make_inputs(volume_paths={"/v": "/vols/v"})
    cfg = gen(inputs, HostConfig={"Mounts": [
        {"Type": "bind", "Source": str(a), "Target": "/data", "ReadOnly": True, "BindOptions": {"NonRecursive": True}},
        {"Type": "volume", "Source": "vv", "Target": "/v"},
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o700}},
    ]}).config
    ms = mounts_by_dest(cfg)
    assert ms["/data"]["options"] == ["bind", "ro", "rprivate"]
    assert ms["/v"]["options"] == ["rbind"]
    assert ms["/t"] == {"destination": "/t", "type": "tmpfs", "source": "tmpfs",
                        "options": ["noexec", "nosuid", "nodev", "rprivate", "mode=700", "size=1m"]}
    with pytest.raises(SpecGenError,
                       match='^invalid mount config for type "bind": bind source path does not exist: /nope$'):
        gen(HostConfig={"Mounts": [{"Type": "bind", "Source": "/nope", "Target": "/x"}]})


def test_bind_propagation(gen, make_inputs, host, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    req = {"Binds": [f"{src}:/x:rslave"]}
    with pytest.raises(SpecGenError, match=f"^path {src} is mounted on / but it is not a shared or slave mount$"):
        gen(HostConfig=req)
    with open(host.mountinfo, "a") as f:
        f.write(f"40 22 0:5 / {tmp_path} rw shared:3 - tmpfs tmpfs rw\n")
    cfg = gen(HostConfig=req).config
    assert cfg["linux"]["rootfsPropagation"] == "rslave"
    assert mounts_by_dest(cfg)["/x"]["options"] == ["rbind", "rslave"]
    assert gen(HostConfig={"Binds": [f"{src}:/x:rshared"]}).config["linux"]["rootfsPropagation"] == "shared"


def test_mount_order_and_overrides(gen, tmp_path):
    (tmp_path / "etc").mkdir()
    cfg = gen(HostConfig={"Binds": [f"{tmp_path}/etc:/etc/hosts", f"{tmp_path}:/dev/shm"],
                          "Tmpfs": {"/etc": "", "/a/b/c": ""}}).config
    dests = [m["destination"] for m in cfg["mounts"]]
    assert dests == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                     "/etc", "/etc/hosts", "/dev/shm", "/etc/resolv.conf", "/etc/hostname", "/a/b/c"]
    # a user mount on /dev replaces Docker's /dev and everything below it
    dests = [m["destination"] for m in gen(HostConfig={"Tmpfs": {"/dev": ""}}).config["mounts"]]
    assert "/dev/pts" not in dests and "/dev/shm" not in dests and dests.count("/dev") == 1


def test_duplicate_mount_points(gen, tmp_path):
    for hc in ({"Binds": [f"{tmp_path}:/d", "v1:/d"]}, {"Binds": [f"{tmp_path}:/d"], "Tmpfs": {"/d": ""}},
               {"Mounts": [{"Type": "tmpfs", "Target": "/d/"}], "Tmpfs": {"/d": ""}}):
        with pytest.raises(SpecGenError, match="^Duplicate mount point: /d$"):
            gen(HostConfig=hc)


def test_image_volumes_are_anonymous_unless_mounted(make_inputs, tmp_path):
    from dockyard.daemon.containers.specgen import ImageDefaults
    img = ImageDefaults(cmd=["sh"], volumes=["/vdata", "/logs"])
    g = generate(base_request(HostConfig={"Binds": [f"{tmp_path}:/vdata"]}),
                 make_inputs(img, volume_paths={"/logs": "/v/logs"}))
    ms = mounts_by_dest(g.config)
    assert ms["/vdata"]["source"] == str(tmp_path) and ms["/logs"]["source"] == "/v/logs"
    assert g.volumes == ["/logs"]


def test_shm_size_and_ipc_modes(gen, make_inputs, host, tmp_path):
    assert mounts_by_dest(gen().config)["/dev/shm"]["options"][-1] == "size=67108864"
    assert mounts_by_dest(gen(HostConfig={"ShmSize": 128 << 20}).config)["/dev/shm"]["options"][-1] == "size=134217728"
    assert mounts_by_dest(gen(make_inputs(options=DaemonOptions(shm_size=1 << 20))).config)["/dev/shm"]["options"][-1] \
        == "size=1048576"
    with pytest.raises(SpecGenError, match="^SHM size can not be less than 0$"):
        gen(HostConfig={"ShmSize": -1})
    cfg = gen(HostConfig={"IpcMode": "host"}).config
    assert mounts_by_dest(cfg)["/dev/shm"] == {"destination": "/dev/shm", "type": "bind", "source": "/dev/shm",
                                               "options": ["rbind", "rprivate"]}
    assert {"type": "ipc"} not in cfg["linux"]["namespaces"]
    g = gen(HostConfig={"IpcMode": "shareable", "ShmSize": 1 << 20})
    shm = os.path.join(str(tmp_path / "containers" / CID), "mounts", "shm")
    assert mounts_by_dest(g.config)["/dev/shm"]["source"] == shm and g.shm == (shm, 1 << 20)
    cfg = gen(HostConfig={"IpcMode": "none"}).config
    assert "/dev/shm" not in mounts_by_dest(cfg) and {"type": "ipc"} in cfg["linux"]["namespaces"]
    with pytest.raises(SpecGenError, match="^invalid IPC mode: bogus$"):
        gen(HostConfig={"IpcMode": "bogus"})


def test_init(gen, make_inputs, host):
    cfg = gen(HostConfig={"Init": True}).config
    assert cfg["process"]["args"] == ["/sbin/docker-init", "--", "sleep", "30"]
    assert mounts_by_dest(cfg)["/sbin/docker-init"] == {"destination": "/sbin/docker-init", "type": "bind",
                                                        "source": "/usr/bin/docker-init", "options": ["bind", "ro"]}
    assert gen(make_inputs(options=DaemonOptions(init=True))).config["process"]["args"][0] == "/sbin/docker-init"
    assert gen(make_inputs(options=DaemonOptions(init=True)), HostConfig={"Init": False}).config["process"]["args"] \
        == ["sleep", "30"]
    host.init_path = None
    with pytest.raises(SpecGenError, match="no init binary found"):
        gen(make_inputs(host=host), HostConfig={"Init": True})


# --- resources ------------------------------------------------------------------------------------------


def test_default_resources(gen):
    res = gen().config["linux"]["resources"]
    assert res == {"devices": [dict(r) for r in D.DEFAULT_DEVICE_RULES], "memory": {"disableOOMKiller": False},
                   "cpu": {"shares": 0}, "blockIO": {"weight": 0}}


def test_memory(gen):
    mem = gen(HostConfig={"Memory": 100 << 20, "MemoryReservation": 50 << 20, "MemorySwappiness": 10,
                          "OomKillDisable": True}).config["linux"]["resources"]["memory"]
    assert mem == {"limit": 100 << 20, "reservation": 50 << 20, "swap": 200 << 20, "swappiness": 10,
                   "disableOOMKiller": True}
    assert "swap" not in gen(HostConfig={"Memory": 100 << 20, "MemorySwap": -1}).config["linux"]["resources"]["memory"]
    mem = gen(HostConfig={"Memory": 100 << 20, "MemorySwap": 300 << 20}).config["linux"]["resources"]["memory"]
    assert mem["swap"] == 300 << 20
    assert "swappiness" not in gen(HostConfig={"MemorySwappiness": -1}).config["linux"]["resources"]["memory"]
    g = gen(HostConfig={"OomKillDisable": True})
    assert any("OOM killer is disabled" in w for w in g.warnings)


@pytest.mark.parametrize("hc, msg", [
    ({"Memory": 4096}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 100 << 20, "MemorySwap": 50 << 20}, "Minimum memoryswap limit should be larger than memory limit"),
    ({"MemorySwap": 200 << 20}, "You should always set the Memory limit when using Memoryswap limit"),
    ({"Memory": 50 << 20, "MemoryReservation": 100 << 20},
     "Minimum memory limit can not be less than memory reservation"),
    ({"MemorySwappiness": 101}, "Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"KernelMemory": 1024}, "Minimum kernel memory limit allowed is 4MB"),
    ({"Memory": -5}, "invalid memory limit"),
    ({"NanoCpus": 3 * 10 ** 9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
    ({"NanoCpus": 10 ** 9, "CpuPeriod": 100000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    ({"CpuPeriod": 500}, "CPU cfs period can not be less than 1ms"),
    ({"CpuQuota": 500}, "CPU cfs quota can not be less than 1ms"),
    ({"CpusetCpus": "0-7"}, "Requested CPUs are not available - requested 0-7, available: 0-1"),
    ({"CpusetCpus": "a-b"}, "Invalid value a-b for cpuset cpus"),
    ({"CpusetMems": "1"}, "Requested memory nodes are not available - requested 1, available: 0"),
    ({"IOMaximumIOps": 5}, "Invalid QoS settings"),
    ({"Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 5}]},
     "ulimit soft limit must be less than or equal to hard limit: 10 > 5"),
    ({"Ulimits": [{"Name": "bogus", "Soft": 1, "Hard": 1}]}, "invalid ulimit type: bogus"),
    ({"OomScoreAdj": -1001}, "Invalid value -1001, range for oom score adj is [-1000, 1000]"),
    ({"Isolation": "hyperv"}, "Invalid isolation: \"hyperv\" - linux only supports 'default'"),
    ({"VolumesFrom": ["other"]}, "--volumes-from is not supported yet"),
    ({"DeviceRequests": [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]},
     'could not select device driver "" with capabilities: [[gpu]]'),
])
def test_resource_errors(gen, hc, msg):
    with pytest.raises(SpecGenError) as e:
        gen(HostConfig=hc)
    assert str(e.value).startswith(msg)


def test_cpu(gen):
    cpu = gen(HostConfig={"NanoCpus": 1500000000, "CpuShares": 512, "CpusetCpus": "0", "CpusetMems": "0"}
              ).config["linux"]["resources"]["cpu"]
    assert cpu == {"shares": 512, "quota": 150000, "period": 100000, "cpus": "0", "mems": "0"}
    cpu = gen(HostConfig={"CpuQuota": 50000, "CpuPeriod": 200000}).config["linux"]["resources"]["cpu"]
    assert cpu == {"shares": 0, "quota": 50000, "period": 200000}
    g = gen(HostConfig={"CpuShares": 1})
    assert g.config["linux"]["resources"]["cpu"]["shares"] == 2 and "minimum allowed of 2" in g.warnings[0]


def test_pids_and_blkio(gen, make_inputs, host):
    assert gen(HostConfig={"PidsLimit": 100}).config["linux"]["resources"]["pids"] == {"limit": 100}
    for unlimited in (0, -1, None):
        assert "pids" not in gen(HostConfig={"PidsLimit": unlimited}).config["linux"]["resources"]
    g = gen(HostConfig={"BlkioWeight": 300})  # this fixture host has no blkio weight: discarded
    assert g.config["linux"]["resources"]["blockIO"] == {"weight": 0} and "Weight discarded" in g.warnings[0]
    host.blkio_weight = True
    assert gen(make_inputs(host=host), HostConfig={"BlkioWeight": 300}).config["linux"]["resources"]["blockIO"] \
        == {"weight": 300}
    with pytest.raises(SpecGenError, match="Range of blkio weight is from 10 to 1000"):
        gen(make_inputs(host=host), HostConfig={"BlkioWeight": 5})


def test_unsupported_kernel_knobs_are_discarded(gen, make_inputs, host):
    host.swap_limit = False
    g = gen(make_inputs(host=host), HostConfig={"Memory": 100 << 20})
    assert "swap" not in g.config["linux"]["resources"]["memory"] and "Memory limited without swap" in g.warnings[0]


def test_ulimits(gen, make_inputs):
    rl = gen(HostConfig={"Ulimits": [{"Name": "core", "Soft": -1, "Hard": -1},
                                     {"Name": "nofile", "Soft": 1024, "Hard": 2048}]}).config["process"]["rlimits"]
    assert rl == [{"type": "RLIMIT_CORE", "hard": D.RLIM_INFINITY, "soft": D.RLIM_INFINITY},
                  {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024}]
    assert "rlimits" not in gen().config["process"]
    inputs = make_inputs(options=DaemonOptions(default_ulimits=[Ulimit("nofile", 10, 10), Ulimit("nproc", 7, 8)]))
    rl = gen(inputs, HostConfig={"Ulimits": [{"Name": "nofile", "Soft": 20, "Hard": 20}]}).config["process"]["rlimits"]
    assert rl == [{"type": "RLIMIT_NOFILE", "hard": 20, "soft": 20}, {"type": "RLIMIT_NPROC", "hard": 8, "soft": 7}]


def test_devices(gen):
    st = os.stat("/dev/null")
    cfg = gen(HostConfig={"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull",
                                       "CgroupPermissions": "r"},
                                      {"PathOnHost": "/dev/zero", "PathInContainer": "", "CgroupPermissions": ""}],
                          "DeviceCgroupRules": ["c 42:* rmw", "b 7:0 r"]}).config
    assert cfg["linux"]["devices"] == [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": st.st_mode & 0o7777,
         "uid": st.st_uid, "gid": st.st_gid},
        {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": os.stat("/dev/zero").st_mode & 0o7777,
         "uid": 0, "gid": 0}]
    assert cfg["linux"]["resources"]["devices"][len(D.DEFAULT_DEVICE_RULES):] == [
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "r"},
        {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
        {"allow": True, "type": "c", "major": 42, "minor": -1, "access": "rmw"},
        {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "r"}]


@pytest.mark.parametrize("hc, msg", [
    ({"Devices": [{"PathOnHost": "/dev/nope"}]},
     'error gathering device information while adding custom device "/dev/nope": no such file or directory'),
    ({"Devices": [{"PathOnHost": "/etc/hostname"}]},
     'error gathering device information while adding custom device "/etc/hostname": not a device node'),
    ({"Devices": [{"PathOnHost": "/dev/null", "CgroupPermissions": "rwx"}]}, "/dev/null invalid device mode: rwx"),
    ({"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/etc/null"}]}, "must be under /dev"),
    ({"DeviceCgroupRules": ["c 1:2"]}, "invalid device cgroup format 'c 1:2'"),
])
def test_device_errors(gen, hc, msg):
    with pytest.raises(SpecGenError) as e:
        gen(HostConfig=hc)
    assert msg in str(e.value)


def test_oom_score_and_cgroup_parent(gen, make_inputs):
    assert gen(HostConfig={"OomScoreAdj": 500}).config["process"]["oomScoreAdj"] == 500
    assert gen().config["linux"]["cgroupsPath"] == f"dockyard/{CID}"
    assert gen(HostConfig={"CgroupParent": "/mygroup/sub/"}).config["linux"]["cgroupsPath"] == f"mygroup/sub/{CID}"
    assert gen(make_inputs(options=DaemonOptions(cgroup_parent="dy"))).config["linux"]["cgroupsPath"] == f"dy/{CID}"
    with pytest.raises(SpecGenError, match="invalid cgroup parent"):
        gen(HostConfig={"CgroupParent": "../escape"})


# --- namespaces, hostname, sysctls ----------------------------------------------------------------------


def ns_types(cfg):
    return [n["type"] for n in cfg["linux"]["namespaces"]]


def test_namespace_modes(gen, make_inputs):
    assert ns_types(gen().config) == ["mount", "network", "uts", "pid", "ipc"]
    assert ns_types(gen(HostConfig={"PidMode": "host"}).config) == ["mount", "network", "uts", "ipc"]
    cfg = gen(HostConfig={"UTSMode": "host"}).config
    assert ns_types(cfg) == ["mount", "network", "pid", "ipc"] and "hostname" not in cfg
    assert ns_types(gen(HostConfig={"NetworkMode": "none"}).config) == ["mount", "network", "uts", "pid", "ipc"]
    assert ns_types(gen(HostConfig={"CgroupnsMode": "private"}).config)[-1] == "cgroup"
    assert gen(HostConfig={"UsernsMode": "host"}).config == gen().config
    host2 = HostInfo(cgroup_version=2, hostname="h")
    assert ns_types(gen(make_inputs(host=host2)).config)[-1] == "cgroup"  # cgroup v2: private by default
    for hc, msg in (({"PidMode": "bogus"}, "invalid PID mode: bogus"), ({"UTSMode": "x"}, "invalid UTS mode: x"),
                    ({"CgroupnsMode": "x"}, "invalid cgroup namespace mode: x"),
                    ({"UsernsMode": "private"}, "invalid USER mode"),
                    ({"UTSMode": "host"}, None)):
        if msg:
            with pytest.raises(SpecGenError, match=msg):
                gen(HostConfig=hc)


def test_host_network(gen, host):
    g = gen(HostConfig={"NetworkMode": "host"})
    cfg = g.config
    assert "network" not in ns_types(cfg) and "sysctl" not in cfg["linux"]
    assert cfg["hostname"] == "vm" and "HOSTNAME=vm" in cfg["process"]["env"]
    with open(host.hosts) as f, open(host.resolv_conf) as r:
        assert g.files == {"hostname": "vm\n", "hosts": f.read(), "resolv.conf": r.read()}
    assert gen(HostConfig={"NetworkMode": "host"}, Hostname="foo").config["hostname"] == "foo"


def test_joining_other_containers(gen, make_inputs):
    peers = {"web": Peer("f" * 64, 4321, hostname="webhost", files_dir="/data/containers/web", ipc_mode="shareable",
                         shm_path="/data/containers/web/mounts/shm"),
             "stopped": Peer("e" * 64, 0), "private": Peer("d" * 64, 99, ipc_mode="private")}
    inputs = make_inputs(lookup=peers.get)
    g = gen(inputs, HostConfig={"NetworkMode": "container:web", "IpcMode": "container:web", "PidMode": "container:web"})
    cfg = g.config
    assert cfg["linux"]["namespaces"] == [{"type": "mount"}, {"type": "network", "path": "/proc/4321/ns/net"},
                                          {"type": "uts"}, {"type": "pid", "path": "/proc/4321/ns/pid"},
                                          {"type": "ipc", "path": "/proc/4321/ns/ipc"}]
    ms = mounts_by_dest(cfg)
    assert ms["/etc/hosts"]["source"] == "/data/containers/web/hosts"
    assert ms["/dev/shm"]["source"] == "/data/containers/web/mounts/shm"
    assert cfg["hostname"] == "webhost" and "sysctl" not in cfg["linux"] and g.files == {}
    for hc, msg in (({"NetworkMode": "container:nope"}, "^No such container: nope$"),
                    ({"PidMode": "container:stopped"}, f"^cannot join PID of a non running container: {'e' * 64}$"),
                    ({"IpcMode": "container:private"}, "non-shareable IPC"),
                    ({"NetworkMode": "container:web", "Dns": ["1.1.1.1"]},
                     "conflicting options: dns and the network mode"),
                    ({"NetworkMode": "container:web", "ExtraHosts": ["a:1.2.3.4"]}, "custom host-to-IP mapping"),
                    ({"NetworkMode": "container:web", "PublishAllPorts": True}, "port publishing"),
                    ({"NetworkMode": "container:web", "Sysctls": {"net.ipv4.ip_forward": "1"}},
                     "is not allowed: the network namespace belongs to container ffffffffffff")):
        with pytest.raises(SpecGenError, match=msg):
            gen(inputs, HostConfig=hc)
    with pytest.raises(SpecGenError, match="conflicting options: hostname and the network mode"):
        gen(inputs, Hostname="x", HostConfig={"NetworkMode": "container:web"})


def test_hostname_and_domainname(gen):
    cfg = gen(Hostname="myhost", Domainname="example.com").config
    assert cfg["hostname"] == "myhost" and cfg["linux"]["sysctl"]["kernel.domainname"] == "example.com"
    assert "HOSTNAME=myhost" in cfg["process"]["env"]
    assert gen().config["hostname"] == CID[:12]
    for bad in ("a" * 65, "bad name", "x\ny"):
        with pytest.raises(SpecGenError, match="invalid hostname format"):
            gen(Hostname=bad)
    with pytest.raises(SpecGenError, match="conflicting options: hostname and the UTS mode"):
        gen(Hostname="x", HostConfig={"UTSMode": "host"})


def test_sysctls(gen):
    sc = gen(HostConfig={"Sysctls": {"net.ipv4.ip_forward": "1", "kernel.msgmax": "65536", "fs.mqueue.msg_max": "20",
                                     "net.ipv4.ip_unprivileged_port_start": "1024"}}).config["linux"]["sysctl"]
    assert sc == {"net.ipv4.ip_forward": "1", "kernel.msgmax": "65536", "fs.mqueue.msg_max": "20",
                  "net.ipv4.ip_unprivileged_port_start": "1024", "net.ipv4.ping_group_range": "0 2147483647"}
    for hc, msg in (({"Sysctls": {"kernel.foo": "1"}}, "sysctl 'kernel.foo=1' is not allowed"),
                    ({"Sysctls": {"net/../../x": "1"}}, "is not allowed"),
                    ({"Sysctls": {"net.ipv4.ip_forward": "1\n2"}}, "is not allowed"),
                    ({"Sysctls": {"net.ipv4.ip_forward": "1"}, "NetworkMode": "host"},
                     'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'),
                    ({"Sysctls": {"kernel.sem": "1"}, "IpcMode": "host"},
                     'sysctl "kernel.sem" is not allowed in the hosts ipc namespace')):
        with pytest.raises(SpecGenError, match=msg):
            gen(HostConfig=hc)


def test_request_types_are_checked(gen):
    for changes, msg in (({"HostConfig": {"Memory": "1g"}}, "HostConfig.Memory: expected an integer, got string"),
                         ({"Env": "A=1"}, "Config.Env: expected an array of strings, got string"),
                         ({"HostConfig": {"Privileged": 1}}, "HostConfig.Privileged: expected a boolean, got number"),
                         ({"HostConfig": {"Binds": [1]}}, "HostConfig.Binds: expected an array of strings"),
                         ({"Cmd": ["a\x00b"]}, "Config.Cmd: contains a NUL byte"),
                         ({"HostConfig": {"Ulimits": [{"Name": 5}]}},
                          "HostConfig.Ulimits[0].Name: expected a string, got number")):
        with pytest.raises(SpecGenError) as e:
            gen(**changes)
        assert str(e.value) == msg
    with pytest.raises(SpecGenError, match="^Config: expected an object, got array$"):
        generate([], None)  # checked before the inputs are used


def test_warnings_for_published_ports_on_host_network(gen):
    g = gen(HostConfig={"NetworkMode": "host", "PortBindings": {"80/tcp": [{"HostPort": "8080"}]}})
    assert "Published ports are discarded when using host network mode" in g.warnings
