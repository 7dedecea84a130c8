"""Compile an OCI ``linux.seccomp`` into a libseccomp filter, and load it.

``compile(seccomp)`` checks the whole profile first (actions, errnoRet, operators,
argument indexes and values, architectures, flags) and raises ``SeccompError`` naming
the offending entry; only then does it build the libseccomp filter. As runc does:
syscall names libseccomp does not know are skipped (``Filter.skipped``); a rule whose
action equals the default action is dropped; a rule with several conditions on the
same argument becomes one rule per condition (libseccomp refuses them in one rule);
SCMP_ACT_KILL means kill the thread; ERRNO and TRACE default to EPERM.

Where the init loads the filter (runc's order):

- ``noNewPrivileges`` true: ``prctl(PR_SET_NO_NEW_PRIVS, 1)``, capabilities and uid
  dropped, then ``load`` as the very last step before ``execve``.
- ``noNewPrivileges`` false: the kernel accepts a filter only from a process holding
  CAP_SYS_ADMIN, so ``load`` must come before ``capabilities.drop_to``, and the profile
  must allow the calls drop_to makes (prctl, capset, setgroups, setresgid, setresuid),
  as Docker's default profile does.

``load`` leaves no state behind that could make the next ``os.execve`` fail; that the
profile allows ``execve`` itself is the profile's job.

libseccomp is reached through a small ctypes binding (``seccomp_lib``) imported on first
use: this module imports only the standard library. ``seccomp_cache`` keeps generated
programs on disk (libseccomp's BPF generation dominates the cost of ``load``).
"""
from __future__ import annotations

import os

_EPERM = 1
_MAX_ARGS = 6
_U64 = (1 << 64) - 1

# OCI action name -> libseccomp base value (ERRNO/TRACE carry errnoRet in the low 16 bits)
ACTIONS = {
    "SCMP_ACT_KILL": 0x00000000,  # kill the thread, as runc does
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_NOTIFY": 0x7FC00000,
}
_WITH_ERRNO = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")

OPERATORS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}

# The runtime-spec's architecture names; libseccomp resolves the lower-case suffix.
ARCHITECTURES = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
)

# OCI flag -> libseccomp filter attribute (scmp_filter_attr)
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 4,  # SCMP_FLTATR_CTL_TSYNC
    "SECCOMP_FILTER_FLAG_LOG": 6,  # SCMP_FLTATR_CTL_LOG
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 7,  # SCMP_FLTATR_CTL_SSB
}
_UNSUPPORTED_FLAGS = {
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": "it only concerns SCMP_ACT_NOTIFY listeners, which dockyard-runtime does not support",
}

_OPTIMIZE_ABOVE = 32  # syscall names; runc's threshold for libseccomp's binary tree


class SeccompError(ValueError):
    """The seccomp profile is invalid or cannot be compiled."""


def _action(name, errno_ret, where: str) -> int:
    if name not in ACTIONS:
        raise SeccompError(f'{where}: unknown seccomp action "{name}"')
    if name == "SCMP_ACT_NOTIFY":
        raise SeccompError(f"{where}: SCMP_ACT_NOTIFY is not supported (dockyard-runtime has no seccomp listener support)")
    base = ACTIONS[name]
    if name not in _WITH_ERRNO:
        if errno_ret is not None:
            raise SeccompError(f"{where}: an errno return is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {name}")
        return base
    n = _EPERM if errno_ret is None else errno_ret
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 0xFFFF:
        raise SeccompError(f"{where}: errno return {n!r} is out of range (0-65535)")
    return base | n


def _conditions(args, where: str) -> list[tuple[int, int, int, int]]:
    if len(args) > _MAX_ARGS:
        raise SeccompError(f"{where}: at most {_MAX_ARGS} argument conditions, got {len(args)}")
    out = []
    for j, a in enumerate(args):
        w = f"{where}.args[{j}]"
        if a.op not in OPERATORS:
            raise SeccompError(f'{w}: unknown seccomp operator "{a.op}"')
        if isinstance(a.index, bool) or not isinstance(a.index, int) or not 0 <= a.index < _MAX_ARGS:
            raise SeccompError(f"{w}: argument index {a.index!r} is out of range (0-5)")
        for v in (a.value, a.value_two):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= _U64:
                raise SeccompError(f"{w}: value {v!r} is not an unsigned 64-bit integer")
        out.append((a.index, OPERATORS[a.op], a.value, a.value_two))
    return out


class _Plan:
    """The validated profile: plain numbers, nothing built yet."""

    def __init__(self, default, arches, attrs, rules):
        self.default, self.arches, self.attrs, self.rules = default, arches, attrs, rules


def validate(seccomp) -> _Plan:
    """Check the whole profile and translate it to numbers (no libseccomp needed)."""
    default = _action(seccomp.default_action, seccomp.default_errno_ret, "linux.seccomp.defaultAction")
    for a in seccomp.architectures:
        if a not in ARCHITECTURES:
            raise SeccompError(f'linux.seccomp.architectures: unknown seccomp architecture "{a}"')
    attrs = []
    for f in seccomp.flags:
        if f in _UNSUPPORTED_FLAGS:
            raise SeccompError(f"linux.seccomp.flags: {f} is not supported: {_UNSUPPORTED_FLAGS[f]}")
        if f not in FLAGS:
            raise SeccompError(f'linux.seccomp.flags: unknown seccomp flag "{f}"')
        attrs.append((f, FLAGS[f]))
    rules = []  # (name, action, [conditions])
    for i, call in enumerate(seccomp.syscalls):
        where = f"linux.seccomp.syscalls[{i}]"
        if not call.names:
            raise SeccompError(f"{where}: names must list at least one syscall")
        for n in call.names:
            if not isinstance(n, str) or not n:
                raise SeccompError(f"{where}: empty syscall name")
        act = _action(call.action, call.errno_ret, f"{where} ({call.names[0]})")
        conds = _conditions(call.args, f"{where} ({call.names[0]})")
        if act == default:
            continue  # redundant; libseccomp would refuse it
        for n in call.names:
            rules.append((n, act, conds))
    return _Plan(default, list(dict.fromkeys(seccomp.architectures)), attrs, rules)


