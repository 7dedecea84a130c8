"""Dockyard's default seccomp profile for a container with a given capability set.

``profile(caps, machine=None)`` returns the OCI ``linux.seccomp`` object: default action
ERRNO(EPERM), the machine's architectures (x86_64 with its x86 and x32 ABIs, aarch64 with arm),
the allowlist of ``seccomp_rules`` with the capability-gated groups included only for the
capabilities the container holds. The result depends only on its arguments, so the runtime's
compiled-program cache hits for every container with the same capabilities.
"""
from __future__ import annotations

import os
from typing import Iterable

from . import seccomp_rules as R

# machine (uname -m) -> (Go architecture name used by rules, the filter's architectures)
MACHINES = {
    "x86_64": ("amd64", ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")),
    "aarch64": ("arm64", ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")),
}


class UnsupportedMachine(ValueError):
    """Dockyard's default profile is written for x86_64 and aarch64 only."""


def _arch(machine: str | None) -> tuple[str, tuple[str, ...]]:
    machine = machine or os.uname().machine
    if machine not in MACHINES:
        raise UnsupportedMachine(f"no default seccomp profile for machine {machine!r} "
                                 f"(supported: {', '.join(MACHINES)})")
    return MACHINES[machine]


def _rule(rule: R.Rule) -> dict:
    out: dict = {"names": list(rule.names), "action": rule.action}
    if rule.errno is not None:
        out["errnoRet"] = rule.errno
    if rule.args:
        out["args"] = [{"index": a.index, "value": a.value, "valueTwo": a.value_two, "op": a.op} for a in rule.args]
    return out


def running_kernel() -> tuple[int, ...]:
    release = os.uname().release.split("-", 1)[0]
    return tuple(int(p) for p in release.split(".")[:3] if p.isdigit())


def applies(rule: R.Rule, caps: set[str], goarch: str, kernel: tuple[int, ...] = (99,)) -> bool:
    """Whether ``rule`` is part of the profile for a container holding ``caps`` on ``goarch``."""
    if rule.min_kernel and kernel < rule.min_kernel:
        return False
    if rule.arches and goarch not in rule.arches:
        return False
    if rule.caps and not caps.intersection(rule.caps):
        return False
    if rule.unless_caps and caps.intersection(rule.unless_caps):
        return False
    return True


def profile(caps: Iterable[str], machine: str | None = None, kernel: tuple[int, ...] | None = None) -> dict:
    """The ``linux.seccomp`` object for a container whose bounding set is ``caps``."""
    goarch, arches = _arch(machine)
    held, kernel = set(caps), kernel or running_kernel()
    syscalls = [{"names": list(R.ALWAYS), "action": "SCMP_ACT_ALLOW"}]
    for rule in (R.PTRACE, *R.ARCH_RULES, *R.FILTERED, *R.GATED):
        if applies(rule, held, goarch, kernel):
            syscalls.append(_rule(rule))
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": R.EPERM, "architectures": list(arches),
            "syscalls": syscalls}


def allowed_names(caps: Iterable[str], machine: str | None = None,
                  kernel: tuple[int, ...] | None = None) -> dict[str, str]:
    """syscall name -> "always" or "filtered" (allowed only for some arguments) in the profile
    for ``caps``; names that are not allowed are absent. For documentation and tests."""
    goarch, _ = _arch(machine)
    held, kernel = set(caps), kernel or running_kernel()
    out = dict.fromkeys(R.ALWAYS, "always")
    for rule in (R.PTRACE, *R.ARCH_RULES, *R.FILTERED, *R.GATED):
        if not applies(rule, held, goarch, kernel) or rule.action != "SCMP_ACT_ALLOW":
            continue
        for n in rule.names:
            if out.get(n) != "always":
                out[n] = "filtered" if rule.args else "always"
    return out
