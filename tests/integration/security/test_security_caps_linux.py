"""capabilities.drop_to on the real kernel: a forked child drops, then reports its sets."""
import errno
import os

import pytest

from dockyard.kernel.linux import LinuxSyscalls
from dockyard.runtime import capabilities as caps
from dockyard.spec.runtime import Capabilities

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (capability bounding set and uid changes)"),
]

BUSYBOX = "/bin/busybox"
RUNC_DEFAULT = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
DOCKER_DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]


def status_caps(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        if line.startswith("Cap"):
            k, v = line.split(":")
            out[k] = int(v, 16)
    return out


def own_status() -> str:
    with open("/proc/self/status") as f:
        return f.read()


def host_caps() -> int:
    c = status_caps(own_status())
    return c["CapPrm"] & c["CapBnd"]


def same(names):
    return Capabilities(list(names), list(names), list(names), list(names), list(names))


def test_runc_default_caps_exact_masks(child):
    def body():
        caps.drop_to(LinuxSyscalls(), same(RUNC_DEFAULT), 0, 0, [])
        return own_status()

    status, out = child(body)
    assert status == 0, out
    m = caps.mask(RUNC_DEFAULT)
    assert status_caps(out) == {"CapInh": m, "CapPrm": m, "CapEff": m, "CapBnd": m, "CapAmb": m}


def test_docker_default_caps_survive_exec_as_root(child):
    c = Capabilities(DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS, [], [])

    def body():
        caps.drop_to(LinuxSyscalls(), c, 0, 0, [])
        os.execv(BUSYBOX, ["busybox", "grep", "Cap", "/proc/self/status"])

    status, out = child(body)
    assert status == 0, out
    m = caps.mask(DOCKER_DEFAULT_CAPS)
    assert status_caps(out) == {"CapInh": 0, "CapPrm": m, "CapEff": m, "CapBnd": m, "CapAmb": 0}


def test_non_root_user_keeps_ambient_caps_across_exec(child):
    bind = ["CAP_NET_BIND_SERVICE"]
    c = Capabilities(DOCKER_DEFAULT_CAPS, bind, bind, bind, bind)

    def body():
        caps.drop_to(LinuxSyscalls(), c, 1000, 1001, [5, 6])
        os.execv(BUSYBOX, ["busybox", "grep", "-E", "^(Cap|Uid|Gid|Groups)", "/proc/self/status"])

    status, out = child(body)
    assert status == 0, out
    b = 1 << caps.CAP_NAMES["CAP_NET_BIND_SERVICE"]
    assert status_caps(out) == {"CapInh": b, "CapPrm": b, "CapEff": b, "CapBnd": caps.mask(DOCKER_DEFAULT_CAPS), "CapAmb": b}
    lines = dict(line.split(":", 1) for line in out.splitlines())
    assert lines["Uid"].split() == ["1000"] * 4
    assert lines["Gid"].split() == ["1001"] * 4
    assert lines["Groups"].split() == ["5", "6"]


def test_non_root_user_without_caps_has_none_after_exec(child):
    def body():
        caps.drop_to(LinuxSyscalls(), Capabilities(RUNC_DEFAULT, RUNC_DEFAULT, RUNC_DEFAULT, [], []), 1000, 1000, [])
        os.execv(BUSYBOX, ["busybox", "grep", "Cap", "/proc/self/status"])

    status, out = child(body)
    assert status == 0, out
    assert status_caps(out) == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": caps.mask(RUNC_DEFAULT), "CapAmb": 0}


def test_all_caps_grant_what_the_host_can_give(child):
    """A --privileged request names every capability; this host's process lacks some
    (CAP_SYS_RESOURCE here): no error, and the child gets all the rest."""
    def body():
        caps.drop_to(LinuxSyscalls(), same(caps.CAP_NAMES), 0, 0, [])
        return own_status()

    status, out = child(body)
    assert status == 0, out
    h = host_caps()
    assert status_caps(out) == {"CapInh": h, "CapPrm": h, "CapEff": h, "CapBnd": h, "CapAmb": h}


@pytest.mark.parametrize("keep_chown", [True, False])
def test_dropped_cap_chown_makes_chown_fail(child, tmp_path, keep_chown):
    target = tmp_path / "f"
    target.write_text("x")
    names = ["CAP_CHOWN"] if keep_chown else ["CAP_KILL"]

    def body():
        caps.drop_to(LinuxSyscalls(), same(names), 0, 0, [])
        try:
            os.chown(target, 1234, 1234)
            return "chown ok"
        except OSError as e:
            return f"chown errno {e.errno}"

    status, out = child(body)
    assert status == 0, out
    if keep_chown:
        assert out == "chown ok"
        assert target.stat().st_uid == 1234
    else:
        assert out == f"chown errno {errno.EPERM}"
        assert target.stat().st_uid == 0


def test_unknown_capability_fails_in_the_child_before_any_change(child):
    def body():
        c = same(RUNC_DEFAULT)
        c.bounding.append("CAP_NOPE")
        try:
            caps.drop_to(LinuxSyscalls(), c, 1000, 1000, [])
        except caps.CapabilityError as e:
            return f"{e}|{os.getuid()}|{status_caps(own_status())['CapBnd']}"
        return "no error"

    status, out = child(body)
    assert status == 0, out
    msg, uid, bnd = out.split("|")
    assert msg == 'unknown capability "CAP_NOPE"'
    assert uid == "0" and int(bnd) == status_caps(own_status())["CapBnd"]