class Filter:
    """A compiled libseccomp filter. ``skipped`` lists the syscall names libseccomp did
    not know (left out, as runc does)."""

    def __init__(self, ctx: int, skipped: list[str]):
        self._ctx = ctx
        self.skipped = skipped

    def _handle(self) -> int:
        if not self._ctx:
            raise ValueError("seccomp filter is closed")
        return self._ctx

    def _export(self, fn_name: str) -> bytes:
        from . import seccomp_lib
        fd = os.memfd_create("dockyard-seccomp-export", os.MFD_CLOEXEC)
        try:
            rc = getattr(seccomp_lib.lib(), fn_name)(self._handle(), fd)
            if rc < 0:
                raise OSError(-rc, f"{fn_name}: {os.strerror(-rc)}")
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def export_bpf(self) -> bytes:
        """The classic-BPF program the kernel would get (struct sock_filter array)."""
        return self._export("seccomp_export_bpf")

    def export_pfc(self) -> str:
        """libseccomp's human-readable pseudo filter code."""
        return self._export("seccomp_export_pfc").decode()

    def close(self) -> None:
        if self._ctx:
            from . import seccomp_lib
            seccomp_lib.lib().seccomp_release(self._ctx)
            self._ctx = 0

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise SeccompError(f"{what}: {os.strerror(-rc)}")


def compile(seccomp) -> Filter:  # noqa: A001 (the module's verb)
    """Validate the OCI ``Seccomp`` and build its libseccomp filter (not loaded)."""
    plan = validate(seccomp)
    from . import seccomp_lib as L
    lib = L.lib()
    arch_tokens = []
    for a in plan.arches:
        tok = lib.seccomp_arch_resolve_name(a[len("SCMP_ARCH_"):].lower().encode())
        if not tok:
            raise SeccompError(f'linux.seccomp.architectures: "{a}" is not supported by libseccomp {".".join(map(str, L.version()))}')
        arch_tokens.append((a, tok))
    ctx = lib.seccomp_init(plan.default)
    if not ctx:
        raise SeccompError("linux.seccomp: libseccomp refused the default action")
    filt = Filter(ctx, [])
    try:
        # No-new-privs is the init's decision (process.noNewPrivileges), not libseccomp's.
        _check(lib.seccomp_attr_set(ctx, L.ATTR_CTL_NNP, 0), "linux.seccomp: clearing the no_new_privs attribute")
        lib.seccomp_attr_set(ctx, L.ATTR_API_SYSRAWRC, 1)  # real kernel errnos from load (optional)
        for a, tok in arch_tokens:
            rc = lib.seccomp_arch_add(ctx, tok)
            if rc < 0 and -rc != 17:  # EEXIST: the native architecture is already there
                _check(rc, f'linux.seccomp.architectures: adding "{a}"')
        for f, attr in plan.attrs:
            _check(lib.seccomp_attr_set(ctx, attr, 1), f"linux.seccomp.flags: {f}")
        if len(plan.rules) > _OPTIMIZE_ABOVE:
            lib.seccomp_attr_set(ctx, L.ATTR_CTL_OPTIMIZE, 2)  # binary tree; older libseccomp lacks it
        resolved: dict[str, int] = {}
        built: dict[tuple, object] = {}
        add = lib.seccomp_rule_add_array
        for name, act, conds in plan.rules:
            nr = resolved.get(name)
            if nr is None:
                nr = resolved[name] = lib.seccomp_syscall_resolve_name(name.encode())
            if nr == L.NR_SCMP_ERROR:
                if name not in filt.skipped:
                    filt.skipped.append(name)
                continue
            if not conds:
                _check(add(ctx, act, nr, 0, None), f'linux.seccomp: adding the rule for "{name}"')
                continue
            groups = [conds] if len({c[0] for c in conds}) == len(conds) else [[c] for c in conds]
            for g in groups:
                key = tuple(g)
                arr = built.get(key)
                if arr is None:
                    arr = built[key] = (L.ArgCmp * len(g))(*(L.ArgCmp(*c) for c in g))
                _check(add(ctx, act, nr, len(g), arr), f'linux.seccomp: adding the conditional rule for "{name}"')
    except BaseException:
        filt.close()
        raise
    return filt


def load(filt: Filter) -> None:
    """Load the filter into the kernel for the calling thread (all threads with
    SECCOMP_FILTER_FLAG_TSYNC). Needs no_new_privs set, or CAP_SYS_ADMIN. A
    ``seccomp_cache.Prepared`` program is installed directly."""
    if hasattr(filt, "bpf"):
        filt.load()
        return
    from . import seccomp_lib
    rc = seccomp_lib.lib().seccomp_load(filt._handle())
    if rc < 0:
        hint = " (set no_new_privs first, or load while holding CAP_SYS_ADMIN)" if -rc == 13 else ""
        raise OSError(-rc, f"loading the seccomp filter: {os.strerror(-rc)}{hint}")

