"""A user's seccomp profile (``--security-opt seccomp=PROFILE.json``) -> the OCI ``linux.seccomp``.

Accepts Docker's profile format (``archMap``, ``names``/``name``, ``includes``/``excludes`` by
capabilities, architectures and minimum kernel) and the OCI shape (``architectures``). Rules
are selected for the container's bounding capabilities, this machine and this kernel, as
dockerd does. Everything is checked before anything is used: a bad profile raises
``ProfileError`` naming the JSON path of the offending value (the daemon answers 400).
"""
from __future__ import annotations

import json
import os
from typing import Iterable

from .seccomp_default import MACHINES

_MAX_RULES = 4096
_MAX_NAMES = 65536
_U64 = (1 << 64) - 1


class ProfileError(ValueError):
    """The seccomp profile is not valid; the message names the JSON path."""


def _tables():
    from ..runtime import seccomp as rt  # stdlib only at import time
    return rt.ACTIONS, rt.OPERATORS, rt.ARCHITECTURES, rt.FLAGS


def _str(v, where: str) -> str:
    if not isinstance(v, str):
        raise ProfileError(f"{where}: expected a string, got {type(v).__name__}")
    return v


def _int(v, where: str, lo: int = 0, hi: int = _U64) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ProfileError(f"{where}: expected an integer in [{lo}, {hi}], got {v!r}")
    return v


def _strs(v, where: str) -> list[str]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise ProfileError(f"{where}: expected a list of strings, got {type(v).__name__}")
    return [_str(x, f"{where}[{i}]") for i, x in enumerate(v)]


def _obj(v, where: str) -> dict:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ProfileError(f"{where}: expected an object, got {type(v).__name__}")
    return v


def _kernel_tuple(text: str, where: str) -> tuple[int, ...]:
    base = text.split("-", 1)[0]
    try:
        parts = tuple(int(p) for p in base.split("."))
    except ValueError:
        raise ProfileError(f"{where}: invalid kernel version {text!r}") from None
    if not 1 <= len(parts) <= 3:
        raise ProfileError(f"{where}: invalid kernel version {text!r}")
    return parts


def running_kernel() -> tuple[int, ...]:
    return _kernel_tuple(os.uname().release, "kernel")


def _architectures(doc: dict, native: tuple[str, ...], known) -> list[str]:
    if "architectures" in doc and "archMap" in doc and doc["architectures"] and doc["archMap"]:
        raise ProfileError("both 'architectures' and 'archMap' are specified in the seccomp profile, "
                           "use either 'architectures' or 'archMap'")
    arches = _strs(doc.get("architectures"), "architectures")
    amap = doc.get("archMap")
    if amap is not None:
        if not isinstance(amap, list):
            raise ProfileError(f"archMap: expected a list, got {type(amap).__name__}")
        for i, m in enumerate(amap):
            m = _obj(m, f"archMap[{i}]")
            arch = _str(m.get("architecture"), f"archMap[{i}].architecture")
            subs = _strs(m.get("subArchitectures"), f"archMap[{i}].subArchitectures")
            if arch == native[0]:
                arches = [arch, *subs]
    for i, a in enumerate(arches):
        if a not in known:
            raise ProfileError(f"architectures[{i}]: unknown seccomp architecture {a!r}")
    return list(dict.fromkeys(arches))


def _args(v, where: str, operators) -> list[dict]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise ProfileError(f"{where}: expected a list, got {type(v).__name__}")
    if len(v) > 6:
        raise ProfileError(f"{where}: at most 6 argument conditions, got {len(v)}")
    out = []
    for j, a in enumerate(v):
        w = f"{where}[{j}]"
        a = _obj(a, w)
        op = _str(a.get("op"), f"{w}.op")
        if op not in operators:
            raise ProfileError(f"{w}.op: unknown seccomp operator {op!r}")
        out.append({"index": _int(a.get("index", 0), f"{w}.index", 0, 5),
                    "value": _int(a.get("value", 0), f"{w}.value"),
                    "valueTwo": _int(a.get("valueTwo", 0) or 0, f"{w}.valueTwo"), "op": op})
    return out


