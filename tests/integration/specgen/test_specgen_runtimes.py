"""Generated configs run for real, under dockyard-runtime and under runc, and the container sees what
the request asked for: user, groups, env, cwd, capabilities, read-only root, tmpfs, binds, volumes,
rlimits, hostname, /etc files, --init.

Each test has its own runtime --root, bundle and files dir, and a cgroup parent unique to the session;
teardown deletes the container (--force), removes the cgroups and the directories, even on failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from dockyard.daemon.containers.specgen import ImageDefaults, SpecInputs, generate
from dockyard.daemon.containers.specgen_etc import write_files
from dockyard.daemon.containers.specgen_host import HostInfo
from dockyard.daemon.containers.specgen_rootfs import host_dirs, prepare_rootfs
from dockyard.runtime.bundle import busybox_rootfs

pytestmark = pytest.mark.root

RUNTIMES = {"dockyard": os.path.join(os.path.dirname(sys.executable), "dockyard-runtime"), "runc": "/usr/sbin/runc"}
PARENT = f"dyspecgen{os.getpid()}"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:100:bob:/home/bob:/bin/sh\n"
GROUP = "root:x:0:root\ntty:x:5:\nusers:x:100:bob\ntape:x:26:root\n"
DEFAULT_CAPEFF = "00000000a80425fb"  # Docker's 14 capabilities
REQUEST = {"Hostname": "", "User": "", "Tty": False, "Env": None, "Cmd": None, "Image": "busybox", "Volumes": {},
           "WorkingDir": "", "Entrypoint": None, "Labels": {},
           "HostConfig": {"NetworkMode": "default", "OomScoreAdj": 0, "MemorySwappiness": -1, "OomKillDisable": False}}


def _cgroup_bases() -> list[str]:
    """Each hierarchy's mount and this process's own cgroup in it (both runtimes nest relative paths there)."""
    bases = []
    with open("/proc/self/cgroup") as f:
        own = [line.rstrip("\n").split(":", 2) for line in f]
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-", 6)
            if fields[sep + 1] not in ("cgroup", "cgroup2"):
                continue
            opts = set(fields[sep + 3].split(","))
            for _, names, path in own:
                wanted = set(names.split(",")) if names else set()
                if (fields[sep + 1] == "cgroup2" and not wanted) or (wanted and wanted <= opts):
                    if path.startswith(fields[3]):
                        bases.append(os.path.join(fields[4], path[len(fields[3]):].strip("/")))
    return sorted(set(bases))


def _remove_cgroups(parent: str) -> None:
    for base in _cgroup_bases():
        top = os.path.join(base, parent)
        if not os.path.isdir(top):
            continue
        dirs = [os.path.join(dp, d) for dp, dn, _ in os.walk(top) for d in dn]
        for d in sorted(dirs, key=len, reverse=True) + [top]:
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


@pytest.fixture
def rootfs(tmp_path):
    """A fresh busybox root per test: runtimes create mount targets in it (and runc gives a tmpfs the
    mode of a directory that was already there), so tests must not share one."""
    if not os.path.exists("/bin/busybox"):
        pytest.skip("Debian's busybox-static is not installed (/bin/busybox)")
    top = tmp_path / "root"
    root = busybox_rootfs(str(top / "rootfs"))
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write(GROUP)
    try:
        yield root
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def cgroup_cleanup():
    try:
        yield
    finally:
        _remove_cgroups(PARENT)


@pytest.fixture(params=sorted(RUNTIMES))
def run(request, rootfs, tmp_path):
    """run(changes, hostconfig, volume_paths) -> (exit code, stdout, GeneratedSpec) of one container."""
    binary = RUNTIMES[request.param]
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{request.param} not found at {binary}")
    state, made = str(tmp_path / "state"), []
    host = HostInfo.probe()
    host.blkio_weight = False  # not asked by these tests; keep the configs runnable anywhere

    def start(cmd, hostconfig=None, volume_paths=None, **changes):
        n = len(made)
        cid = f"{request.param}{os.getpid()}x{n}"
        body = json.loads(json.dumps(REQUEST))
        body.update(changes, Cmd=["sh", "-c", cmd])
        body["HostConfig"].update(hostconfig or {}, CgroupParent=PARENT)
        files_dir = str(tmp_path / f"files{n}")
        g = generate(body, SpecInputs(cid, rootfs, files_dir, host=host, volume_paths=volume_paths,
                                      image=ImageDefaults(env=["PATH=/bin:/usr/bin"])))
        write_files(files_dir, g.files)
        host_dirs(g.host_dirs)
        prepare_rootfs(rootfs, g.working_dir)
        bundle = tmp_path / f"bundle{n}"
        bundle.mkdir()
        (bundle / "config.json").write_text(json.dumps(g.config))
        made.append(cid)
        p = subprocess.run([binary, "--root", state, "run", "--bundle", str(bundle), cid], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        assert not p.stderr.strip() or p.returncode == 0, p.stderr
        return p.returncode, p.stdout, g

    try:
        yield start
    finally:
        for cid in made:
            subprocess.run([binary, "--root", state, "delete", "--force", cid], capture_output=True, timeout=30)
        shutil.rmtree(state, ignore_errors=True)


def fields(out: str) -> dict[str, str]:
    """'key=value' lines printed by the container."""
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def status(name: str) -> str:
    return f'echo {name}=$(grep ^{name}: /proc/self/status | cut -f2)'


def test_default_container(run):
    code, out, g = run("; ".join([
        "echo uid=$(id -u) gid=$(id -g) groups=\"$(id -G)\" | tr ' ' '\\n' | sed 's/\"//g'",
        status("CapEff"), status("CapBnd"), "echo host=$(hostname)", "echo etchost=$(cat /etc/hostname)",
        "echo envhost=$HOSTNAME", "echo path=$PATH", "echo cwd=$(pwd)",
        "echo ping=\"$(cat /proc/sys/net/ipv4/ping_group_range | tr '\\t' ' ')\"",
        "echo shm=$(grep ' /dev/shm ' /proc/mounts | cut -d' ' -f3)",
        "echo rootwritable=$(touch /probe 2>/dev/null && echo yes || echo no)",
        "echo resolv=\"$(grep -c nameserver /etc/resolv.conf)\"",
    ]))
    f = fields(out)
    assert code == 0, out
    assert (f["uid"], f["gid"]) == ("0", "0")
    assert f["CapEff"] == DEFAULT_CAPEFF and f["CapBnd"] == DEFAULT_CAPEFF
    hostname = g.config["hostname"]
    assert f["host"] == f["etchost"] == f["envhost"] == hostname
    assert f["path"] == "/bin:/usr/bin" and f["cwd"] == "/"
    assert f["ping"] == "0 2147483647" and f["shm"] == "tmpfs" and f["rootwritable"] == "yes"
    assert int(f["resolv"]) >= 1


def test_user_env_cwd_readonly_tmpfs_bind_rlimit(run, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "f.txt").write_text("from-the-host\n")
    code, out, _ = run("; ".join([
        "echo uid=$(id -u)", "echo gid=$(id -g)", "echo groups=\"$(id -G)\"", "echo foo=$FOO", "echo cwd=$(pwd)",
        status("CapEff"), status("CapBnd"),
        "echo rootwrite=$(touch /probe 2>/dev/null && echo yes || echo no)",
        "echo tmpfs=$(touch /scratch/ok 2>/dev/null && echo yes || echo no)",
        "echo tmpfsmode=$(stat -c %a /scratch)",
        "echo bind=$(cat /data/f.txt)",
        "echo bindwrite=$(touch /data/new 2>/dev/null && echo yes || echo no)",
        "echo nofile=$(ulimit -n)", "echo nofilehard=$(ulimit -Hn)",
    ]), User="bob", Env=["FOO=bar"], WorkingDir="/tmp/work",
        hostconfig={"ReadonlyRootfs": True, "GroupAdd": ["tape"], "Tmpfs": {"/scratch": "size=1m,mode=1777"},
                    "Binds": [f"{data}:/data:ro"], "Ulimits": [{"Name": "nofile", "Soft": 256, "Hard": 512}]})
    f = fields(out)
    assert code == 0, out
    assert (f["uid"], f["gid"], f["groups"]) == ("1000", "100", "100 26")
    assert f["foo"] == "bar" and f["cwd"] == "/tmp/work"
    assert f["CapEff"] == "0000000000000000" and f["CapBnd"] == DEFAULT_CAPEFF  # non-root: bounding set only
    assert (f["rootwrite"], f["tmpfs"], f["tmpfsmode"]) == ("no", "yes", "1777")
    assert (f["bind"], f["bindwrite"]) == ("from-the-host", "no")
    assert (f["nofile"], f["nofilehard"]) == ("256", "512")
    assert not (data / "new").exists()


def test_capabilities_mounts_volume_and_init(run, tmp_path):
    if not HostInfo.probe().init_path:
        pytest.skip("no static init binary (tini-static, catatonit) on this host")
    vol, rw = tmp_path / "vol", tmp_path / "rw"
    vol.mkdir()
    code, out, _ = run("; ".join([
        status("CapEff"), "echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)",
        "echo v > /vol/written", "echo r > /rw/written",
        "echo tmode=$(stat -c %a /t)", "echo hosts=$(grep -c 'db$' /etc/hosts)",
    ]), hostconfig={"CapAdd": ["NET_ADMIN"], "CapDrop": ["chown", "CAP_MKNOD"], "Init": True,
                    "Binds": [f"{rw}:/rw"], "ExtraHosts": ["db:10.9.8.7"],
                    "Mounts": [{"Type": "volume", "Source": "v1", "Target": "/vol"},
                               {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"Mode": 0o700}}]},
        volume_paths={"/vol": str(vol)})
    f = fields(out)
    assert code == 0, out
    want = int(DEFAULT_CAPEFF, 16) & ~(1 << 0) & ~(1 << 27) | (1 << 12)  # -CHOWN -MKNOD +NET_ADMIN
    assert int(f["CapEff"], 16) == want
    assert f["pid1"].startswith("/sbin/docker-init -- sh -c")
    assert (vol / "written").read_text() == "v\n"
    assert (rw / "written").read_text() == "r\n"  # -v created the missing host directory
    assert f["tmode"] == "700" and f["hosts"] == "1"
