"""seccomp filters loaded into real forked children: errno, conditions, kill, flags, order."""
import ctypes
import errno
import os
import signal
import socket

import pytest

from dockyard.kernel import consts as C
from dockyard.kernel.linux import LinuxSyscalls
from dockyard.runtime import capabilities as caps
from dockyard.runtime import seccomp as sc
from dockyard.runtime import seccomp_cache as cache_mod
from dockyard.runtime import seccomp_lib as L
from dockyard.spec.runtime import Capabilities, Seccomp, SeccompArg, SeccompSyscall

BUSYBOX = "/bin/busybox"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def S(names, action, errno_ret=None, args=()):
    return SeccompSyscall([names] if isinstance(names, str) else list(names), action, errno_ret, list(args))


def A(index, value, op="SCMP_CMP_EQ", value_two=0):
    return SeccompArg(index, value, value_two, op)


def nnp_and_load(profile):
    LinuxSyscalls().prctl(C.PR_SET_NO_NEW_PRIVS, 1)
    sc.load(sc.compile(profile))


def exec_busybox(*args):
    os.execv(BUSYBOX, ["busybox", *args])


def all_native_syscall_names():
    lib = L.lib()
    fn = lib.seccomp_syscall_resolve_num_arch
    fn.argtypes, fn.restype = [ctypes.c_uint32, ctypes.c_int], ctypes.c_void_p
    free = ctypes.CDLL(None).free
    free.argtypes = [ctypes.c_void_p]
    names = []
    for nr in range(0, 512):
        p = fn(0, nr)
        if p:
            names.append(ctypes.string_at(p).decode())
            free(p)
    return names


def test_errno_rule_blocks_mkdir(child, tmp_path):
    target = tmp_path / "x"
    profile = Seccomp("SCMP_ACT_ALLOW", syscalls=[S(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno.EACCES)])
    status, out = child(lambda: (nnp_and_load(profile), exec_busybox("mkdir", str(target))))
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1, out
    assert "Permission denied" in out
    assert not target.exists()
    # control: the same command without the filter works
    status, out = child(lambda: exec_busybox("mkdir", str(target)))
    assert status == 0, out
    assert target.is_dir()


def test_default_errno_on_an_allowlist(child, tmp_path):
    target = tmp_path / "x"
    names = [n for n in all_native_syscall_names() if n not in ("mkdir", "mkdirat")]
    assert "execve" in names and len(names) > 300
    profile = Seccomp("SCMP_ACT_ERRNO", errno.ENOSYS, syscalls=[S(names, "SCMP_ACT_ALLOW")])
    status, out = child(lambda: (nnp_and_load(profile), exec_busybox("mkdir", str(target))))
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1, out
    assert "Function not implemented" in out
    assert not target.exists()
    # what the allowlist names still works
    status, out = child(lambda: (nnp_and_load(profile), exec_busybox("echo", "still alive")))
    assert status == 0 and out == "still alive\n", out


