"""``RUN --mount=...`` specifications: ``type=cache,target=/root/.cache,sharing=locked`` and friends.

A spec is one CSV record of ``key=value`` fields (a few keys may stand alone: ``ro``, ``rw``,
``required``). Types are bind (the default), cache, tmpfs, secret and ssh. Values may use
variables; they are expanded with the stage's environment when the instruction is expanded,
except ``from``, which must name a stage or image literally.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Callable

from .errors import DockerfileError
from .gocompat import suggest

BIND, CACHE, TMPFS, SECRET, SSH = "bind", "cache", "tmpfs", "secret", "ssh"
MOUNT_TYPES = (BIND, CACHE, TMPFS, SECRET, SSH)
SHARING_MODES = ("shared", "private", "locked")
_KEYS = ("type", "from", "source", "target", "readonly", "id", "sharing", "required", "mode", "uid", "gid",
         "src", "dst", "ro", "rw", "readwrite", "size", "env", "destination")

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_RAM = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_RAM_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


@dataclass(frozen=True)
class Mount:
    """A parsed mount. ``readonly`` defaults to False for cache and tmpfs, True otherwise."""
    type: str = BIND
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = True
    id: str = ""
    sharing: str = ""
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    required: bool = False
    size_limit: int = 0
    env: str = ""

    @property
    def cache_id(self) -> str:
        """The cache's identity: its ``id``, else its target path."""
        return self.id or self.target


def _hint(value: str, options) -> str:
    match = suggest(value, options, True)
    return f" (did you mean {match}?)" if match else ""


def _parse_bool(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise DockerfileError(f"invalid value for {key}: {value}")


def _parse_uint(key: str, value: str, base: int, message: str) -> int:
    try:
        if not re.fullmatch(r"[0-9]+", value):
            raise ValueError
        v = int(value, base)
    except ValueError:
        raise DockerfileError(message) from None
    if v >= 1 << 32:
        raise DockerfileError(message)
    return v


def _parse_ram(value: str) -> int:
    m = _RAM.match(value)
    if not m:
        raise DockerfileError(f"invalid value for size: {value}")
    return int(float(m.group(1)) * _RAM_UNITS[(m.group(2) or "").lower()])


def _fields(spec: str) -> list[str]:
    try:
        rows = list(csv.reader([spec], strict=True))
    except csv.Error as e:
        raise DockerfileError(f"failed to parse csv mounts: {e}") from None
    if not rows:
        raise DockerfileError("failed to parse csv mounts: EOF")
    return rows[0]


def parse_mount(spec: str, expand: Callable[[str], str] | None = None) -> Mount:
    """Parse one ``--mount`` value. With ``expand`` None only the syntax is checked (values may
    still hold variables) and the returned Mount is partial."""
    kw: dict = {"type": BIND}
    ro_auto = True
    for fld in _fields(spec):
        key, eq, value = fld.partition("=")
        key = key.lower()
        if not eq:
            if expand is None:
                continue
            if key in ("readonly", "ro"):
                kw["readonly"] = True
                ro_auto = False
            elif key in ("readwrite", "rw"):
                kw["readonly"] = False
                ro_auto = False
            elif key == "required":
                if kw["type"] not in (SECRET, SSH):
                    raise DockerfileError(f"unexpected key '{key}' for mount type '{kw['type']}'")
                kw["required"] = True
            else:
                raise DockerfileError(f"invalid field '{fld}' must be a key=value pair")
            continue
        if expand is None:
            if key == "from" and re.search(r"\$.", value):
                raise DockerfileError(f"'{key}' doesn't support variable expansion, define alias stage instead")
            continue
        if key != "from":
            value = expand(value)
        mtype = kw["type"]
        if key == "type":
            v = value.lower()
            if v not in MOUNT_TYPES:
                raise DockerfileError(f'unsupported mount type "{value}"' + _hint(value, MOUNT_TYPES))
            kw["type"] = v
        elif key == "from":
            kw["from_"] = value
        elif key in ("source", "src"):
            kw["source"] = value
        elif key in ("target", "dst", "destination"):
            kw["target"] = value
        elif key in ("readonly", "ro"):
            kw["readonly"] = _parse_bool(key, value)
            ro_auto = False
        elif key in ("readwrite", "rw"):
            kw["readonly"] = not _parse_bool(key, value)
            ro_auto = False
        elif key == "required":
            if mtype not in (SECRET, SSH):
                raise DockerfileError(f"unexpected key '{key}' for mount type '{mtype}'")
            kw["required"] = _parse_bool(key, value)
        elif key == "size":
            if mtype != TMPFS:
                raise DockerfileError(f"unexpected key '{key}' for mount type '{mtype}'")
            kw["size_limit"] = _parse_ram(value)
        elif key == "id":
            kw["id"] = value
        elif key == "sharing":
            v = value.lower()
            if v not in SHARING_MODES:
                raise DockerfileError(f'unsupported sharing value "{value}"' + _hint(value, SHARING_MODES))
            kw["sharing"] = v
        elif key == "mode":
            kw["mode"] = _parse_uint(key, value, 8, f"invalid value {value} for mode")
        elif key == "uid":
            kw["uid"] = _parse_uint(key, value, 10, f"invalid value {value} for uid")
        elif key == "gid":
            kw["gid"] = _parse_uint(key, value, 10, f"invalid value {value} for gid")
        elif key == "env":
            if mtype != SECRET:
                raise DockerfileError(f"unexpected key '{key}' for mount type '{mtype}'")
            kw["env"] = value
        else:
            raise DockerfileError(f"unexpected key '{key}' in '{fld}'" + _hint(key, _KEYS))
    if expand is None:
        return Mount(**kw)
    return _validate(kw, ro_auto)


def _validate(kw: dict, ro_auto: bool) -> Mount:
    mtype = kw["type"]
    if mtype not in (SECRET, SSH, CACHE):
        for key in ("mode", "uid", "gid"):
            if kw.get(key) is not None:
                raise DockerfileError(f'{key} not allowed for "{mtype}" type mounts')
    if ro_auto:
        kw["readonly"] = mtype not in (CACHE, TMPFS)
    if mtype == SECRET:
        if kw.get("from_"):
            raise DockerfileError("secret mount should not have a from")
        if kw.get("sharing"):
            raise DockerfileError("secret mount should not define sharing")
        if not kw.get("source") and not kw.get("target") and not kw.get("id") and not kw.get("env"):
            raise DockerfileError("invalid secret mount. one of source, target required")
        if kw.get("source") and kw.get("id"):
            raise DockerfileError("both source and id can't be set")
    if kw.get("sharing") and mtype != CACHE:
        raise DockerfileError(f"invalid cache sharing set for {mtype} mount")
    if mtype in (BIND, CACHE, TMPFS) and not kw.get("target"):
        raise DockerfileError(f"{mtype} mount requires a target")
    if mtype == CACHE and not kw.get("sharing"):
        kw["sharing"] = "shared"
    return Mount(**kw)
