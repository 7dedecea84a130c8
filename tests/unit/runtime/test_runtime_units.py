"""Unit tests of the runtime's logic, without root: spec parsing, paths, mount plans (recording kernel)."""
import json
import os

import pytest

from dockyard.kernel import consts as C
from dockyard.kernel.fake import RecordingSyscalls
from dockyard.runtime import mounts, rootfs
from dockyard.runtime.commands.kill import parse_signal
from dockyard.runtime.container import validate_spec
from dockyard.runtime.defaults import default_spec
from dockyard.runtime.errors import RuntimeFailure
from dockyard.runtime.paths import create_mount_target, secure_join
from dockyard.runtime.process import env_with_home, lookpath
from dockyard.runtime.state import validate_id
from dockyard.spec.runtime import Spec, SpecError, load_spec


def spec_dict(**changes):
    d = default_spec()
    d.update(changes)
    return d


# ---- config.json parsing -------------------------------------------------

def test_default_spec_parses():
    s = Spec.from_dict(default_spec())
    assert s.process.args == ["sh"] and s.root_path == "rootfs" and s.root_readonly
    assert [n.type for n in s.linux.namespaces] == ["pid", "network", "ipc", "uts", "mount"]
    assert s.process.capabilities.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert s.linux.resources.devices[0].allow is False


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: d["linux"]["namespaces"].append({"type": "bogus"}), "unknown namespace type 'bogus'"),
    (lambda d: d["linux"]["namespaces"].append({"type": "pid"}), "listed twice"),
    (lambda d: d.pop("ociVersion"), "ociVersion is required"),
    (lambda d: d.update(ociVersion="2.0.0"), "not supported"),
    (lambda d: d.pop("root"), "root.path is required"),
    (lambda d: d["process"].update(args="sh"), "process.args must be a list of strings"),
    (lambda d: d["process"].update(cwd="relative"), "absolute path"),
    (lambda d: d["process"]["user"].update(uid="0"), "uid must be an integer"),
    (lambda d: d["process"].update(rlimits=[{"type": "NOFILE", "soft": 1, "hard": 1}]), "unknown rlimit"),
    (lambda d: d["linux"].update(rootfsPropagation="weird"), "unknown propagation"),
    (lambda d: d["linux"]["resources"]["devices"][0].update(access="rwx"), "access must be made of"),
    (lambda d: d["linux"].update(devices=[{"type": "c", "path": "/etc/passwd"}]), "must be under /dev"),
    (lambda d: d.update(hooks={"prestart": [{"path": "relative"}]}), "absolute path"),
    (lambda d: d["linux"].update(seccomp={"syscalls": []}), "defaultAction is required"),
    (lambda d: d["linux"].update(namespaces=[{"type": "mount"}]), "requires a private uts namespace"),
])
def test_invalid_specs_name_the_field(mutate, needle):
    d = default_spec()
    mutate(d)
    with pytest.raises(SpecError) as e:
        Spec.from_dict(d)
    assert needle in str(e.value)


def test_load_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(str(tmp_path / "config.json"))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(SpecError, match="invalid JSON"):
        load_spec(str(tmp_path / "config.json"))
    (tmp_path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(SpecError, match="must be an object"):
        load_spec(str(tmp_path / "config.json"))


def test_validate_spec_rules():
    s = Spec.from_dict(default_spec())
    with pytest.raises(RuntimeFailure, match="console-socket"):
        validate_spec(s, console_socket=False)  # terminal: true, detached
    s.process.terminal = False
    validate_spec(s, console_socket=False)
    d = default_spec()
    d["linux"]["namespaces"].append({"type": "user"})
    with pytest.raises(RuntimeFailure, match="uidMappings"):
        validate_spec(Spec.from_dict(d), console_socket=True)
    d = default_spec()
    d["linux"]["sysctl"] = {"kernel.panic": "1"}
    with pytest.raises(RuntimeFailure, match="kernel.panic"):
        validate_spec(Spec.from_dict(d), console_socket=True)
    d["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1"}
    validate_spec(Spec.from_dict(d), console_socket=True)
    d = default_spec()
    d["linux"]["namespaces"] = [n for n in d["linux"]["namespaces"] if n["type"] != "mount"]
    with pytest.raises(RuntimeFailure, match="mount namespace"):
        validate_spec(Spec.from_dict(d), console_socket=True)


def test_container_ids():
    for good in ("abc", "a-b_c.d+e", "X1"):
        validate_id(good)
    for bad in ("", "..", "a/b", "a b", "x;y"):
        with pytest.raises(RuntimeFailure):
            validate_id(bad)


def test_signals():
    assert parse_signal("TERM") == 15 and parse_signal("SIGKILL") == 9 and parse_signal("10") == 10
    assert parse_signal("winch") == 28
    with pytest.raises(RuntimeFailure):
        parse_signal("NOPE")
    with pytest.raises(RuntimeFailure):
        parse_signal("99")


# ---- paths inside the rootfs ----------------------------------------------

def test_secure_join_never_leaves_root(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/", root / "toroot")
    os.symlink("../../../../..", root / "etc" / "up")
    os.symlink("/etc", root / "abs")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    r = str(root)
    assert secure_join(r, "/toroot/etc/passwd") == f"{r}/etc/passwd"
    assert secure_join(r, "../../etc") == f"{r}/etc"
    assert secure_join(r, "/etc/up/tmp") == f"{r}/tmp"
    assert secure_join(r, "/abs/x") == f"{r}/etc/x"
    with pytest.raises(OSError):
        secure_join(r, "/loop1/x")


def test_create_mount_target_makes_file_or_dir(tmp_path):
    root = str(tmp_path)
    os.symlink("/tmp", tmp_path / "evil")
    d = create_mount_target(root, "/evil/a/b", True)
    assert d == f"{root}/tmp/a/b" and os.path.isdir(d)
    f = create_mount_target(root, "/etc/resolv.conf", False)
    assert os.path.isfile(f)


# ---- mount option parsing and mount plans -----------------------------------

def test_parse_options():
    o = mounts.parse_options(["nosuid", "noexec", "ro", "mode=755", "size=65536k", "rprivate", "tmpcopyup"])
    assert o.flags == C.MS_NOSUID | C.MS_NOEXEC | C.MS_RDONLY
    assert o.propagation == [C.MS_PRIVATE | C.MS_REC]
    assert o.data == "mode=755,size=65536k"
    assert mounts.parse_options(["ro", "rw"]).flags == 0
    assert mounts.parse_options(["rbind"]).flags == C.MS_BIND | C.MS_REC


def test_prepare_mounts_in_order(tmp_path):
    root = tmp_path / "rootfs"
    root.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    d = default_spec()
    d["mounts"] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "bind", "source": str(src), "options": ["rbind", "ro"]},
        {"destination": "/data", "type": "bind", "source": str(src), "options": ["bind", "rslave"]},
    ]
    sys = RecordingSyscalls()
    rootfs.prepare(sys, Spec.from_dict(d), str(root), str(tmp_path), userns=False)
    m = sys.of("mount")
    assert m[0] == (None, "/", None, C.MS_SLAVE | C.MS_REC, None)
    assert m[1] == (str(root), str(root), None, C.MS_BIND | C.MS_REC, None)
    assert m[2] == ("proc", f"{root}/proc", "proc", 0, None)
    assert m[3] == (str(src), f"{root}/dev", None, C.MS_BIND | C.MS_REC, None)
    assert m[4][1] == f"{root}/dev" and m[4][3] & (C.MS_REMOUNT | C.MS_RDONLY | C.MS_BIND) == C.MS_REMOUNT | C.MS_RDONLY | C.MS_BIND
    assert m[5] == (str(src), f"{root}/data", None, C.MS_BIND, None)
    assert m[6] == (None, f"{root}/data", None, C.MS_SLAVE | C.MS_REC, None)
    assert len(m) == 7  # /dev is bound: no device nodes made


