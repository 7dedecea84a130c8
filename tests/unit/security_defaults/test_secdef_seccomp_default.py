"""Dockyard's default seccomp profile: what it allows, for which capabilities, and that it compiles."""
import json
import os

import pytest

from dockyard.daemon.containers import defaults as D
from dockyard.daemon.containers.specgen_host import CAP_BY_NUMBER
from dockyard.runtime import seccomp as rt
from dockyard.security import seccomp_default as sd
from dockyard.security import seccomp_rules as R
from dockyard.spec.runtime import Seccomp, _R

REFERENCE = os.path.join(os.path.dirname(__file__), "../../../../shared/reference/seccomp/default-moby-HEAD.json")
if not os.path.exists(REFERENCE):
    REFERENCE = "/work/shared/reference/seccomp/default-moby-HEAD.json"

DEFAULT = list(D.DEFAULT_CAPABILITIES)
ALL_CAPS = list(CAP_BY_NUMBER)

DANGEROUS = {  # syscall -> the capabilities that let it through
    "kexec_load": {"CAP_SYS_BOOT"}, "kexec_file_load": {"CAP_SYS_BOOT"}, "reboot": {"CAP_SYS_BOOT"},
    "init_module": {"CAP_SYS_MODULE"}, "finit_module": {"CAP_SYS_MODULE"}, "delete_module": {"CAP_SYS_MODULE"},
    "open_by_handle_at": {"CAP_DAC_READ_SEARCH"},
    "keyctl": {"CAP_SYS_ADMIN"}, "add_key": {"CAP_SYS_ADMIN"}, "request_key": {"CAP_SYS_ADMIN"},
    "bpf": {"CAP_SYS_ADMIN", "CAP_BPF"}, "perf_event_open": {"CAP_SYS_ADMIN", "CAP_PERFMON"},
    "userfaultfd": {"CAP_SYS_PTRACE"}, "mount": {"CAP_SYS_ADMIN"}, "umount2": {"CAP_SYS_ADMIN"},
    "pivot_root": {"CAP_SYS_ADMIN"}, "setns": {"CAP_SYS_ADMIN"}, "fsopen": {"CAP_SYS_ADMIN"},
    "open_tree": {"CAP_SYS_ADMIN"}, "move_mount": {"CAP_SYS_ADMIN"}, "io_uring_setup": {"CAP_SYS_ADMIN"},
    "settimeofday": {"CAP_SYS_TIME"}, "clock_settime": {"CAP_SYS_TIME"}, "iopl": {"CAP_SYS_RAWIO"},
    "ioperm": {"CAP_SYS_RAWIO"}, "acct": {"CAP_SYS_PACCT"}, "swapon": {"CAP_SYS_ADMIN"},
    "syslog": {"CAP_SYS_ADMIN", "CAP_SYSLOG"}, "sethostname": {"CAP_SYS_ADMIN"}, "vhangup": {"CAP_SYS_TTY_CONFIG"},
    "kcmp": {"CAP_SYS_PTRACE"}, "pidfd_getfd": {"CAP_SYS_PTRACE"}, "mbind": {"CAP_SYS_NICE"},
    "quotactl": {"CAP_SYS_ADMIN"}, "fanotify_init": {"CAP_SYS_ADMIN"},
}


def rules_for(profile, name):
    return [r for r in profile["syscalls"] if name in r["names"]]


