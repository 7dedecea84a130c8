"""capabilities: names and masks, and the exact call sequence of drop_to on a recording kernel."""
import pytest

from dockyard.kernel import consts as C
from dockyard.kernel.fake import RecordingSyscalls
from dockyard.runtime import capabilities as caps
from dockyard.spec.runtime import Capabilities

LAST = 40
ALL = (1 << 41) - 1
RUNC_DEFAULT = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
RUNC_MASK = (1 << 29) | (1 << 5) | (1 << 10)
DOCKER_DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]


def same(names):
    return Capabilities(list(names), list(names), list(names), list(names), list(names))


class OsRecorder:
    """Stands in for the os module's id calls, recording into the same call list."""

    def __init__(self, sys):
        self.sys = sys

    def setgroups(self, gids):
        self.sys.calls.append(("setgroups", list(gids)))

    def setresgid(self, r, e, s):
        self.sys.calls.append(("setresgid", r, e, s))

    def setresuid(self, r, e, s):
        self.sys.calls.append(("setresuid", r, e, s))
        if r != 0:  # the kernel clears effective on leaving uid 0 (permitted kept with KEEPCAPS)
            eff, perm, inh = self.sys.caps
            self.sys.caps = (0, perm, inh)


def read_calls(n=LAST):
    return [("prctl", C.PR_CAPBSET_READ, nr, 0, 0, 0) for nr in range(n + 1)]


def test_cap_names_cover_0_to_40_once():
    assert sorted(caps.CAP_NAMES.values()) == list(range(41))
    assert caps.CAP_NAMES["CAP_CHOWN"] == 0 and caps.CAP_NAMES["CAP_SYS_ADMIN"] == 21
    assert caps.CAP_NAMES["CAP_SYS_RESOURCE"] == 24 and caps.CAP_NAMES["CAP_SETFCAP"] == 31
    assert caps.CAP_NAMES["CAP_AUDIT_READ"] == 37 and caps.CAP_NAMES["CAP_CHECKPOINT_RESTORE"] == 40


def test_last_cap_reads_the_kernel():
    with open("/proc/sys/kernel/cap_last_cap") as f:
        assert caps.last_cap() == int(f.read())


def test_mask():
    assert caps.mask(RUNC_DEFAULT, LAST) == RUNC_MASK
    assert caps.mask([], LAST) == 0
    assert caps.mask(list(caps.CAP_NAMES), LAST) == ALL
    assert caps.names(RUNC_MASK) == ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]


def test_mask_ignores_caps_the_kernel_does_not_know():
    assert caps.mask(["CAP_CHOWN", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"], last=37) == 1


@pytest.mark.parametrize("name", ["CAP_FOO", "chown", "CAP_chown", ""])
def test_mask_rejects_unknown_names(name):
    with pytest.raises(caps.CapabilityError) as e:
        caps.mask(["CAP_CHOWN", name], LAST)
    assert str(e.value) == f'unknown capability "{name}"'


def test_drop_to_runc_default_as_root_exact_sequence():
    sys = RecordingSyscalls()
    caps.drop_to(sys, same(RUNC_DEFAULT), 0, 0, [], OsRecorder(sys), last=LAST)
    dropped = [nr for nr in range(41) if not (RUNC_MASK >> nr) & 1]
    assert sys.calls == [
        ("prctl", C.PR_SET_KEEPCAPS, 1, 0, 0, 0),
        *read_calls(),
        *[("prctl", C.PR_CAPBSET_DROP, nr, 0, 0, 0) for nr in dropped],
        ("setgroups", []),
        ("setresgid", 0, 0, 0),
        ("setresuid", 0, 0, 0),
        ("capget",),
        *read_calls(),
        ("capset", RUNC_MASK, RUNC_MASK, RUNC_MASK),
        ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
        ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, 5, 0, 0),
        ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, 10, 0, 0),
        ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, 29, 0, 0),
        ("prctl", C.PR_SET_KEEPCAPS, 0, 0, 0, 0),
    ]
    assert sys.bounding == RUNC_MASK and sys.ambient == RUNC_MASK


def test_drop_to_docker_defaults_as_user_1000():
    """Docker's 14 default caps, bounding/effective/permitted; no inheritable or ambient."""
    sys = RecordingSyscalls()
    want = caps.mask(DOCKER_DEFAULT_CAPS, LAST)
    c = Capabilities(DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS, [], [])
    caps.drop_to(sys, c, 1000, 1000, [10, 20], OsRecorder(sys), last=LAST)
    names = sys.names()
    # ids change after the bounding set is cut and before capset
    assert names.index("setgroups") > max(i for i, c in enumerate(sys.calls) if c[:2] == ("prctl", C.PR_CAPBSET_DROP))
    assert names.index("capset") > names.index("setresuid")
    assert ("setgroups", [10, 20]) in sys.calls and ("setresuid", 1000, 1000, 1000) in sys.calls
    assert sys.of("capset") == [(want, want, 0)]
    assert sys.bounding == want and sys.ambient == 0
    assert sys.calls[0] == ("prctl", C.PR_SET_KEEPCAPS, 1, 0, 0, 0)
    assert sys.calls[-1] == ("prctl", C.PR_SET_KEEPCAPS, 0, 0, 0, 0)
    assert len(DOCKER_DEFAULT_CAPS) == 14 and bin(want).count("1") == 14