def test_errno_without_errno_ret_is_eperm(child):
    profile = Seccomp("SCMP_ACT_ALLOW", syscalls=[S(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO")])

    def body():
        nnp_and_load(profile)
        try:
            os.mkdir("/nonexistent-dir/never")
        except OSError as e:
            return e.errno

    status, out = child(body)
    assert status == 0 and out == str(errno.EPERM), out


def test_conditional_rules_block_only_matching_calls(child):
    profile = Seccomp("SCMP_ACT_ALLOW", syscalls=[
        # both on argument 0: split into two rules (either family is denied)
        S("socket", "SCMP_ACT_ERRNO", errno.EACCES, [A(0, socket.AF_INET), A(0, socket.AF_INET6)]),
        # MASKED_EQ: (type & 0xf) == SOCK_DGRAM, whatever the flags
        S("socket", "SCMP_ACT_ERRNO", errno.EPROTONOSUPPORT, [A(0, socket.AF_UNIX), A(1, 0xF, "SCMP_CMP_MASKED_EQ", socket.SOCK_DGRAM)]),
        S("personality", "SCMP_ACT_ERRNO", errno.EACCES, [A(0, 0xFFFFFFFF)]),
    ])

    def try_socket(family, kind):
        try:
            socket.socket(family, kind).close()
            return "ok"
        except OSError as e:
            return errno.errorcode[e.errno]

    def body():
        nnp_and_load(profile)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.personality.argtypes = [ctypes.c_ulong]
        r1 = libc.personality(0xFFFFFFFF)
        e1 = ctypes.get_errno()
        r2 = libc.personality(0)  # PER_LINUX, what the process has: let through, returns the old persona
        return " ".join([
            try_socket(socket.AF_INET, socket.SOCK_STREAM),
            try_socket(socket.AF_INET6, socket.SOCK_STREAM),
            try_socket(socket.AF_UNIX, socket.SOCK_STREAM),
            try_socket(socket.AF_UNIX, socket.SOCK_DGRAM),
            try_socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC),
            f"{r1}:{errno.errorcode.get(e1)}",
            str(r2),
        ])

    status, out = child(body)
    assert status == 0, out
    assert out.split() == ["EACCES", "EACCES", "ok", "EPROTONOSUPPORT", "EPROTONOSUPPORT", "-1:EACCES", "0"]


@pytest.mark.parametrize("action,sig", [
    ("SCMP_ACT_KILL", signal.SIGSYS),
    ("SCMP_ACT_KILL_PROCESS", signal.SIGSYS),
    ("SCMP_ACT_TRAP", signal.SIGSYS),
])
def test_kill_actions_end_the_child_with_sigsys(child, action, sig):
    profile = Seccomp("SCMP_ACT_ALLOW", syscalls=[S(["mkdir", "mkdirat"], action)])

    def body():
        nnp_and_load(profile)
        os.mkdir("/tmp/never-created-by-a-seccomp-test")
        return "survived"

    status, out = child(body)
    assert os.WIFSIGNALED(status), (status, out)
    assert os.WTERMSIG(status) == sig
    assert "survived" not in out


def test_log_action_allows(child, tmp_path):
    profile = Seccomp("SCMP_ACT_ALLOW", syscalls=[S(["mkdir", "mkdirat"], "SCMP_ACT_LOG")])
    status, out = child(lambda: (nnp_and_load(profile), os.mkdir(tmp_path / "logged")))
    assert status == 0, out
    assert (tmp_path / "logged").is_dir()


def test_flags_are_accepted_by_the_kernel(child, tmp_path):
    profile = Seccomp("SCMP_ACT_ALLOW", flags=list(sc.FLAGS),
                      syscalls=[S(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno.EROFS)])

    def body():
        nnp_and_load(profile)
        try:
            os.mkdir(tmp_path / "x")
        except OSError as e:
            return e.errno

    status, out = child(body)
    assert status == 0 and out == str(errno.EROFS), out


def test_cached_program_loads_without_libseccomp(child, tmp_path):
    profile = Seccomp("SCMP_ACT_ALLOW", flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                      syscalls=[S(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errno.EACCES)])
    cache = str(tmp_path / "cache")
    cache_mod.program(profile, cache)  # fill the cache in the parent
    for flags in (profile.flags, []):
        def body():
            prog = cache_mod.program(profile, cache)
            LinuxSyscalls().prctl(C.PR_SET_NO_NEW_PRIVS, 1)
            cache_mod.load_program(prog, flags)
            exec_busybox("mkdir", str(tmp_path / "x"))

        status, out = child(body)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1 and "Permission denied" in out, out
    assert not (tmp_path / "x").exists()


def test_load_without_no_new_privs_or_cap_sys_admin_fails_clearly(child):
    profile = Seccomp("SCMP_ACT_ALLOW", syscalls=[S("mkdir", "SCMP_ACT_ERRNO")])

    def body():
        if os.geteuid() == 0:  # give up CAP_SYS_ADMIN (keep the rest)
            names = [n for n in caps.CAP_NAMES if n != "CAP_SYS_ADMIN"]
            caps.apply(LinuxSyscalls(), Capabilities(names, names, names, [], []))
        f = sc.compile(profile)
        try:
            sc.load(f)
        except OSError as e:
            return f"{e.errno} {e}"
        return "loaded"

    status, out = child(body)
    assert status == 0, out
    assert out.startswith(f"{errno.EACCES} ") and "set no_new_privs first" in out, out


def test_moby_default_profile_allows_work_and_blocks_namespaces(child, moby_default):
    status, out = child(lambda: (nnp_and_load(moby_default), exec_busybox("echo", "hello from seccomp")))
    assert status == 0 and out == "hello from seccomp\n", out
    if os.geteuid() != 0:
        pytest.skip("the unshare check needs root (CAP_SYS_ADMIN)")
    status, out = child(lambda: (nnp_and_load(moby_default), exec_busybox("unshare", "-m", "true")))
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0, out
    assert "Operation not permitted" in out
    # control: as root, unshare works without the filter
    status, out = child(lambda: exec_busybox("unshare", "-m", "true"))
    assert status == 0, out


@pytest.mark.root
@needs_root
def test_without_no_new_privs_load_comes_before_dropping_caps(child, moby_default):
    """noNewPrivileges false: load while CAP_SYS_ADMIN is held, then drop_to — Docker's
    profile lets drop_to's calls through, and the result execs with the filter on."""
    c = Capabilities(["CAP_KILL"], ["CAP_KILL"], ["CAP_KILL"], [], [])

    def body():
        sc.load(sc.compile(moby_default))
        caps.drop_to(LinuxSyscalls(), c, 1000, 1000, [])
        exec_busybox("grep", "-E", "^(CapEff|NoNewPrivs|Seccomp):", "/proc/self/status")

    status, out = child(body)
    assert status == 0, out
    lines = dict(line.split(":\t") for line in out.strip().splitlines())
    assert lines == {"CapEff": "0000000000000000", "NoNewPrivs": "0", "Seccomp": "2"}