def _selected(call: dict, where: str, caps: set[str], goarch: str, kernel: tuple[int, ...]) -> bool:
    inc, exc = _obj(call.get("includes"), f"{where}.includes"), _obj(call.get("excludes"), f"{where}.excludes")
    inc_arches = _strs(inc.get("arches"), f"{where}.includes.arches")
    exc_arches = _strs(exc.get("arches"), f"{where}.excludes.arches")
    inc_caps = _strs(inc.get("caps"), f"{where}.includes.caps")
    exc_caps = _strs(exc.get("caps"), f"{where}.excludes.caps")

    def min_kernel(cond: dict, w: str):
        return _kernel_tuple(_str(cond["minKernel"], w), w) if cond.get("minKernel") else None
    inc_k = min_kernel(inc, f"{where}.includes.minKernel")
    exc_k = min_kernel(exc, f"{where}.excludes.minKernel")
    if inc_arches and goarch not in inc_arches:
        return False
    if exc_arches and goarch in exc_arches:
        return False
    if inc_caps and not set(inc_caps) <= caps:
        return False
    if exc_caps and set(exc_caps) & caps:
        return False
    if inc_k is not None and kernel < inc_k:
        return False
    if exc_k is not None and kernel >= exc_k:
        return False
    return True


def load(text: str | bytes, caps: Iterable[str], machine: str | None = None,
         kernel: tuple[int, ...] | None = None) -> dict:
    """Parse and check a profile; return the ``linux.seccomp`` for a container holding ``caps``."""
    actions, operators, known_arches, flags = _tables()
    machine = machine or os.uname().machine
    goarch, native = MACHINES.get(machine, (machine, ("SCMP_ARCH_" + machine.upper(),)))
    kernel = kernel or running_kernel()
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ProfileError(f"decoding seccomp profile failed: {e}") from None
    if not isinstance(doc, dict):
        raise ProfileError(f"the profile must be a JSON object, got {type(doc).__name__}")
    if doc.get("listenerPath"):
        raise ProfileError("listenerPath: seccomp notify listeners are not supported")
    default = _str(doc.get("defaultAction"), "defaultAction")
    if default not in actions:
        raise ProfileError(f"defaultAction: unknown seccomp action {default!r}")
    out: dict = {"defaultAction": default}
    if doc.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = _int(doc["defaultErrnoRet"], "defaultErrnoRet", 0, 0xFFFF)
    arches = _architectures(doc, native, known_arches)
    if arches:
        out["architectures"] = arches
    fl = _strs(doc.get("flags"), "flags")
    for i, f in enumerate(fl):
        if f not in flags:
            raise ProfileError(f"flags[{i}]: unknown or unsupported seccomp flag {f!r}")
    if fl:
        out["flags"] = fl
    calls = doc.get("syscalls")
    if calls is None:
        calls = []
    if not isinstance(calls, list):
        raise ProfileError(f"syscalls: expected a list, got {type(calls).__name__}")
    if len(calls) > _MAX_RULES:
        raise ProfileError(f"syscalls: {len(calls)} rules is too many (at most {_MAX_RULES})")
    held, rules, total = set(caps), [], 0
    for i, call in enumerate(calls):
        where = f"syscalls[{i}]"
        call = _obj(call, where)
        names = _strs(call.get("names"), f"{where}.names")
        if call.get("name"):
            if names:
                raise ProfileError(f"{where}: use either 'name' or 'names'")
            names = [_str(call["name"], f"{where}.name")]
        if not names or not all(names):
            raise ProfileError(f"{where}.names: must list at least one syscall name")
        total += len(names)
        if total > _MAX_NAMES:
            raise ProfileError(f"syscalls: more than {_MAX_NAMES} syscall names")
        action = _str(call.get("action"), f"{where}.action")
        if action not in actions:
            raise ProfileError(f"{where}.action: unknown seccomp action {action!r}")
        if action == "SCMP_ACT_NOTIFY":
            raise ProfileError(f"{where}.action: SCMP_ACT_NOTIFY is not supported")
        rule: dict = {"names": names, "action": action}
        if call.get("errnoRet") is not None:
            rule["errnoRet"] = _int(call["errnoRet"], f"{where}.errnoRet", 0, 0xFFFF)
        args = _args(call.get("args"), f"{where}.args", operators)
        if args:
            rule["args"] = args
        if _selected(call, where, held, goarch, kernel):
            rules.append(rule)
    out["syscalls"] = rules
    return out
