"""Docker's mount syntaxes parsed into one neutral model, ``Mount``.

Three ways in, as Docker has them:

* ``parse_volume_spec("src:dst[:mode]")`` — ``-v`` / ``HostConfig.Binds`` (``mode`` is a comma list of
  ``ro|rw``, ``z|Z``, one propagation, ``nocopy``, one consistency);
* ``parse_mount_flag("type=bind,source=…,target=…")`` — the CLI's ``--mount``; ``to_api`` turns the
  result into a ``HostConfig.Mounts`` entry and ``from_api`` reads one back;
* ``parse_tmpfs_entry(target, "size=64k,mode=1777")`` — ``--tmpfs`` / ``HostConfig.Tmpfs``.

``validate`` applies dockerd's checks (with its messages); ``tmpfs_options`` gives the mount options of
a tmpfs as dockerd writes them. Standard library only: the CLI imports this module too.
"""
from __future__ import annotations

import posixpath
import re

BIND, VOLUME, TMPFS = "bind", "volume", "tmpfs"
TYPES = (BIND, VOLUME, TMPFS)
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
DEFAULT_PROPAGATION = "rprivate"
CONSISTENCIES = ("consistent", "cached", "delegated", "default")
_LABEL_MODES = ("z", "Z")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")


class MountError(ValueError):
    """A mount specification is malformed or invalid (the message is Docker's where it has one)."""


class Mount:
    """One mount of a container, whatever syntax it came from.

    ``source``: host path (bind), volume name ("" = anonymous volume), "" (tmpfs).
    ``propagation``: "" means the default (rprivate for binds). ``create_host_path``: ``-v`` creates a
    missing bind source (as a directory), ``--mount`` refuses it. ``tmpfs_extra``: raw tmpfs options
    from ``--tmpfs`` or ``TmpfsOptions.Options``, kept in order.
    """

    __slots__ = ("type", "target", "source", "readonly", "propagation", "nonrecursive", "create_host_path",
                 "relabel", "consistency", "nocopy", "volume_driver", "volume_options", "volume_labels",
                 "volume_subpath", "tmpfs_size", "tmpfs_mode", "tmpfs_extra", "raw")

    def __init__(self, type: str, target: str, source: str = "", readonly: bool = False, *,  # noqa: A002
                 propagation: str = "", nonrecursive: bool = False, create_host_path: bool = False,
                 relabel: str = "", consistency: str = "", nocopy: bool = False, volume_driver: str = "",
                 volume_options: dict | None = None, volume_labels: dict | None = None, volume_subpath: str = "",
                 tmpfs_size: int = 0, tmpfs_mode: int = 0, tmpfs_extra: list | None = None, raw: str = ""):
        self.type, self.target, self.source, self.readonly = type, target, source, readonly
        self.propagation, self.nonrecursive, self.create_host_path = propagation, nonrecursive, create_host_path
        self.relabel, self.consistency, self.nocopy = relabel, consistency, nocopy
        self.volume_driver, self.volume_subpath = volume_driver, volume_subpath
        self.volume_options = dict(volume_options or {})
        self.volume_labels = dict(volume_labels or {})
        self.tmpfs_size, self.tmpfs_mode = tmpfs_size, tmpfs_mode
        self.tmpfs_extra = list(tmpfs_extra or [])
        self.raw = raw  # the text it was parsed from, for messages

    def _key(self):
        return tuple(getattr(self, k) for k in self.__slots__ if k != "raw")

    def __eq__(self, other):
        return isinstance(other, Mount) and self._key() == other._key()

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__
                           if k in ("type", "target", "source") or getattr(self, k) not in ("", False, 0, [], {}))
        return f"Mount({fields})"

    @property
    def anonymous(self) -> bool:
        return self.type == VOLUME and not self.source


# --- small parsers --------------------------------------------------------------------------------


def parse_bool(text: str, what: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MountError(f"invalid value for {what}: {text!r}")


def parse_size(text: str) -> int:
    """'64m' / '1.5g' / '512' -> bytes (binary units, like Docker's RAMInBytes)."""
    m = _SIZE.match(text.strip())
    if not m:
        raise MountError(f"invalid size: '{text}'")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower()])