def test_profile_shape():
    p = sd.profile(DEFAULT, machine="x86_64")
    assert p["defaultAction"] == "SCMP_ACT_ERRNO" and p["defaultErrnoRet"] == 1
    assert p["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert sd.profile(DEFAULT, machine="aarch64")["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    with pytest.raises(sd.UnsupportedMachine, match="s390x"):
        sd.profile(DEFAULT, machine="s390x")
    assert sd.profile(DEFAULT) == sd.profile(list(reversed(DEFAULT)))  # a pure function of the caps set


@pytest.mark.parametrize("name", sorted(DANGEROUS))
def test_dangerous_syscall_denied_by_default(name):
    assert name not in sd.allowed_names(DEFAULT, "x86_64")
    assert name not in sd.allowed_names([], "x86_64")


@pytest.mark.parametrize("name", sorted(DANGEROUS))
def test_dangerous_syscall_allowed_with_its_capability(name):
    for cap in DANGEROUS[name]:
        assert sd.allowed_names(DEFAULT + [cap], "x86_64").get(name) == "always", (name, cap)
    others = [c for c in ALL_CAPS if c not in DANGEROUS[name]]
    assert name not in sd.allowed_names(others, "x86_64")


def test_never_allowed_whatever_the_capabilities():
    allowed = sd.allowed_names(ALL_CAPS, "x86_64")
    assert not set(R.NEVER) & set(allowed)
    assert "socketcall" in R.NEVER  # would bypass the socket family filter


def test_namespace_creation_filtered_by_flags():
    p = sd.profile(DEFAULT, "x86_64")
    (clone,) = rules_for(p, "clone")
    assert clone["args"] == [{"index": 0, "value": R.CLONE_NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    assert R.CLONE_NAMESPACE_FLAGS == 0x7E020000
    (unshare,) = rules_for(p, "unshare")
    assert unshare["args"][0]["value"] == R.CLONE_NAMESPACE_FLAGS | 0x80  # CLONE_NEWTIME too
    (clone3,) = rules_for(p, "clone3")
    assert clone3["action"] == "SCMP_ACT_ERRNO" and clone3["errnoRet"] == 38  # ENOSYS: libc falls back
    admin = sd.profile(DEFAULT + ["CAP_SYS_ADMIN"], "x86_64")
    assert [r.get("args") for r in rules_for(admin, "clone")] == [None]
    assert [r["action"] for r in rules_for(admin, "clone3")] == ["SCMP_ACT_ALLOW"]


def test_socket_and_personality_filters():
    p = sd.profile(DEFAULT, "x86_64")
    conds = [(r["args"][0]["op"], r["args"][0]["value"]) for r in rules_for(p, "socket")]
    assert conds == [("SCMP_CMP_LT", 38), ("SCMP_CMP_EQ", 39), ("SCMP_CMP_GT", 40)]  # not AF_ALG, not AF_VSOCK
    pers = sorted(r["args"][0]["value"] for r in rules_for(p, "personality"))
    assert pers == [0, 8, 0x20000, 0x20008, 0xFFFFFFFF]


def test_ptrace_allowed_from_4_8_but_kcmp_needs_sys_ptrace():
    names = sd.allowed_names(DEFAULT, "x86_64", kernel=(6, 1))
    assert names["ptrace"] == "always" and names["process_vm_readv"] == "always"
    assert "kcmp" not in names and "process_madvise" not in names
    old = sd.allowed_names(DEFAULT, "x86_64", kernel=(4, 4))  # ptrace could bypass seccomp before 4.8
    assert "ptrace" not in old and "process_vm_writev" not in old
    assert [r for r in sd.profile(DEFAULT, "x86_64", (4, 4))["syscalls"] if "ptrace" in r["names"]] == []


def test_arch_specific_rules():
    assert "arch_prctl" in sd.allowed_names(DEFAULT, "x86_64")
    assert "arch_prctl" not in sd.allowed_names(DEFAULT, "aarch64")
    assert "set_tls" in sd.allowed_names(DEFAULT, "aarch64")


def test_allows_what_the_runtime_needs_after_loading():
    """With no_new_privileges off the runtime loads the filter before dropping capabilities and
    switching user: those calls (and exec) must stay allowed."""
    names = sd.allowed_names(DEFAULT, "x86_64")
    for n in ("prctl", "capset", "setgroups", "setresuid", "setresgid", "close_range", "execve", "chdir",
              "openat", "write", "rt_sigaction", "rt_sigprocmask", "exit_group", "getcwd"):
        assert n in names, n


def test_covers_dockers_unconditional_allowlist():
    """Every call Docker's profile always allows is allowed here too, except the ones Dockyard
    denies on purpose (socketcall) or cannot run on (riscv)."""
    if not os.path.exists(REFERENCE):
        pytest.skip("moby's reference profile is not available")
    with open(REFERENCE) as f:
        moby = json.load(f)
    always = set(moby["syscalls"][0]["names"])
    assert len(always) > 300
    mine = set(sd.allowed_names(DEFAULT, "x86_64"))
    assert always - mine == {"socketcall", "riscv_hwprobe"}


@pytest.mark.parametrize("caps", [[], DEFAULT, DEFAULT + ["CAP_SYS_ADMIN"], ALL_CAPS])
def test_compiles_with_libseccomp(caps):
    seccomp = Seccomp.parse(_R(sd.profile(caps), "linux.seccomp"))
    f = rt.compile(seccomp)
    try:
        assert len(f.export_bpf()) > 8 * 500  # a real program
        # names this libseccomp does not know are skipped; the calls every program needs are known
        assert not {"read", "write", "clone", "socket", "personality", "openat"} & set(f.skipped)
    finally:
        f.close()
