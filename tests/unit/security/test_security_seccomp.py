"""seccomp.compile: validation errors, and what the compiled BPF program decides.

The program libseccomp generates is run here by a small classic-BPF interpreter over a
seccomp_data record, so every test checks the filter's verdict for real syscalls
(number, architecture, arguments) without loading anything into the kernel.
"""
import errno
import os
import struct
import subprocess
import sys

import pytest

from dockyard.runtime import seccomp as sc
from dockyard.runtime import seccomp_cache as cache_mod
from dockyard.runtime import seccomp_lib as L
from dockyard.spec.runtime import Seccomp, SeccompArg, SeccompSyscall, Spec

AUDIT_X86_64 = 0xC000003E
AUDIT_I386 = 0x40000003
AUDIT_X32 = 0x4000003E
AUDIT_AARCH64 = 0xC00000B7
X32_BIT = 0x40000000

NR = {"read": 0, "write": 1, "socket": 41, "clone": 56, "mkdir": 83, "chmod": 90, "getcwd": 79, "personality": 135,
      "mount": 165, "unshare": 272, "mkdirat": 258, "clone3": 435, "getpid": 39, "ptrace": 101}
NR_I386 = {"mkdir": 39, "chown32": 212, "read": 3}


def run_bpf(prog: bytes, nr: int, arch: int = AUDIT_X86_64, args=(0, 0, 0, 0, 0, 0)) -> int:
    """Classic BPF as the kernel runs it for seccomp: returns the SECCOMP_RET_* value."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, *[a & ((1 << 64) - 1) for a in args])
    insns = [struct.unpack_from("<HBBI", prog, i) for i in range(0, len(prog), 8)]
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        if code == 0x20:  # ld [k]
            a = struct.unpack_from("<I", data, k)[0]
        elif code == 0x00:  # ld #k
            a = k
        elif code == 0x01:  # ldx #k
            x = k
        elif code == 0x60:  # ld M[k]
            a = mem[k]
        elif code == 0x61:  # ldx M[k]
            x = mem[k]
        elif code == 0x02:  # st M[k]
            mem[k] = a
        elif code == 0x03:  # stx M[k]
            mem[k] = x
        elif code == 0x54:  # and #k
            a &= k
        elif code == 0x04:  # add #k
            a = (a + k) & 0xFFFFFFFF
        elif code == 0x07:  # tax
            x = a
        elif code == 0x87:  # txa
            a = x
        elif code == 0x05:  # ja
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45, 0x1D, 0x2D, 0x3D, 0x4D):
            v = x if code & 0x08 else k
            cond = {0x10: a == v, 0x20: a > v, 0x30: a >= v, 0x40: bool(a & v)}[code & 0xF0]
            pc += jt if cond else jf
        elif code == 0x06:  # ret #k
            return k
        elif code == 0x16:  # ret a
            return a
        else:
            raise AssertionError(f"BPF opcode {code:#x} not understood by the test interpreter")


def prog_of(profile: Seccomp) -> bytes:
    f = sc.compile(profile)
    try:
        return f.export_bpf()
    finally:
        f.close()


def allow_all(*calls, **kw) -> Seccomp:
    return Seccomp("SCMP_ACT_ALLOW", syscalls=list(calls), **kw)


def S(names, action, errno_ret=None, args=()):
    return SeccompSyscall(list(names) if not isinstance(names, str) else [names], action, errno_ret, list(args))


def A(index, value, op="SCMP_CMP_EQ", value_two=0):
    return SeccompArg(index, value, value_two, op)


# ---------- libseccomp ABI values: the same as pyseccomp's (libseccomp's Python API) ----------

def test_abi_values_match_pyseccomp():
    pyseccomp = pytest.importorskip("pyseccomp")
    assert L.ALLOW == pyseccomp.ALLOW and L.LOG == pyseccomp.LOG and L.TRAP == pyseccomp.TRAP
    assert L.KILL_PROCESS == pyseccomp.KILL_PROCESS and L.KILL_THREAD == pyseccomp.KILL_THREAD
    assert L.ERRNO(13) == pyseccomp.ERRNO(13) and L.TRACE(7) == pyseccomp.TRACE(7)
    assert (L.NE, L.LT, L.LE, L.EQ, L.GE, L.GT, L.MASKED_EQ) == (
        pyseccomp.NE, pyseccomp.LT, pyseccomp.LE, pyseccomp.EQ, pyseccomp.GE, pyseccomp.GT, pyseccomp.MASKED_EQ)
    assert sc.OPERATORS["SCMP_CMP_MASKED_EQ"] == pyseccomp.MASKED_EQ
    assert sc.ACTIONS["SCMP_ACT_KILL_PROCESS"] == pyseccomp.KILL_PROCESS
    assert sc.ACTIONS["SCMP_ACT_NOTIFY"] == pyseccomp.NOTIFY
    assert (L.ATTR_CTL_NNP, L.ATTR_CTL_TSYNC, L.ATTR_CTL_LOG, L.ATTR_CTL_SSB, L.ATTR_CTL_OPTIMIZE) == (
        pyseccomp.Attr.CTL_NNP, pyseccomp.Attr.CTL_TSYNC, pyseccomp.Attr.CTL_LOG, pyseccomp.Attr.CTL_SSB,
        pyseccomp.Attr.CTL_OPTIMIZE)
    assert sc.FLAGS["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] == pyseccomp.Attr.CTL_SSB
    # architecture tokens libseccomp resolves from the OCI names
    lib = L.lib()
    for oci, tok in (("SCMP_ARCH_X86_64", pyseccomp.Arch.X86_64), ("SCMP_ARCH_X86", pyseccomp.Arch.X86),
                     ("SCMP_ARCH_X32", pyseccomp.Arch.X32), ("SCMP_ARCH_AARCH64", pyseccomp.Arch.AARCH64),
                     ("SCMP_ARCH_MIPSEL64N32", pyseccomp.Arch.MIPSEL64N32), ("SCMP_ARCH_S390X", pyseccomp.Arch.S390X)):
        assert lib.seccomp_arch_resolve_name(oci[len("SCMP_ARCH_"):].lower().encode()) == tok


# ---------- actions ----------

@pytest.mark.parametrize("action,errno_ret,expected", [
    ("SCMP_ACT_ERRNO", None, L.ERRNO(errno.EPERM)),  # spec: EPERM by default
    ("SCMP_ACT_ERRNO", 13, L.ERRNO(13)),
    ("SCMP_ACT_ERRNO", 0, L.ERRNO(0)),
    ("SCMP_ACT_TRACE", None, L.TRACE(errno.EPERM)),
    ("SCMP_ACT_TRACE", 42, L.TRACE(42)),
    ("SCMP_ACT_KILL", None, L.KILL_THREAD),
    ("SCMP_ACT_KILL_THREAD", None, L.KILL_THREAD),
    ("SCMP_ACT_KILL_PROCESS", None, L.KILL_PROCESS),
    ("SCMP_ACT_TRAP", None, L.TRAP),
    ("SCMP_ACT_LOG", None, L.LOG),
])
def test_each_rule_action(action, errno_ret, expected):
    prog = prog_of(allow_all(S("mkdir", action, errno_ret)))
    assert run_bpf(prog, NR["mkdir"]) == expected
    assert run_bpf(prog, NR["read"]) == L.ALLOW


@pytest.mark.parametrize("action,errno_ret,expected", [
    ("SCMP_ACT_ERRNO", None, L.ERRNO(1)),
    ("SCMP_ACT_ERRNO", 38, L.ERRNO(38)),
    ("SCMP_ACT_KILL_PROCESS", None, L.KILL_PROCESS),
    ("SCMP_ACT_LOG", None, L.LOG),
    ("SCMP_ACT_TRACE", 5, L.TRACE(5)),
])
def test_default_action_and_default_errno(action, errno_ret, expected):
    prog = prog_of(Seccomp(action, errno_ret, syscalls=[S(["read", "write"], "SCMP_ACT_ALLOW")]))
    assert run_bpf(prog, NR["read"]) == L.ALLOW
    assert run_bpf(prog, NR["mkdir"]) == expected


def test_rule_with_the_default_action_is_skipped_not_an_error():
    prog = prog_of(Seccomp("SCMP_ACT_ERRNO", None, syscalls=[S("mkdir", "SCMP_ACT_ERRNO"), S("read", "SCMP_ACT_ALLOW")]))
    assert run_bpf(prog, NR["mkdir"]) == L.ERRNO(1)
    # a different errno is a different action and is kept
    prog = prog_of(Seccomp("SCMP_ACT_ERRNO", None, syscalls=[S("mkdir", "SCMP_ACT_ERRNO", 13)]))
    assert run_bpf(prog, NR["mkdir"]) == L.ERRNO(13)
    assert run_bpf(prog, NR["read"]) == L.ERRNO(1)


def test_unknown_syscall_names_are_skipped():
    f = sc.compile(allow_all(S(["no_such_syscall", "mkdir", "another_fake"], "SCMP_ACT_ERRNO", 13)))
    try:
        assert f.skipped == ["no_such_syscall", "another_fake"]
        assert run_bpf(f.export_bpf(), NR["mkdir"]) == L.ERRNO(13)
    finally:
        f.close()


# ---------- argument conditions ----------

@pytest.mark.parametrize("op,value,hits,misses", [
    ("SCMP_CMP_EQ", 2, [2], [1, 3, 2 | (1 << 32)]),
    ("SCMP_CMP_NE", 2, [0, 3, 1 << 40], [2]),
    ("SCMP_CMP_LT", 10, [0, 9], [10, 11, 1 << 33]),
    ("SCMP_CMP_LE", 10, [0, 10], [11, 1 << 33]),
    ("SCMP_CMP_GE", 10, [10, 11, 1 << 33], [0, 9]),
    ("SCMP_CMP_GT", 10, [11, 1 << 33], [10, 0]),
    ("SCMP_CMP_EQ", 0xFFFFFFFF, [0xFFFFFFFF], [0xFFFFFFFE, 0xFFFFFFFFFFFFFFFF]),
    ("SCMP_CMP_EQ", 0xFFFFFFFFFFFFFFFF, [0xFFFFFFFFFFFFFFFF], [0xFFFFFFFF]),
])
def test_each_operator(op, value, hits, misses):
    prog = prog_of(allow_all(S("personality", "SCMP_ACT_ERRNO", 13, [A(0, value, op)])))
    for v in hits:
        assert run_bpf(prog, NR["personality"], args=(v, 0, 0, 0, 0, 0)) == L.ERRNO(13), hex(v)
    for v in misses:
        assert run_bpf(prog, NR["personality"], args=(v, 0, 0, 0, 0, 0)) == L.ALLOW, hex(v)


def test_masked_eq_uses_value_as_mask_and_value_two_as_datum():
    # deny socket(*, SOCK_DGRAM | any flags, *): (type & 0xf) == 2
    prog = prog_of(allow_all(S("socket", "SCMP_ACT_ERRNO", 13, [A(1, 0xF, "SCMP_CMP_MASKED_EQ", 2)])))
    assert run_bpf(prog, NR["socket"], args=(2, 2, 0, 0, 0, 0)) == L.ERRNO(13)
    assert run_bpf(prog, NR["socket"], args=(2, 2 | 0o2000000, 0, 0, 0, 0)) == L.ERRNO(13)  # | SOCK_CLOEXEC
    assert run_bpf(prog, NR["socket"], args=(2, 1, 0, 0, 0, 0)) == L.ALLOW


def test_conditions_on_different_arguments_are_anded():
    prog = prog_of(allow_all(S("socket", "SCMP_ACT_ERRNO", 13, [A(0, 2), A(1, 1)])))
    assert run_bpf(prog, NR["socket"], args=(2, 1, 0, 0, 0, 0)) == L.ERRNO(13)
    assert run_bpf(prog, NR["socket"], args=(2, 2, 0, 0, 0, 0)) == L.ALLOW
    assert run_bpf(prog, NR["socket"], args=(10, 1, 0, 0, 0, 0)) == L.ALLOW


def test_conditions_on_the_same_argument_become_separate_rules():
    # libseccomp refuses both in one rule; runc adds one rule per condition
    prog = prog_of(allow_all(S("socket", "SCMP_ACT_ERRNO", 13, [A(0, 2), A(0, 10)])))
    assert run_bpf(prog, NR["socket"], args=(2, 1, 0, 0, 0, 0)) == L.ERRNO(13)
    assert run_bpf(prog, NR["socket"], args=(10, 1, 0, 0, 0, 0)) == L.ERRNO(13)
    assert run_bpf(prog, NR["socket"], args=(1, 1, 0, 0, 0, 0)) == L.ALLOW


def test_conditional_and_unconditional_rules_for_one_syscall_list():
    prog = prog_of(Seccomp("SCMP_ACT_ERRNO", None, syscalls=[
        S("read", "SCMP_ACT_ALLOW"),
        S("personality", "SCMP_ACT_ALLOW", None, [A(0, 0)]),
        S("personality", "SCMP_ACT_ALLOW", None, [A(0, 0xFFFFFFFF)]),
    ]))
    assert run_bpf(prog, NR["personality"], args=(0, 0, 0, 0, 0, 0)) == L.ALLOW
    assert run_bpf(prog, NR["personality"], args=(0xFFFFFFFF, 0, 0, 0, 0, 0)) == L.ALLOW
    assert run_bpf(prog, NR["personality"], args=(8, 0, 0, 0, 0, 0)) == L.ERRNO(1)


# ---------- architectures and flags ----------

def test_architectures_are_added():
    profile = allow_all(S(["mkdir", "chown32"], "SCMP_ACT_ERRNO", 13), architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    prog = prog_of(profile)
    assert run_bpf(prog, NR["mkdir"]) == L.ERRNO(13)
    assert run_bpf(prog, NR_I386["mkdir"], arch=AUDIT_I386) == L.ERRNO(13)
    assert run_bpf(prog, NR_I386["chown32"], arch=AUDIT_I386) == L.ERRNO(13)
    assert run_bpf(prog, NR_I386["read"], arch=AUDIT_I386) == L.ALLOW
    assert run_bpf(prog, X32_BIT | NR["mkdir"], arch=AUDIT_X86_64) == L.ERRNO(13)
    # without SCMP_ARCH_X32 the x32 ABI is refused
    assert run_bpf(prog_of(allow_all(architectures=["SCMP_ARCH_X86"])), X32_BIT | NR["read"]) == L.KILL_THREAD
    # an architecture not in the filter is killed (libseccomp's bad-arch action)
    assert run_bpf(prog, NR["read"], arch=AUDIT_AARCH64) == L.KILL_THREAD
    # without x86 the i386 ABI is refused entirely
    prog = prog_of(allow_all(S("mkdir", "SCMP_ACT_ERRNO", 13)))
    assert run_bpf(prog, NR_I386["read"], arch=AUDIT_I386) == L.KILL_THREAD


def test_foreign_architecture_is_accepted_and_duplicates_ignored():
    prog = prog_of(allow_all(S(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", 13),
                             architectures=["SCMP_ARCH_AARCH64", "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]))
    assert run_bpf(prog, 34, arch=AUDIT_AARCH64) == L.ERRNO(13)  # mkdirat is 34 on aarch64 (no mkdir there)
    assert run_bpf(prog, 63, arch=AUDIT_AARCH64) == L.ALLOW  # read
    assert run_bpf(prog, NR["mkdir"]) == L.ERRNO(13)
    assert run_bpf(prog, NR["mkdirat"]) == L.ERRNO(13)


@pytest.mark.parametrize("flag", ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
def test_flags_set_the_libseccomp_attribute(flag):
    import ctypes
    f = sc.compile(allow_all(S("mkdir", "SCMP_ACT_ERRNO"), flags=[flag]))
    try:
        lib = L.lib()
        get = lib.seccomp_attr_get
        get.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint32)]
        v = ctypes.c_uint32(9)
        assert get(f._handle(), sc.FLAGS[flag], ctypes.byref(v)) == 0
        assert v.value == 1
        assert get(f._handle(), L.ATTR_CTL_NNP, ctypes.byref(v)) == 0
        assert v.value == 0  # no_new_privs stays the init's decision
    finally:
        f.close()


# ---------- validation errors ----------

@pytest.mark.parametrize("profile,message", [
    (Seccomp("SCMP_ACT_FOO"), 'linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_FOO"'),
    (allow_all(S("mkdir", "SCMP_ACT_FOO")), 'linux.seccomp.syscalls[0] (mkdir): unknown seccomp action "SCMP_ACT_FOO"'),
    (allow_all(S("mkdir", "SCMP_ACT_NOTIFY")), "SCMP_ACT_NOTIFY is not supported"),
    (Seccomp("SCMP_ACT_NOTIFY"), "SCMP_ACT_NOTIFY is not supported"),
    (allow_all(S("mkdir", "SCMP_ACT_ERRNO", None, [A(0, 1, "SCMP_CMP_BAR")])),
     'linux.seccomp.syscalls[0] (mkdir).args[0]: unknown seccomp operator "SCMP_CMP_BAR"'),
    (allow_all(S("mkdir", "SCMP_ACT_ERRNO", None, [A(6, 1)])), "argument index 6 is out of range"),
    (allow_all(S("mkdir", "SCMP_ACT_ERRNO", None, [A(0, -1)])), "value -1 is not an unsigned 64-bit integer"),
    (allow_all(S("mkdir", "SCMP_ACT_ERRNO", None, [A(0, 1 << 64)])), "is not an unsigned 64-bit integer"),
    (allow_all(S("mkdir", "SCMP_ACT_ERRNO", None, [A(i, 0) for i in range(7)])), "at most 6 argument conditions"),
    (allow_all(S("mkdir", "SCMP_ACT_ALLOW", 1)), "only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"),
    (Seccomp("SCMP_ACT_KILL", 1), "linux.seccomp.defaultAction: an errno return is only valid"),
    (allow_all(S("mkdir", "SCMP_ACT_ERRNO", 70000)), "errno return 70000 is out of range"),
    (allow_all(S([], "SCMP_ACT_ERRNO")), "linux.seccomp.syscalls[0]: names must list at least one syscall"),
    (allow_all(S(["mkdir", ""], "SCMP_ACT_ERRNO")), "empty syscall name"),
    (allow_all(architectures=["SCMP_ARCH_Z80"]), 'unknown seccomp architecture "SCMP_ARCH_Z80"'),
    (allow_all(flags=["SECCOMP_FILTER_FLAG_FOO"]), 'unknown seccomp flag "SECCOMP_FILTER_FLAG_FOO"'),
    (allow_all(flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported"),
])
def test_invalid_profiles_are_rejected_with_a_clear_error(profile, message):
    with pytest.raises(sc.SeccompError) as e:
        sc.compile(profile)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_validation_happens_before_any_rule_is_built():
    # the bad entry comes last; nothing is built (validate() alone raises, without libseccomp)
    profile = allow_all(S("mkdir", "SCMP_ACT_ERRNO"), S("rmdir", "SCMP_ACT_BOGUS"))
    with pytest.raises(sc.SeccompError, match=r"syscalls\[1\] \(rmdir\)"):
        sc.validate(profile)


def test_architecture_libseccomp_does_not_know():
    if L.lib().seccomp_arch_resolve_name(b"loongarch64"):
        pytest.skip("this libseccomp knows loongarch64")
    with pytest.raises(sc.SeccompError, match=r'"SCMP_ARCH_LOONGARCH64" is not supported by libseccomp \d+\.\d+\.\d+'):
        sc.compile(allow_all(architectures=["SCMP_ARCH_LOONGARCH64"]))


def test_spec_parsing_feeds_compile():
    spec = Spec.from_dict({
        "ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/"},
        "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                              "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                                            "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]}]}},
    })
    prog = prog_of(spec.linux.seccomp)
    assert run_bpf(prog, NR["mkdir"], args=(0, 0o700, 0, 0, 0, 0)) == L.ERRNO(13)
    assert run_bpf(prog, NR["mkdir"], args=(0, 0o755, 0, 0, 0, 0)) == L.ALLOW


def test_closed_filter_refuses_use():
    f = sc.compile(allow_all())
    f.close()
    f.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        f.export_bpf()


# ---------- Docker's default profile ----------

def test_moby_default_profile_compiles_and_decides_like_docker(moby_default):
    f = sc.compile(moby_default)
    try:
        prog = f.export_bpf()
        # names newer than this libseccomp are skipped, nothing else
        assert "read" not in f.skipped and "mkdir" not in f.skipped
    finally:
        f.close()
    ok, eperm = L.ALLOW, L.ERRNO(errno.EPERM)
    for name in ("read", "write", "mkdir", "mkdirat", "getpid", "chmod", "getcwd"):
        assert run_bpf(prog, NR[name]) == ok, name
    assert run_bpf(prog, NR["mount"]) == eperm
    assert run_bpf(prog, NR["unshare"]) == eperm
    assert run_bpf(prog, NR["ptrace"]) == ok  # allowed on kernels >= 4.8
    assert run_bpf(prog, NR["clone3"]) == L.ERRNO(errno.ENOSYS)  # so glibc falls back to clone
    # clone: allowed unless it asks for new namespaces (MASKED_EQ on the flags)
    assert run_bpf(prog, NR["clone"], args=(17, 0, 0, 0, 0, 0)) == ok  # SIGCHLD
    assert run_bpf(prog, NR["clone"], args=(0x10000000 | 17, 0, 0, 0, 0, 0)) == eperm  # CLONE_NEWUSER
    # socket: anything but AF_VSOCK (40)
    assert run_bpf(prog, NR["socket"], args=(2, 1, 0, 0, 0, 0)) == ok
    assert run_bpf(prog, NR["socket"], args=(40, 1, 0, 0, 0, 0)) == eperm
    # personality: only the listed personas
    for v in (0, 8, 0x20000, 0x20008, 0xFFFFFFFF):
        assert run_bpf(prog, NR["personality"], args=(v, 0, 0, 0, 0, 0)) == ok, hex(v)
    assert run_bpf(prog, NR["personality"], args=(0x0400000, 0, 0, 0, 0, 0)) == eperm  # READ_IMPLIES_EXEC
    # the 32-bit ABIs of amd64 are filtered too
    assert run_bpf(prog, NR_I386["chown32"], arch=AUDIT_I386) == ok
    assert run_bpf(prog, 21, arch=AUDIT_I386) == eperm  # mount on i386
    assert run_bpf(prog, X32_BIT | NR["read"], arch=AUDIT_X86_64) == ok
    assert run_bpf(prog, X32_BIT | NR["mount"], arch=AUDIT_X86_64) == eperm


def test_moby_default_profile_import_and_compile_are_fast(moby_default, tmp_path):
    """Import of the module and compile of Docker's profile (3 arches), in a fresh
    interpreter; generous bounds, the figures themselves are in the report."""
    code = (
        "import time,sys\n"
        "t0=time.perf_counter()\n"
        "import dockyard.runtime.seccomp as sc\n"
        "t1=time.perf_counter()\n"
        "import pickle\n"
        "p=pickle.load(open(sys.argv[1],'rb'))\n"
        "t2=time.perf_counter()\n"
        "f=sc.compile(p)\n"
        "t3=time.perf_counter()\n"
        "print((t1-t0)*1e3,(t3-t2)*1e3)\n"
    )
    import pickle
    pk = tmp_path / "profile.pickle"
    pk.write_bytes(pickle.dumps(moby_default))
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp_path / "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", "import dockyard.runtime.seccomp_lib, dockyard.runtime.seccomp"], env=env, check=True)
    out = subprocess.run([sys.executable, "-c", code, str(pk)], env=env, check=True, capture_output=True, text=True).stdout
    import_ms, compile_ms = map(float, out.split())
    assert import_ms < 5, f"importing dockyard.runtime.seccomp took {import_ms:.1f} ms"
    assert compile_ms < 30, f"compiling Docker's default profile took {compile_ms:.1f} ms"


def test_modules_import_only_light_stdlib():
    out = subprocess.run([sys.executable, "-c", "import sys, dockyard.runtime.seccomp, dockyard.runtime.seccomp_cache, dockyard.runtime.capabilities;"
                          "print(' '.join(m for m in ('ctypes', 'pyseccomp', 'hashlib') if m in sys.modules))"],
                         check=True, capture_output=True, text=True).stdout.split()
    assert out == []


# ---------- program cache ----------

def test_program_cache_roundtrip(tmp_path, moby_default):
    cache = tmp_path / "cache"
    p1 = cache_mod.program(moby_default, str(cache))
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".bpf" and files[0].read_bytes() == p1
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert p1 == cache_mod.program(moby_default)  # same program as an uncached compile
    # a hit reads the file (a marker program proves it was not recompiled)
    marker = struct.pack("<HBBI", 0x06, 0, 0, L.ALLOW)
    files[0].write_bytes(marker)
    assert cache_mod.program(moby_default, str(cache)) == marker
    # any change of the profile is another key
    moby_default.syscalls[0].names.remove("mkdir")
    p2 = cache_mod.program(moby_default, str(cache))
    assert len(list(cache.iterdir())) == 2
    assert run_bpf(p2, NR["mkdir"]) == L.ERRNO(1)


def test_program_cache_not_writable_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    prog = cache_mod.program(allow_all(S("mkdir", "SCMP_ACT_ERRNO", 13)), str(blocker / "cache"))
    assert run_bpf(prog, NR["mkdir"]) == L.ERRNO(13)


def test_program_rejects_invalid_profile_and_caches_nothing(tmp_path):
    with pytest.raises(sc.SeccompError):
        cache_mod.program(allow_all(S("mkdir", "SCMP_ACT_NOPE")), str(tmp_path / "c"))
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").iterdir())


def test_load_program_rejects_bad_input():
    with pytest.raises(sc.SeccompError, match="unknown seccomp flag"):
        cache_mod.load_program(b"\0" * 8, ["SECCOMP_FILTER_FLAG_NOPE"])
    with pytest.raises(ValueError, match="not a BPF instruction array"):
        cache_mod.load_program(b"\0" * 7)