def validate_volume_name(name: str) -> None:
    if not _VOLUME_NAME.match(name):
        raise MountError(f"create {name}: \"{name}\" includes invalid characters for a local volume name, "
                         "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                         "directory, use absolute path")


def _clean(path: str) -> str:
    """Lexically cleaned absolute path ("//a/../b/" -> "/b"); relative paths are kept for the errors."""
    return "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else path


# --- -v / Binds -----------------------------------------------------------------------------------


def _parse_mode(mode: str) -> dict | None:
    """The parts of a -v mode, or None when Docker would call it invalid."""
    seen: dict[str, str] = {}
    for o in mode.split(",") if mode else []:
        if o in ("rw", "ro"):
            kind = "rw"
        elif o in _LABEL_MODES:
            kind = "label"
        elif o in PROPAGATIONS:
            kind = "propagation"
        elif o == "nocopy":
            kind = "copy"
        elif o in CONSISTENCIES:
            kind = "consistency"
        else:
            return None
        if kind in seen:
            return None
        seen[kind] = o
    return seen


def parse_volume_spec(raw: str) -> Mount:
    """``-v`` syntax: ``dst`` (anonymous volume), ``src:dst``, ``src:dst:mode``."""
    if not isinstance(raw, str) or not raw:
        raise MountError(f"invalid volume specification: '{raw}'")
    if "\x00" in raw:
        raise MountError(f"invalid volume specification: '{raw}': NUL byte in path")
    arr = raw.split(":")
    mode = ""
    if len(arr) == 1:
        src, dst = "", arr[0]
    elif len(arr) == 2:
        if _parse_mode(arr[1]) is not None:  # "/foo:rw": a mode without a source is not a volume
            raise MountError(f"invalid volume specification: '{raw}'")
        src, dst = arr
    elif len(arr) == 3:
        src, dst, mode = arr
    else:
        raise MountError(f"invalid volume specification: '{raw}'")
    parts = _parse_mode(mode)
    if parts is None:
        raise MountError(f"invalid mode: {mode}")
    kind = BIND if src.startswith("/") else VOLUME
    if kind == VOLUME and parts.get("propagation"):
        raise MountError(f"invalid volume specification: '{raw}': invalid mount config for type \"volume\": "
                         "field BindOptions must not be specified")
    if kind == BIND and parts.get("copy"):
        raise MountError(f"invalid volume specification: '{raw}': invalid mount config for type \"bind\": "
                         "field VolumeOptions must not be specified")
    m = Mount(kind, _clean(dst), _clean(src), parts.get("rw") == "ro", propagation=parts.get("propagation", ""),
              relabel=parts.get("label", ""), consistency=parts.get("consistency", ""),
              nocopy=bool(parts.get("copy")), create_host_path=kind == BIND, raw=raw)
    try:
        validate(m)
    except MountError as e:
        raise MountError(f"invalid volume specification: '{raw}': {e}") from None
    if kind == VOLUME and src:
        validate_volume_name(src)
    return m


# --- HostConfig.Tmpfs / --tmpfs ---------------------------------------------------------------------


def parse_tmpfs_flag(value: str) -> tuple[str, str]:
    """The CLI's ``--tmpfs /run:size=64k`` -> ("/run", "size=64k")."""
    target, _, opts = value.partition(":")
    return target, opts


def parse_tmpfs_entry(target: str, options: str) -> Mount:
    """One ``HostConfig.Tmpfs`` entry: the options are a comma list of mount options."""
    if not isinstance(options, str):
        raise MountError(f"invalid tmpfs options for {target}: expected a string")
    if not target.startswith("/"):
        raise MountError(f"invalid mount path: '{target}' mount path must be absolute")
    extra = [o for o in options.split(",") if o] if options else []
    m = Mount(TMPFS, _clean(target), tmpfs_extra=extra, raw=f"{target}:{options}" if options else target)
    merge_tmpfs_options(extra)  # validates
    if _clean(target) == "/":
        raise MountError("invalid specification: destination can't be '/'")
    return m


# --- HostConfig.Mounts (API) ------------------------------------------------------------------------


def _obj(v, where: str) -> dict:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise MountError(f"{where}: expected an object")
    return v


def _typed(d: dict, key: str, typ, where: str, default):
    v = d.get(key)
    if v is None:
        return default
    if typ is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise MountError(f"{where}.{key}: expected an integer")
    if typ is not int and not isinstance(v, typ):
        raise MountError(f"{where}.{key}: expected a {typ.__name__}")
    return v


def _str_map(d: dict, key: str, where: str) -> dict:
    v = _obj(d.get(key), f"{where}.{key}")
    if not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise MountError(f"{where}.{key}: expected an object of strings")
    return dict(v)


def from_api(obj, where: str = "Mounts") -> Mount:
    """A ``HostConfig.Mounts`` entry (``Type``, ``Source``, ``Target``, ``ReadOnly``, ``*Options``)."""
    d = _obj(obj, where)
    typ = _typed(d, "Type", str, where, "")
    target = _typed(d, "Target", str, where, "")
    source = _typed(d, "Source", str, where, "")
    m = Mount(typ, _clean(target), _clean(source) if typ == BIND else source,
              _typed(d, "ReadOnly", bool, where, False),
              consistency=_typed(d, "Consistency", str, where, ""), raw=f"{where}[{typ}:{target}]")
    bind, vol, tmp = d.get("BindOptions"), d.get("VolumeOptions"), d.get("TmpfsOptions")
    for key, val, owner in (("BindOptions", bind, BIND), ("VolumeOptions", vol, VOLUME), ("TmpfsOptions", tmp, TMPFS)):
        if val is not None and typ in TYPES and typ != owner:
            raise MountError(f"invalid mount config for type \"{typ}\": field {key} must not be specified")
    if bind is not None:
        b = _obj(bind, f"{where}.BindOptions")
        m.propagation = _typed(b, "Propagation", str, f"{where}.BindOptions", "")
        m.nonrecursive = _typed(b, "NonRecursive", bool, f"{where}.BindOptions", False)
        m.create_host_path = _typed(b, "CreateMountpoint", bool, f"{where}.BindOptions", False)
    if vol is not None:
        v = _obj(vol, f"{where}.VolumeOptions")
        m.nocopy = _typed(v, "NoCopy", bool, f"{where}.VolumeOptions", False)
        m.volume_labels = _str_map(v, "Labels", f"{where}.VolumeOptions")
        m.volume_subpath = _typed(v, "Subpath", str, f"{where}.VolumeOptions", "")
        drv = _obj(v.get("DriverConfig"), f"{where}.VolumeOptions.DriverConfig")
        m.volume_driver = _typed(drv, "Name", str, f"{where}.VolumeOptions.DriverConfig", "")
        m.volume_options = _str_map(drv, "Options", f"{where}.VolumeOptions.DriverConfig")
    if tmp is not None:
        t = _obj(tmp, f"{where}.TmpfsOptions")
        m.tmpfs_size = _typed(t, "SizeBytes", int, f"{where}.TmpfsOptions", 0)
        m.tmpfs_mode = _typed(t, "Mode", int, f"{where}.TmpfsOptions", 0)
        opts = _typed(t, "Options", list, f"{where}.TmpfsOptions", [])
        for o in opts:
            if not (isinstance(o, list) and 1 <= len(o) <= 2 and all(isinstance(x, str) for x in o)):
                raise MountError(f"{where}.TmpfsOptions.Options: expected [name] or [name, value] pairs")
            m.tmpfs_extra.append("=".join(o))
    validate(m)
    if m.type == VOLUME and m.source:
        validate_volume_name(m.source)
    return m


def to_api(m: Mount) -> dict:
    """The ``HostConfig.Mounts`` entry for a mount (what the CLI sends for ``--mount``)."""
    out: dict = {"Type": m.type, "Target": m.target}
    if m.source:
        out["Source"] = m.source
    if m.readonly:
        out["ReadOnly"] = True
    if m.consistency:
        out["Consistency"] = m.consistency
    if m.type == BIND and (m.propagation or m.nonrecursive or m.create_host_path):
        b: dict = {}
        if m.propagation:
            b["Propagation"] = m.propagation
        if m.nonrecursive:
            b["NonRecursive"] = True
        if m.create_host_path:
            b["CreateMountpoint"] = True
        out["BindOptions"] = b
    if m.type == VOLUME and (m.nocopy or m.volume_labels or m.volume_driver or m.volume_options or m.volume_subpath):
        v: dict = {}
        if m.nocopy:
            v["NoCopy"] = True
        if m.volume_labels:
            v["Labels"] = dict(m.volume_labels)
        if m.volume_subpath:
            v["Subpath"] = m.volume_subpath
        if m.volume_driver or m.volume_options:
            v["DriverConfig"] = {k: x for k, x in (("Name", m.volume_driver),
                                                    ("Options", dict(m.volume_options))) if x}
        out["VolumeOptions"] = v
    if m.type == TMPFS and (m.tmpfs_size or m.tmpfs_mode or m.tmpfs_extra):
        t: dict = {}
        if m.tmpfs_size:
            t["SizeBytes"] = m.tmpfs_size
        if m.tmpfs_mode:
            t["Mode"] = m.tmpfs_mode
        if m.tmpfs_extra:
            t["Options"] = [o.split("=", 1) for o in m.tmpfs_extra]
        out["TmpfsOptions"] = t
    return out


# --- --mount (CLI) ----------------------------------------------------------------------------------

_MOUNT_KEYS = {
    "type": "type", "source": "source", "src": "source", "target": "target", "destination": "target",
    "dst": "target", "readonly": "readonly", "ro": "readonly", "consistency": "consistency",
    "bind-propagation": "bind-propagation", "bind-nonrecursive": "bind-nonrecursive",
    "bind-create-mountpoint": "bind-create-mountpoint", "volume-driver": "volume-driver",
    "volume-opt": "volume-opt", "volume-nocopy": "volume-nocopy", "volume-label": "volume-label",
    "volume-subpath": "volume-subpath", "tmpfs-size": "tmpfs-size", "tmpfs-mode": "tmpfs-mode",
}


def _csv_fields(value: str) -> list[str]:
    """Docker reads --mount as one CSV record: fields may be quoted ("a,b")."""
    out, cur, quoted, i = [], [], False, 0
    while i < len(value):
        c = value[i]
        if c == '"':
            if quoted and i + 1 < len(value) and value[i + 1] == '"':
                cur.append('"')
                i += 1
            else:
                quoted = not quoted
        elif c == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if quoted:
        raise MountError(f"invalid mount specification {value!r}: unterminated quote")
    out.append("".join(cur))
    return out


def parse_mount_flag(value: str) -> Mount:
    """The CLI's ``--mount type=…,source=…,target=…[,readonly][,bind-propagation=…][,volume-opt=k=v]…``."""
    m = Mount(VOLUME, "", raw=value)  # Docker's default type is volume
    prefixes: set[str] = set()
    for field in _csv_fields(value):
        key, eq, val = field.partition("=")
        lkey = key.strip().lower()
        if lkey not in _MOUNT_KEYS:
            if not eq:
                raise MountError(f"invalid field '{field}' must be a key=value pair")
            raise MountError(f"unexpected key '{key}' in '{field}'")
        k = _MOUNT_KEYS[lkey]
        if not eq and k not in ("readonly", "volume-nocopy", "bind-nonrecursive", "bind-create-mountpoint"):
            raise MountError(f"invalid field '{field}' must be a key=value pair")
        if "-" in k:
            prefixes.add(k.split("-", 1)[0])
        if k == "type":
            m.type = val.lower()
        elif k == "source":
            m.source = val
        elif k == "target":
            m.target = val
        elif k == "readonly":
            m.readonly = parse_bool(val, key) if eq else True
        elif k == "consistency":
            m.consistency = val
        elif k == "bind-propagation":
            m.propagation = val.lower()
        elif k == "bind-nonrecursive":
            m.nonrecursive = parse_bool(val, key) if eq else True
        elif k == "bind-create-mountpoint":
            m.create_host_path = parse_bool(val, key) if eq else True
        elif k == "volume-driver":
            m.volume_driver = val
        elif k == "volume-subpath":
            m.volume_subpath = val
        elif k == "volume-nocopy":
            m.nocopy = parse_bool(val, key) if eq else True
        elif k in ("volume-opt", "volume-label"):
            name, eq2, v = val.partition("=")
            (m.volume_options if k == "volume-opt" else m.volume_labels)[name] = v
            if k == "volume-opt" and not eq2:
                raise MountError(f"invalid volume-opt '{val}': expected name=value")
        elif k == "tmpfs-size":
            m.tmpfs_size = parse_size(val)
        elif k == "tmpfs-mode":
            try:
                m.tmpfs_mode = int(val, 8)
            except ValueError:
                raise MountError(f"invalid value for {key}: {val}") from None
    if not m.type:
        raise MountError("type is required")
    if not m.target:
        raise MountError("target is required")
    for prefix in prefixes:
        if prefix != m.type:
            raise MountError(f"cannot mix '{prefix}-*' options with mount type '{m.type}'")
    if m.type == BIND:
        m.source, m.target = _clean(m.source), _clean(m.target)
    else:
        m.target = _clean(m.target)
    validate(m)
    return m


# --- validation and tmpfs options ------------------------------------------------------------------


def validate(m: Mount) -> None:
    """dockerd's checks of one mount (validateMountConfig), except that bind sources exist."""
    def fail(msg):
        raise MountError(f"invalid mount config for type \"{m.type}\": {msg}")

    if not m.target:
        fail("field Target must not be empty")
    if "\x00" in m.target or "\x00" in m.source:
        fail("NUL byte in path")
    if _clean(m.target) == "/":
        fail("invalid specification: destination can't be '/'")
    if not m.target.startswith("/"):
        fail(f"invalid mount path: '{m.target}' mount path must be absolute")
    if m.type == BIND:
        if not m.source:
            fail("field Source must not be empty")
        if m.propagation and m.propagation not in PROPAGATIONS:
            fail(f"invalid propagation mode: {m.propagation}")
        if not m.source.startswith("/"):
            fail(f"invalid mount path: '{m.source}' mount path must be absolute")
    elif m.type == VOLUME:
        if not m.source and m.readonly:
            fail("must not set ReadOnly mode when using anonymous volumes")
        if m.volume_subpath and (m.volume_subpath.startswith("/") or ".." in m.volume_subpath.split("/")):
            fail(f"invalid volume subpath: '{m.volume_subpath}' must be a relative path inside the volume")
    elif m.type == TMPFS:
        if m.source:
            fail("field Source must not be specified")
        if m.tmpfs_size < 0:
            fail(f"invalid tmpfs size: {m.tmpfs_size}")
        if not 0 <= m.tmpfs_mode <= 0o7777:
            fail(f"invalid tmpfs mode: {m.tmpfs_mode:o}")
        try:
            merge_tmpfs_options(tmpfs_data(m))
        except MountError as e:
            fail(str(e))
    else:
        fail("mount type unknown")


def tmpfs_data(m: Mount) -> list[str]:
    """Options of a tmpfs from its fields (Docker's ConvertTmpfsOptions), then the raw extras."""
    out = ["ro"] if m.readonly else []
    if m.tmpfs_mode:
        out.append(f"mode={m.tmpfs_mode:o}")
    if m.tmpfs_size:
        size, suffix = m.tmpfs_size, ""
        for suf, div in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
            if size % div == 0:
                size, suffix = size // div, suf
                break
        out.append(f"size={size}{suffix}")
    return out + list(m.tmpfs_extra)


# option -> the flag it sets or clears (ro and rw collide, as do suid and nosuid, …)
_TMPFS_FLAGS = {
    "ro": "rdonly", "rw": "rdonly", "suid": "nosuid", "nosuid": "nosuid", "dev": "nodev", "nodev": "nodev",
    "exec": "noexec", "noexec": "noexec", "sync": "sync", "async": "sync", "dirsync": "dirsync",
    "remount": "remount", "mand": "mand", "nomand": "mand", "atime": "noatime", "noatime": "noatime",
    "diratime": "nodiratime", "nodiratime": "nodiratime", "bind": "bind", "rbind": "rbind",
    "relatime": "relatime", "norelatime": "relatime", "strictatime": "strictatime",
    "nostrictatime": "strictatime", "private": "private", "rprivate": "rprivate", "shared": "shared",
    "rshared": "rshared", "slave": "slave", "rslave": "rslave", "unbindable": "unbindable",
    "runbindable": "runbindable",
}
_TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")


def merge_tmpfs_options(options: list[str]) -> list[str]:
    """Later options win over earlier ones that set the same flag or key (Docker's MergeTmpfsOptions)."""
    out: list[str] = []
    flags, data = set(), set()
    for opt in reversed(options):
        if opt == "defaults":
            continue
        if opt in _TMPFS_FLAGS:
            if _TMPFS_FLAGS[opt] in flags:
                continue
            flags.add(_TMPFS_FLAGS[opt])
            out.insert(0, opt)
            continue
        key, eq, val = opt.partition("=")
        if not eq or key not in _TMPFS_DATA or not val or any(c in val for c in ", \t\n\x00"):
            raise MountError(f"invalid tmpfs option \"{opt}\"")
        if key not in data:
            data.add(key)
            out.insert(0, opt)
    return out


def tmpfs_options(m: Mount) -> list[str]:
    """The OCI options of a tmpfs mount, as dockerd writes them."""
    return merge_tmpfs_options(["noexec", "nosuid", "nodev", DEFAULT_PROPAGATION] + tmpfs_data(m))