def test_pivot_sequence(tmp_path, monkeypatch):
    sys = RecordingSyscalls()
    monkeypatch.setattr(os, "chdir", lambda p: None)
    monkeypatch.setattr(os, "fchdir", lambda fd: None)
    rootfs.pivot(sys, str(tmp_path))
    assert sys.names() == ["pivot_root", "mount", "umount2"]
    assert sys.of("pivot_root") == [(".", ".")]
    assert sys.of("umount2") == [(".", C.MNT_DETACH)]


def test_mask_and_readonly_paths(tmp_path):
    sys = RecordingSyscalls()
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("")
    rootfs.mask_paths(sys, [str(tmp_path / "dir"), str(tmp_path / "file")])
    assert sys.of("mount") == [("tmpfs", str(tmp_path / "dir"), "tmpfs", C.MS_RDONLY, None),
                               ("/dev/null", str(tmp_path / "file"), None, C.MS_BIND, None)]
    sys = RecordingSyscalls()
    sys.fail["mount"] = 2  # ENOENT: skipped silently
    rootfs.readonly_paths(sys, ["/nonexistent"])
    assert len(sys.of("mount")) == 1


def test_lookpath_and_home(tmp_path):
    assert lookpath("sh", ["PATH=/bin:/usr/bin"]) in ("/bin/sh", "/usr/bin/sh")
    with pytest.raises(RuntimeFailure, match='exec: "nope-x": executable file not found'):
        lookpath("nope-x", ["PATH=/bin"])
    pw = tmp_path / "passwd"
    pw.write_text("root:x:0:0:root:/root:/bin/sh\nu:x:7:7::/home/u:/bin/sh\n")
    assert env_with_home([], 7, str(pw)) == ["HOME=/home/u"]
    assert env_with_home(["HOME=/x"], 7, str(pw)) == ["HOME=/x"]
    assert env_with_home([], 99, str(pw)) == ["HOME=/"]


def test_parent_mount_finds_the_topmost_longest_prefix(tmp_path):
    mi = tmp_path / "mountinfo"
    mi.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "30 22 0:5 / /var rw shared:4 - tmpfs tmpfs rw\n"
        "31 30 0:6 / /var/lib rw - tmpfs tmpfs rw\n"
        "32 22 0:7 / /var/lib\\040x rw shared:9 - tmpfs tmpfs rw\n")
    assert rootfs.parent_mount("/var/lib/c/rootfs", str(mi)) == ("/var/lib", False)
    assert rootfs.parent_mount("/var/other", str(mi)) == ("/var", True)
    assert rootfs.parent_mount("/var/lib x/r", str(mi)) == ("/var/lib x", True)
    assert rootfs.parent_mount("/home", str(mi)) == ("/", True)


def test_lookpath_refuses_directories_and_non_executables(tmp_path):
    (tmp_path / "noexec").write_text("#!/bin/sh\n")
    with pytest.raises(RuntimeFailure, match="permission denied"):
        lookpath(str(tmp_path / "noexec"), [])
    with pytest.raises(RuntimeFailure, match="permission denied"):
        lookpath(str(tmp_path), [])
    with pytest.raises(RuntimeFailure, match="no such file"):
        lookpath(str(tmp_path / "absent"), [])
