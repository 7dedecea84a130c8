"""Device access rules: validation, the cgroup v1 file lines, and an
emulation of the v1 kernel semantics used to build the v2 eBPF filter.

Rules are applied in order on top of an implicit "deny all" (as runc does).
A type "a" rule stands for every device with every access; the v1 kernel
ignores the major, minor and access of such a rule, so an *allow* "a" rule
with a major, minor or partial access is refused rather than silently
widened to allow everything, and a *deny* "a" rule always denies everything.
"""
from __future__ import annotations

from ..util.record import record as dataclass

from dockyard.spec.runtime import DeviceRule

from .errors import CgroupError

_MAX_NUM = 2**31 - 1


@dataclass(frozen=True)
class Rule:
    allow: bool
    type: str          # "a", "c" or "b"
    major: int | None  # None = any
    minor: int | None
    access: str        # non-empty, in "rwm" order


def _num(v, i, what):
    if v is None or v == -1:  # -1 is how some writers spell "any"
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= _MAX_NUM:
        raise CgroupError(f"cgroup devices: rule {i}: invalid {what} {v!r}")
    return v


def validate(rules: list[DeviceRule]) -> list[Rule]:
    out = []
    for i, r in enumerate(rules):
        if r.type not in ("a", "c", "b"):
            raise CgroupError(f"cgroup devices: rule {i}: invalid type {r.type!r} (need a, c or b)")
        access = r.access or "rwm"
        if set(access) - set("rwm") or len(set(access)) != len(access):
            raise CgroupError(f"cgroup devices: rule {i}: invalid access {access!r}")
        access = "".join(c for c in "rwm" if c in access)
        major, minor = _num(r.major, i, "major"), _num(r.minor, i, "minor")
        if r.type == "a":
            if r.allow and (major is not None or minor is not None or access != "rwm"):
                raise CgroupError(f"cgroup devices: rule {i}: an allow rule of type 'a' must not restrict "
                                  f"major, minor or access (the kernel would allow everything)")
            out.append(Rule(r.allow, "a", None, None, "rwm"))
        else:
            out.append(Rule(r.allow, r.type, major, minor, access))
    return out


def v1_writes(rules: list[Rule]) -> list[tuple[str, str]]:
    """(file, line) pairs for the v1 devices controller: deny all, then each rule."""
    out = [("devices.deny", "a")]
    for r in rules:
        f = "devices.allow" if r.allow else "devices.deny"
        if r.type == "a":
            out.append((f, "a"))
        else:
            maj = "*" if r.major is None else str(r.major)
            mnr = "*" if r.minor is None else str(r.minor)
            out.append((f, f"{r.type} {maj}:{mnr} {r.access}"))
    return out


@dataclass
class Effective:
    """The state the v1 kernel would end in: a default verdict plus exceptions."""
    default_allow: bool
    exceptions: dict[tuple[str, int | None, int | None], str]  # (type, major, minor) -> access


def emulate(rules: list[Rule]) -> Effective:
    """Apply rules the way the v1 devices controller does (starting from deny all).

    In deny-by-default mode an allow rule adds (or widens) an exception and a
    deny rule removes access bits from the exception with the same
    type/major/minor; in allow-by-default mode the roles swap. An "a" rule
    resets the default and clears the exceptions.
    """
    eff = Effective(False, {})
    for r in rules:
        if r.type == "a":
            eff = Effective(r.allow, {})
            continue
        key = (r.type, r.major, r.minor)
        if r.allow != eff.default_allow:  # add an exception
            cur = eff.exceptions.get(key, "")
            eff.exceptions[key] = "".join(c for c in "rwm" if c in cur or c in r.access)
        elif key in eff.exceptions:  # remove access from the exception
            left = "".join(c for c in eff.exceptions[key] if c not in r.access)
            if left:
                eff.exceptions[key] = left
            else:
                del eff.exceptions[key]
    return eff
