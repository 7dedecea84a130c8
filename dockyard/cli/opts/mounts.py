"""``--mount`` (CSV key=value fields → a Mount object), ``-v`` specs and ``--tmpfs``/``--device`` paths."""
from __future__ import annotations

import os
import posixpath


def _abs_source(val: str) -> str:
    if val == "." or val.startswith("./"):
        return os.path.abspath(val)
    return val


def parse_mount(value: str) -> dict:
    """opts.MountOpt.Set: "type=bind,source=/a,target=/b,readonly" → an API Mount."""
    import csv
    try:
        rows = list(csv.reader([value]))
    except csv.Error as e:
        raise ValueError(str(e)) from None
    fields = rows[0] if rows else []
    m: dict = {"Type": "volume"}
    bind: dict = {}
    vol: dict = {}
    tmpfs: dict = {}
    for field in fields:
        key, eq, val = field.partition("=")
        key = key.lower()
        if not eq:
            if key in ("readonly", "ro"):
                m["ReadOnly"] = True
            elif key == "volume-nocopy":
                vol["NoCopy"] = True
            elif key == "bind-nonrecursive":
                bind["NonRecursive"] = True
            else:
                raise ValueError(f"invalid field '{field}' must be a key=value pair")
            continue
        if key == "type":
            m["Type"] = val.lower()
        elif key in ("source", "src"):
            m["Source"] = _abs_source(val)
        elif key in ("target", "dst", "destination"):
            m["Target"] = val
        elif key in ("readonly", "ro"):
            from ..flags import parse_bool
            try:
                m["ReadOnly"] = parse_bool(val)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {val}") from None
        elif key == "consistency":
            m["Consistency"] = val.lower()
        elif key == "bind-propagation":
            bind["Propagation"] = val.lower()
        elif key == "bind-nonrecursive":
            from ..flags import parse_bool
            try:
                bind["NonRecursive"] = parse_bool(val)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {val}") from None
        elif key == "volume-driver":
            vol.setdefault("DriverConfig", {})["Name"] = val
        elif key == "volume-subpath":
            vol["Subpath"] = val
        elif key == "volume-nocopy":
            from ..flags import parse_bool
            try:
                vol["NoCopy"] = parse_bool(val)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {val}") from None
        elif key == "volume-label":
            k, _, v = val.partition("=")
            vol.setdefault("Labels", {})[k] = v
        elif key == "volume-opt":
            k, eq2, v = val.partition("=")
            if not eq2:
                raise ValueError(f"invalid value for {key}: {val}")
            vol.setdefault("DriverConfig", {}).setdefault("Options", {})[k] = v
        elif key == "tmpfs-size":
            from ..units import ram_in_bytes
            try:
                tmpfs["SizeBytes"] = ram_in_bytes(val)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {val}") from None
        elif key == "tmpfs-mode":
            try:
                tmpfs["Mode"] = int(val, 8)
            except ValueError:
                raise ValueError(f"invalid value for {key}: {val}") from None
        else:
            raise ValueError(f"unexpected key '{key}' in '{field}'")
    if not m.get("Type"):
        raise ValueError("type is required")
    if not m.get("Target"):
        raise ValueError("target is required")
    t = m["Type"]
    if vol and t != "volume":
        raise ValueError(f"cannot mix 'volume-*' options with mount type '{t}'")
    if bind and t != "bind":
        raise ValueError(f"cannot mix 'bind-*' options with mount type '{t}'")
    if tmpfs and t != "tmpfs":
        raise ValueError(f"cannot mix 'tmpfs-*' options with mount type '{t}'")
    if bind:
        m["BindOptions"] = bind
    if vol:
        # docker's order (NoCopy, Labels, Subpath, DriverConfig); DriverConfig is always there
        m["VolumeOptions"] = {k: vol[k] for k in ("NoCopy", "Labels", "Subpath") if k in vol}
        m["VolumeOptions"]["DriverConfig"] = vol.get("DriverConfig", {})
    if tmpfs:
        m["TmpfsOptions"] = tmpfs
    return m


def split_volume(spec: str) -> tuple[str, str]:
    """A ``-v`` spec → (source, rest); source "" for an anonymous volume ("/data").

    Only the source is checked here, as docker's CLI does; the daemon validates the rest.
    """
    if ":" not in spec:
        if spec == "":
            raise ValueError("invalid empty volume spec")
        return "", spec
    src, _, rest = spec.partition(":")
    if src == "" or rest == "":
        raise ValueError(f"invalid spec: {spec}: empty section between colons")
    return src, rest


def volumes_and_binds(specs: list[str]) -> tuple[list[str], dict[str, dict]]:
    """docker's split of ``-v`` values: with a source they are Binds (relative "./x" made
    absolute), without one they are anonymous volumes in Config.Volumes."""
    binds: list[str] = []
    volumes: dict[str, dict] = {}
    for spec in specs:
        src, rest = split_volume(spec)
        if not src:
            volumes[spec] = {}
        elif src.startswith("."):
            binds.append(f"{os.path.abspath(src)}:{rest}")
        else:
            binds.append(spec)
    return binds, volumes


def valid_device_mode(mode: str) -> bool:
    if not 1 <= len(mode) <= 3:
        return False
    seen = set()
    for c in mode:
        if c not in "rwm" or c in seen:
            return False
        seen.add(c)
    return True


def validate_path(val: str, validator) -> str:
    """opts validatePath, used for --device: "src[:dst][:mode]"."""
    if val.count(":") > 2:
        raise ValueError(f"bad format for path: {val}")
    split = val.split(":", 2)
    if split[0] == "":
        raise ValueError(f"bad format for path: {val}")
    if len(split) == 1:
        container_path = split[0]
        val = posixpath.normpath(container_path)
    elif len(split) == 2:
        if validator(split[1]):
            container_path = split[0]
            val = f"{posixpath.normpath(container_path)}:{split[1]}"
        else:
            container_path = split[1]
            val = f"{split[0]}:{posixpath.normpath(container_path)}"
    else:
        container_path, mode = split[1], split[2]
        if not validator(mode):
            raise ValueError(f"bad mode specified: {mode}")
        val = f"{split[0]}:{container_path}:{mode}"
    if not container_path.startswith("/"):
        raise ValueError(f"{container_path} is not an absolute path")
    return val


def parse_device(spec: str) -> dict:
    """"/dev/sda[:/dev/xvda][:rwm]" → a DeviceMapping."""
    validate_path(spec, valid_device_mode)
    arr = spec.split(":", 3)
    src, dst, perms = arr[0], "", "rwm"
    if len(arr) == 3:
        perms = arr[2]
    if len(arr) >= 2:
        if valid_device_mode(arr[1]):
            perms = arr[1]
        else:
            dst = arr[1]
    if len(arr) > 3:
        raise ValueError(f"invalid device specification: {spec}")
    return {"PathOnHost": src, "PathInContainer": dst or src, "CgroupPermissions": perms}


def parse_tmpfs(specs: list[str]) -> dict[str, str]:
    out = {}
    for s in specs:
        path, _, options = s.partition(":")
        out[path] = options
    return out
