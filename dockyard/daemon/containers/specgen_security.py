"""Capabilities, ``--security-opt``, seccomp and the masked / read-only paths of a container.

* Capabilities follow dockerd's TweakCapabilities: ``--privileged`` and ``--cap-add ALL`` grant every
  capability *this host holds* (so the config also runs under runc on a host without, say,
  CAP_SYS_RESOURCE); ``--cap-drop ALL`` keeps only ``--cap-add``; names may omit ``CAP_`` and any case.
  A non-root process gets the bounding set only (empty effective and permitted sets), as dockerd does.
* ``--security-opt``: ``no-new-privileges[=|:bool]``, ``seccomp=unconfined|builtin|<profile JSON>``
  (the CLI sends the profile's contents), ``label=…`` and ``apparmor=…`` (accepted and ignored: this
  engine has neither SELinux nor AppArmor support), anything else is an error.
* seccomp is filled by a hook the daemon passes (``SeccompHook``); without one no profile is set.
"""
from __future__ import annotations

from typing import Callable

from . import defaults as D
from .specgen_errors import SpecGenError
from .specgen_host import CAP_BY_NUMBER

# hook(profile, spec) -> the linux.seccomp object, or None for no filter. ``profile`` is None for the
# daemon's default profile, else the JSON text the user gave. ``spec`` is the config built so far
# (capabilities included, as Docker's default profile depends on them).
SeccompHook = Callable[[str | None, dict], dict | None]

_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")


class SecurityOpts:
    __slots__ = ("no_new_privileges", "seccomp", "apparmor", "labels", "notes")

    def __init__(self):
        self.no_new_privileges: bool | None = None
        self.seccomp = ""          # "", "unconfined", "builtin" or profile JSON
        self.apparmor = ""
        self.labels: list[str] = []
        self.notes: list[str] = []


def parse_security_opts(opts: list[str]) -> SecurityOpts:
    """dockerd's parseSecurityOpt (``key=value``; ``key:value`` is the deprecated spelling)."""
    out = SecurityOpts()
    for opt in opts:
        if opt == "no-new-privileges":
            out.no_new_privileges = True
            continue
        if opt == "disable":
            out.labels.append("disable")
            continue
        if "=" in opt:
            key, _, val = opt.partition("=")
        elif ":" in opt:
            key, _, val = opt.partition(":")
        else:
            raise SpecGenError(f"invalid --security-opt 1: \"{opt}\"")
        if key == "label":
            out.labels.append(val)
        elif key == "apparmor":
            out.apparmor = val
            out.notes.append("apparmor profiles are ignored: AppArmor is not supported by this engine")
        elif key == "seccomp":
            out.seccomp = val
        elif key == "no-new-privileges":
            if val in _TRUE:
                out.no_new_privileges = True
            elif val in _FALSE:
                out.no_new_privileges = False
            else:
                raise SpecGenError(f"invalid --security-opt 2: \"{opt}\"")
        elif key == "systempaths" and val == "unconfined":
            continue  # the CLI turns this into empty MaskedPaths/ReadonlyPaths; tolerate it raw too
        else:
            raise SpecGenError(f"invalid --security-opt 2: \"{opt}\"")
    return out


def _normalize(caps: list[str], what: str) -> list[str]:
    out = []
    for c in caps:
        c = c.upper()
        if c != "ALL" and not c.startswith("CAP_"):
            c = "CAP_" + c
        if c != "ALL" and c not in CAP_BY_NUMBER:
            raise SpecGenError(f"invalid {what}: unknown capability: \"{c}\"")
        out.append(c)
    return out


def capability_set(basics, adds: list[str], drops: list[str], privileged: bool,
                   host_caps, warn) -> list[str]:
    """The capability list of the container (dockerd's TweakCapabilities)."""
    add, drop = _normalize(adds, "CapAdd"), _normalize(drops, "CapDrop")
    all_caps = [c for c in CAP_BY_NUMBER if c in set(host_caps)]
    if privileged:
        return all_caps
    if not add and not drop:
        caps = list(basics)
    elif "ALL" in add:
        caps = [c for c in all_caps if c not in drop]
    elif "ALL" in drop:
        caps = [c for c in add if c != "ALL"]
    else:
        caps = [c for c in basics if c not in drop] + add
    out: list[str] = []
    held = set(host_caps)
    for c in caps:
        if c in out:
            continue
        if c not in held:
            warn(f"{c} is not available on this host (the daemon does not hold it); capability discarded.")
            continue
        out.append(c)
    return out


def capabilities_object(caps: list[str], uid: int) -> dict:
    """process.capabilities: a non-root process only gets the bounding set (as dockerd 20.10.14+)."""
    obj = {"bounding": list(caps)}
    if uid == 0 and caps:
        obj["effective"] = list(caps)
        obj["permitted"] = list(caps)
    return obj


def masked_and_readonly(masked: list[str] | None, readonly: list[str] | None, privileged: bool) -> tuple[list, list]:
    """HostConfig.MaskedPaths/ReadonlyPaths (None = Docker's defaults); privileged gets none."""
    if privileged:
        return [], []
    m = list(D.MASKED_PATHS) if masked is None else list(masked)
    r = list(D.READONLY_PATHS) if readonly is None else list(readonly)
    for p in m + r:
        if not p.startswith("/"):
            raise SpecGenError(f"masked and read-only paths must be absolute: {p!r}")
    return m, r


def seccomp_profile(sec: SecurityOpts, privileged: bool, hook: SeccompHook | None, spec: dict) -> dict | None:
    """The linux.seccomp object (dockerd's WithSeccomp rules)."""
    if sec.seccomp == "unconfined" or privileged:
        return None
    profile = None if sec.seccomp in ("", "builtin") else sec.seccomp
    if hook is None:
        if profile is not None:
            raise SpecGenError("seccomp is not enabled in this daemon, cannot run a custom seccomp profile.")
        return None
    try:
        return hook(profile, spec)
    except SpecGenError:
        raise
    except ValueError as e:
        raise SpecGenError(f"Error loading seccomp profile: {e}") from None