def test_all_caps_on_a_host_without_cap_sys_resource():
    """`--privileged`: every name asked; the host lacks CAP_SYS_RESOURCE everywhere."""
    sys = RecordingSyscalls()
    host = ALL & ~(1 << 24)
    sys.bounding = host
    sys.caps = (host, host, 0)
    caps.drop_to(sys, same(caps.CAP_NAMES), 0, 0, [], OsRecorder(sys), last=LAST)
    assert sys.of("prctl").count((C.PR_CAPBSET_DROP, 24, 0, 0, 0)) == 0
    assert not [c for c in sys.calls if c[:2] == ("prctl", C.PR_CAPBSET_DROP)]
    assert sys.of("capset") == [(host, host, host)]
    raised = [c[3] for c in sys.calls if c[:3] == ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE)]
    assert raised == [nr for nr in range(41) if nr != 24]
    assert sys.bounding == host and sys.ambient == host


def test_empty_caps_drop_everything():
    sys = RecordingSyscalls()
    caps.drop_to(sys, Capabilities(), 0, 0, [], OsRecorder(sys), last=LAST)
    assert [c[2] for c in sys.calls if c[:2] == ("prctl", C.PR_CAPBSET_DROP)] == list(range(41))
    assert sys.of("capset") == [(0, 0, 0)]
    assert sys.bounding == 0 and sys.ambient == 0
    assert not [c for c in sys.calls if c[:3] == ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE)]


def test_unknown_name_fails_before_any_call():
    sys = RecordingSyscalls()
    c = same(RUNC_DEFAULT)
    c.ambient = ["CAP_FOO"]
    with pytest.raises(caps.CapabilityError, match='unknown capability "CAP_FOO"'):
        caps.drop_to(sys, c, 0, 0, [], OsRecorder(sys), last=LAST)
    assert sys.calls == []


def test_only_caps_still_in_the_bounding_set_are_dropped():
    sys = RecordingSyscalls()
    sys.bounding = RUNC_MASK | (1 << 21)  # SYS_ADMIN too
    caps.apply_bounding(sys, same(RUNC_DEFAULT), last=LAST)
    assert [c for c in sys.calls if c[:2] == ("prctl", C.PR_CAPBSET_DROP)] == [("prctl", C.PR_CAPBSET_DROP, 21, 0, 0, 0)]


def test_apply_respects_the_kernels_capset_rules():
    sys = RecordingSyscalls()
    # permitted can only shrink; inheritable within old inheritable | old permitted
    # (no CAP_SETPCAP effective) and within old inheritable | bounding; ambient needs
    # permitted and inheritable
    sys.caps = (0, RUNC_MASK, 0)
    sys.bounding = ALL
    c = Capabilities([], effective=["CAP_KILL", "CAP_CHOWN"], permitted=["CAP_KILL", "CAP_CHOWN"],
                     inheritable=["CAP_KILL", "CAP_SYS_ADMIN"], ambient=["CAP_KILL", "CAP_NET_BIND_SERVICE"])
    caps.apply(sys, c, last=LAST)
    kill = 1 << 5
    assert sys.of("capset") == [(kill, kill, kill)]
    assert sys.ambient == kill
    # with CAP_SETPCAP effective, inheritable may take anything in the bounding set
    sys = RecordingSyscalls()
    setpcap = 1 << 8
    sys.caps = (setpcap, setpcap, 0)
    sys.bounding = setpcap | (1 << 21)
    c = Capabilities([], [], [], inheritable=["CAP_SYS_ADMIN", "CAP_CHOWN"], ambient=[])
    caps.apply(sys, c, last=LAST)
    assert sys.of("capset") == [(0, 0, 1 << 21)]


def test_drop_to_without_capabilities_only_changes_ids():
    sys = RecordingSyscalls()
    caps.drop_to(sys, None, 1000, 100, None, OsRecorder(sys), last=LAST)
    assert sys.calls == [("setresgid", 100, 100, 100), ("setresuid", 1000, 1000, 1000)]


def test_bounding_read_tolerates_caps_the_kernel_lacks():
    class OldKernel(RecordingSyscalls):
        def prctl(self, option, arg2=0, arg3=0, arg4=0, arg5=0):
            if option == C.PR_CAPBSET_READ and arg2 > 37:
                self.calls.append(("prctl", option, arg2, arg3, arg4, arg5))
                raise OSError(22, "Invalid argument")
            return super().prctl(option, arg2, arg3, arg4, arg5)

    sys = OldKernel()
    assert caps.bounding(sys, last=LAST) == (1 << 38) - 1


def test_a_failing_call_stops_the_sequence():
    sys = RecordingSyscalls()
    sys.fail["capset"] = 1
    with pytest.raises(OSError):
        caps.drop_to(sys, same(RUNC_DEFAULT), 0, 0, [], OsRecorder(sys), last=LAST)
    assert sys.names()[-1] == "capset"
    assert ("prctl", C.PR_SET_KEEPCAPS, 0, 0, 0, 0) not in sys.calls
