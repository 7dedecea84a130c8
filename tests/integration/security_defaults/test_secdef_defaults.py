"""What a container gets by default, and what each security option changes, seen from inside
containers run through dockyardd and the Docker CLI."""
import json
import os

import pytest

from dockyard.daemon.containers import defaults as D
from dockyard.daemon.containers.specgen_host import CAP_BY_NUMBER
from dockyard.security import seccomp_rules

pytestmark = pytest.mark.root


def caps_mask(names) -> int:
    return sum(1 << CAP_BY_NUMBER.index(n) for n in names)


def status(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip()] = v.strip()
    return out


def host_bounding() -> int:
    with open("/proc/self/status") as f:
        return int(status(f.read())["CapBnd"], 16)


def run(d, *args, check=True):
    return d.docker("run", "--rm", *args, check=check)


def test_default_capabilities_are_dockers_14(d):
    st = status(run(d, "busybox", "cat", "/proc/self/status").stdout)
    want = caps_mask(D.DEFAULT_CAPABILITIES)
    assert want == 0xA80425FB and len(D.DEFAULT_CAPABILITIES) == 14
    for key in ("CapEff", "CapPrm", "CapBnd"):
        assert int(st[key], 16) == want, (key, st[key])
    assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0
    assert st["Seccomp"] == "2"           # filter mode: Dockyard's default profile is loaded
    assert st["NoNewPrivs"] == "0"


def test_exec_gets_the_same_confinement(d):
    cid = d.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    try:
        st = status(d.docker("exec", cid, "cat", "/proc/self/status").stdout)
        assert int(st["CapEff"], 16) == 0xA80425FB and st["Seccomp"] == "2"
        fds = d.docker("exec", cid, "ls", "/proc/self/fd").stdout.split()
        assert sorted(fds, key=int) == ["0", "1", "2", "3"]  # 3: the directory ls is reading
        assert d.docker("exec", cid, "unshare", "-U", "true", check=False).returncode != 0
    finally:
        d.docker("rm", "-f", cid, check=False)


def test_no_new_privileges(d):
    for opt in ("no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"):
        st = status(run(d, "--security-opt", opt, "busybox", "cat", "/proc/self/status").stdout)
        assert st["NoNewPrivs"] == "1", opt
    st = status(run(d, "--security-opt", "no-new-privileges=false", "busybox", "cat", "/proc/self/status").stdout)
    assert st["NoNewPrivs"] == "0"


def _mounts(d, *args) -> dict[str, tuple[str, str]]:
    """mount point -> (root of the mount, per-mount options) inside a container."""
    out = {}
    for line in run(d, *args, "busybox", "cat", "/proc/self/mountinfo").stdout.splitlines():
        f = line.split()
        out[f[4]] = (f[3], f[5])
    return out


def test_masked_and_readonly_paths(d):
    mounts = _mounts(d)
    masked = [p for p in D.MASKED_PATHS if os.path.exists(p)]
    readonly = [p for p in D.READONLY_PATHS if os.path.exists(p)]
    assert "/proc/keys" in masked and "/proc/sys" in readonly  # the host has these
    for p in masked:
        assert p in mounts, f"{p} is not masked"
        root, opts = mounts[p]
        if os.path.isdir(p):
            assert opts.split(",")[0] == "ro", (p, opts)   # an empty read-only tmpfs
        else:
            assert root == "/null", (p, root)               # /dev/null bound over it
    for p in readonly:
        assert mounts[p][1].split(",")[0] == "ro", (p, mounts[p])
    script = "; ".join(f"wc -c < {p}" for p in masked if not os.path.isdir(p))
    sizes = run(d, "busybox", "sh", "-c", script).stdout.split()
    assert sizes and set(sizes) == {"0"}
    out = run(d, "busybox", "sh", "-c", "echo x > /proc/sys/kernel/domainname; echo 1 > /proc/sys/vm/drop_caches; "
              "ls /sys/firmware | wc -l", check=False)
    assert out.stderr.count("Read-only file system") == 2, out.stderr
    assert out.stdout.strip() == "0"
    # --privileged and systempaths=unconfined get none of them
    priv = _mounts(d, "--privileged")
    assert not [p for p in masked + readonly if p in priv]
    unconfined = _mounts(d, "--security-opt", "systempaths=unconfined")
    assert not [p for p in masked + readonly if p in unconfined]


def test_no_runtime_or_daemon_fds_in_the_container(d):
    out = run(d, "busybox", "sh", "-c", "ls /proc/1/fd; echo --; ls /proc/self/fd").stdout
    init, _, me = out.partition("--")
    assert sorted(init.split(), key=int) == ["0", "1", "2"]
    assert sorted(me.split(), key=int) == ["0", "1", "2", "3"]
    out = run(d, "-i", "busybox", "ls", "-l", "/proc/self/fd").stdout
    assert not any(w in out for w in ("shim.sock", ".sock", "state.json", "config.json", "exec.fifo", "dockyard.db"))


def test_read_only_rootfs(d):
    out = run(d, "--read-only", "busybox", "sh", "-c", "touch /x; touch /tmp/x; touch /dev/shm/ok && echo shm-ok",
              check=False)
    assert out.stderr.count("Read-only file system") == 2 and "shm-ok" in out.stdout
    out = run(d, "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c", "touch /tmp/x && echo tmp-ok")
    assert "tmp-ok" in out.stdout


