"""Each part of config.json, checked from inside a real container (needs root)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

pytestmark = pytest.mark.root


def out(rt, spec):
    p = rt.run(spec=spec)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_hostname_domainname_env_cwd(rt):
    s = rt.spec(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname; echo $GREETING; pwd"], hostname="boxy",
                domainname="example.org")
    s["process"]["env"].append("GREETING=hi there")
    s["process"]["cwd"] = "/tmp"
    assert out(rt, s).splitlines() == ["boxy", "example.org", "hi there", "/tmp"]


def test_user_groups_umask(rt):
    s = rt.spec(["sh", "-c", "id; umask; echo $HOME"])
    s["process"]["user"] = {"uid": 1234, "gid": 5678, "additionalGids": [11, 12], "umask": 0o077}
    lines = out(rt, s).splitlines()
    assert lines[0].startswith("uid=1234 gid=5678") and "groups=" in lines[0] and "11" in lines[0] and "12" in lines[0]
    assert lines[1] == "0077"
    assert lines[2] == "/"  # uid 1234 has no passwd entry -> HOME=/
    s["process"]["user"] = {"uid": 0, "gid": 0}
    s["process"]["args"] = ["sh", "-c", "echo $HOME"]
    assert out(rt, s).strip() == "/root"


def test_rlimits_oom_score_nnp(rt):
    s = rt.spec(["sh", "-c", "ulimit -n; cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status"])
    s["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]
    s["process"]["oomScoreAdj"] = 500
    s["process"]["noNewPrivileges"] = True
    lines = out(rt, s).splitlines()
    assert lines[0] == "321" and lines[1] == "500" and lines[2].split() == ["NoNewPrivs:", "1"]
    s["process"]["noNewPrivileges"] = False
    assert out(rt, s).splitlines()[2].split() == ["NoNewPrivs:", "0"]


def test_masked_and_readonly_paths(rt):
    # /proc/kcore is absent on some kernels (this machine's): check every masked file the host has
    masked = [p for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list") if os.path.exists(p)]
    assert masked
    s = rt.spec(["sh", "-c", "".join(f"wc -c < {p}; " for p in masked) + "ls /sys/firmware | wc -l; "
                 "echo 1 > /proc/sys/kernel/domainname && echo WROTE || echo REFUSED"])
    lines = out(rt, s).split()
    assert lines == ["0"] * len(masked) + ["0", "REFUSED"]


def test_readonly_root(rt):
    s = rt.spec(["sh", "-c", "touch /newfile 2>&1; echo rc=$?; touch /tmp/x 2>&1; echo rc=$?"])
    s["root"]["readonly"] = True
    s["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]})
    o = out(rt, s)
    assert "Read-only file system" in o and "rc=1" in o and o.strip().endswith("rc=0")
    assert not os.path.exists(os.path.join(rt.rootfs, "newfile"))


def test_capabilities_dropped_make_mount_fail(rt):
    cmd = ["sh", "-c", "mkdir -p /mnt/t; mount -t tmpfs none /mnt/t && echo MOUNTED || echo DENIED; grep CapBnd /proc/self/status"]
    s = rt.spec(cmd)
    assert out(rt, s).split()[0] == "DENIED"  # default caps: no CAP_SYS_ADMIN
    caps = ["CAP_SYS_ADMIN", "CAP_KILL"]
    s["process"]["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
    o = out(rt, s).split()
    assert o[0] == "MOUNTED"
    assert int(o[2], 16) == (1 << 21) | (1 << 5)


def test_seccomp_rule_returns_errno(rt):
    s = rt.spec(["sh", "-c", "mkdir /tmp/blocked 2>&1; echo rc=$?; touch /tmp/ok && echo touched"])
    s["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }
    o = out(rt, s)
    assert "Permission denied" in o and "rc=1" in o and "touched" in o


def test_memory_limit_oom_kill_visible_in_cgroup(rt):
    s = rt.spec(["sh", "-c", "dd if=/dev/zero of=/dev/null bs=200M count=1; echo survived"])
    s["linux"]["resources"]["memory"] = {"limit": 32 << 20, "swap": 32 << 20}
    b = rt.bundle(s)
    rt("create", "--bundle", b, "oom")
    dirs = rt.cgroup_dirs("oom")
    mem = [d for d in dirs if "/memory/" in d][0]
    assert int(open(os.path.join(mem, "memory.limit_in_bytes")).read()) == 32 << 20
    rt("start", "oom")
    for _ in range(200):
        if rt.state("oom")["status"] == "stopped":
            break
        time.sleep(0.05)
    assert rt.state("oom")["status"] == "stopped"
    oc = dict(line.split() for line in open(os.path.join(mem, "memory.oom_control")))
    assert int(oc["oom_kill"]) >= 1
    # the runtime's own cgroup is the parent: never at the hierarchy root
    own = [line.split(":")[2].strip() for line in open("/proc/self/cgroup") if ":memory:" in line][0]
    assert mem.startswith(os.path.join("/sys/fs/cgroup/memory", own.lstrip("/")) + "/")
    rt("delete", "oom")
    assert not os.path.exists(mem)


def test_pids_limit(rt):
    s = rt.spec(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>&1; echo done"])
    s["linux"]["resources"]["pids"] = {"limit": 4}
    o = rt.run(spec=s).stdout
    assert "can't fork" in o or "Resource temporarily unavailable" in o


@pytest.fixture
def public_rootfs(rt):
    """A rootfs the container's mapped root can reach (pytest's tmp dirs are 0700 root)."""
    d = tempfile.mkdtemp(prefix="dockyard-test-userns-", dir="/var/tmp")
    try:
        os.chmod(d, 0o755)
        subprocess.run(["cp", "-a", rt.rootfs, os.path.join(d, "rootfs")], check=True)
        yield os.path.join(d, "rootfs")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_user_namespace_maps_root(rt, tmp_path, public_rootfs):
    s = rt.spec(["sh", "-c", "cat /proc/self/uid_map; id -u; sleep 1000"])
    s["root"]["path"] = public_rootfs
    s["linux"]["namespaces"].append({"type": "user"})
    s["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    s["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b = rt.bundle(s)
    with open(tmp_path / "o", "w") as f:
        rt("run", "-d", "--bundle", b, "uns", stdout=f)
    pid = rt.state("uns")["pid"]
    for _ in range(100):
        if (tmp_path / "o").read_text().count("\n") >= 2:
            break
        time.sleep(0.02)
    lines = (tmp_path / "o").read_text().split("\n")
    assert lines[0].split() == ["0", "100000", "65536"] and lines[1] == "0"
    status = open(f"/proc/{pid}/status").read()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1] == "100000"
    rt("delete", "-f", "uns")


def test_join_network_namespace_by_path(rt):
    holder = subprocess.Popen(["unshare", "--net", "sleep", "100"])
    try:
        time.sleep(0.2)
        target = os.readlink(f"/proc/{holder.pid}/ns/net")
        s = rt.spec(["readlink", "/proc/self/ns/net"])
        for ns in s["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = f"/proc/{holder.pid}/ns/net"
        assert out(rt, s).strip() == target
    finally:
        holder.kill()
        holder.wait()


def test_mounts_bind_ro_tmpfs_and_devices(rt, tmp_path):
    host = tmp_path / "shared"
    host.mkdir()
    (host / "greeting").write_text("from the host\n")
    s = rt.spec(["sh", "-c", "cat /data/greeting; touch /data/x 2>&1; echo rc=$?; "
                 "grep ' /scratch ' /proc/mounts | cut -d' ' -f3; ls -l /dev/fuse | cut -c1; ls /dev"])
    s["mounts"] += [
        {"destination": "/data", "type": "bind", "source": str(host), "options": ["rbind", "ro", "rprivate"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
    ]
    s["linux"]["devices"] = [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 0o666}]
    o = out(rt, s).splitlines()
    assert o[0] == "from the host" and "Read-only" in o[1] and o[2] == "rc=1"
    assert o[3] == "tmpfs" and o[4] == "c"
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "stdin"):
        assert dev in o[5:], f"/dev/{dev} missing: {o[5:]}"
    assert not (host / "x").exists()


def test_mount_target_symlink_cannot_escape(rt, tmp_path):
    rootfs = tmp_path / "evilroot"
    subprocess.run(["cp", "-a", rt.rootfs, str(rootfs)], check=True)
    os.symlink("/../../../../../../tmp", rootfs / "escape")
    s = rt.spec(["sh", "-c", "ls /escape/inside"])
    s["root"]["path"] = str(rootfs)
    s["mounts"].append({"destination": "/escape/inside", "type": "tmpfs", "source": "tmpfs"})
    out(rt, s)
    assert not os.path.exists("/tmp/inside"), "a mount target followed a symlink out of the rootfs"
    assert (rootfs / "tmp" / "inside").is_dir()


def test_sysctl_in_network_namespace(rt):
    s = rt.spec(["cat", "/proc/sys/net/ipv4/ip_forward"])
    s["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    assert out(rt, s).strip() == "1"
    s["linux"]["sysctl"] = {"kernel.panic": "1"}
    p = rt.run(spec=s)
    assert p.returncode != 0 and "kernel.panic" in p.stderr


def test_hooks_run_in_order_with_state(rt, tmp_path):
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\nread state\necho \"$1 $state\" >> {log}\n")
    script.chmod(0o755)
    hooks = {k: [{"path": str(script), "args": ["hook.sh", k]}]
             for k in ("prestart", "createRuntime", "poststart", "poststop")}
    # createContainer resolves in the runtime namespace; startContainer in the container's
    hooks["createContainer"] = [{"path": str(script), "args": ["hook.sh", "createContainer"]}]
    hooks["startContainer"] = [{"path": "/bin/true", "args": ["true"]}]
    s = rt.spec(["true"], hooks=hooks)
    assert rt.run(spec=s, cid="hooked").returncode == 0
    entries = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert [e[0] for e in entries] == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
    st = json.loads(entries[0][1])
    assert st["id"] == "hooked" and st["pid"] > 0 and st["bundle"]


def test_failing_prestart_hook_leaves_nothing(rt, tmp_path):
    s = rt.spec(["true"], hooks={"prestart": [{"path": "/bin/false"}]})
    p = rt("create", "--bundle", rt.bundle(s), "badhook", check=False)
    assert p.returncode != 0 and "prestart hook" in p.stderr
    assert rt("list", "-q").stdout.strip() == ""


def test_terminal_over_console_socket(rt, tmp_path):
    sock_path = str(tmp_path / "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    got = {}

    def accept():
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        got["fd"], got["name"] = fds[0], msg.decode()
        conn.close()

    t = threading.Thread(target=accept)
    t.start()
    s = rt.spec(["sh", "-c", "tty; stty size; echo on-the-pty"])
    s["process"]["terminal"] = True
    s["process"]["consoleSize"] = {"height": 30, "width": 100}
    b = rt.bundle(s)
    rt("create", "--bundle", b, "--console-socket", sock_path, "tty1")
    t.join(5)
    assert got["name"].startswith("/dev/pts/")
    rt("start", "tty1")
    data = b""
    master = got["fd"]
    deadline = time.monotonic() + 5
    while b"on-the-pty" not in data and time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        data += chunk
    os.close(master)
    srv.close()
    text = data.decode()
    assert "/dev/pts/0" in text or "/dev/console" in text
    assert "30 100" in text and "on-the-pty" in text