def test_user_option(d):
    out = run(d, "--user", "1000:1000", "busybox", "sh", "-c", "id; cat /proc/self/status").stdout
    assert "uid=1000 gid=1000" in out
    st = status(out)
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0  # no capabilities for a non-root user
    assert int(st["CapBnd"], 16) == 0xA80425FB
    out = run(d, "--user", "nobody", "busybox", "id").stdout
    assert "uid=65534" in out


def test_privileged_gets_every_capability_this_host_can_give(d):
    """This host lacks CAP_SYS_RESOURCE; privileged containers get everything else (runc's
    privileged config, which asks for every capability, fails here)."""
    host = host_bounding()
    assert not host & (1 << CAP_BY_NUMBER.index("CAP_SYS_RESOURCE")) or host == caps_mask(CAP_BY_NUMBER)
    st = status(run(d, "--privileged", "busybox", "cat", "/proc/self/status").stdout)
    assert int(st["CapEff"], 16) == host and int(st["CapBnd"], 16) == host
    assert st["Seccomp"] == "0"
    devs = run(d, "--privileged", "busybox", "ls", "/dev").stdout.split()
    assert len(devs) > 20  # the host's devices


def test_cap_add_and_drop(d):
    def eff(*args):
        return int(status(run(d, *args, "busybox", "cat", "/proc/self/status").stdout)["CapEff"], 16)
    default = caps_mask(D.DEFAULT_CAPABILITIES)
    assert eff("--cap-drop", "ALL") == 0
    assert eff("--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE") == caps_mask(["CAP_NET_BIND_SERVICE"])
    assert eff("--cap-drop", "chown", "--cap-drop", "CAP_KILL") == default & ~caps_mask(["CAP_CHOWN", "CAP_KILL"])
    assert eff("--cap-add", "ALL") == host_bounding()
    assert eff("--cap-add", "ALL", "--cap-drop", "SYS_ADMIN") == host_bounding() & ~caps_mask(["CAP_SYS_ADMIN"])
    assert eff("--cap-add", "SYS_RESOURCE") & caps_mask(["CAP_SYS_RESOURCE"]) == host_bounding() & caps_mask(
        ["CAP_SYS_RESOURCE"])  # discarded where the host does not hold it
    out = run(d, "--cap-drop", "CHOWN", "busybox", "chown", "5", "/tmp", check=False)
    assert out.returncode != 0 and "Operation not permitted" in out.stderr
    # a granted capability opens its seccomp group: CAP_SYS_ADMIN may mount
    out = run(d, "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c", "mkdir /m && mount -t tmpfs t /m && echo mounted")
    assert "mounted" in out.stdout
    out = run(d, "busybox", "sh", "-c", "mkdir /m && mount -t tmpfs t /m", check=False)
    assert out.returncode != 0
    bad = run(d, "--cap-add", "NOT_A_CAP", "busybox", "true", check=False)
    assert bad.returncode != 0 and "unknown capability" in bad.stderr


def test_seccomp_profile_file_and_unconfined(d, tmp_path):
    prof = tmp_path / "profile.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}))
    out = run(d, "--security-opt", f"seccomp={prof}", "busybox", "sh", "-c",
              "grep Seccomp: /proc/self/status; mkdir /x", check=False)
    assert "Seccomp:\t2" in out.stdout and "Permission denied" in out.stderr
    out = run(d, "--security-opt", "seccomp=unconfined", "busybox", "sh", "-c",
              "grep Seccomp: /proc/self/status; unshare -U true && echo userns-created")
    assert "Seccomp:\t0" in out.stdout and "userns-created" in out.stdout
    out = run(d, "busybox", "unshare", "-U", "true", check=False)
    assert out.returncode != 0 and "Operation not permitted" in out.stderr
    # a Docker-format profile with archMap and capability conditions
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [{"names": ["chown", "fchownat", "lchown"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                     {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                      "includes": {"caps": ["CAP_SYS_ADMIN"]}}] + [
            {"names": [n for n in seccomp_rules.ALWAYS if "chown" not in n] + ["socket", "clone", "arch_prctl"],
             "action": "SCMP_ACT_ALLOW"}]}))
    out = run(d, "--security-opt", f"seccomp={prof}", "busybox", "sh", "-c", "mkdir /x && echo made; chown 5 /x",
              check=False)
    assert "made" in out.stdout and "Operation not permitted" in out.stderr
    # a bad profile: a clear error, and the daemon keeps serving
    prof.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "NOPE"}]}')
    bad = run(d, "--security-opt", f"seccomp={prof}", "busybox", "true", check=False)
    assert bad.returncode != 0 and "Error loading seccomp profile: syscalls[0].action" in bad.stderr
    assert run(d, "busybox", "true").returncode == 0


def test_userns_host_on_a_daemon_without_remapping(d):
    out = run(d, "--userns", "host", "busybox", "cat", "/proc/self/uid_map").stdout.split()
    assert out == ["0", "0", "4294967295"]
    bad = run(d, "--userns", "private", "busybox", "true", check=False)
    assert bad.returncode != 0 and "invalid USER mode" in bad.stderr
