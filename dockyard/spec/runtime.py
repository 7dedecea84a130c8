"""OCI runtime-spec types (config.json), validated at the boundary and converted once.

``load_spec(path)`` / ``Spec.from_dict(d)`` raise ``SpecError`` with the JSON path of
the offending field. Everything else in Dockyard works on these dataclasses.
"""
from __future__ import annotations

from ..util import fastjson as json
from ..util.record import record as dataclass, field


class SpecError(ValueError):
    """config.json is unreadable or invalid."""


_NS_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")


class _R:
    """Typed reader over one JSON object, naming the path in every error."""

    def __init__(self, d: object, path: str):
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise SpecError(f"{path} must be an object")
        self.d, self.path = d, path

    def _err(self, key, what):
        return SpecError(f"{self.path}.{key} must be {what}")

    def str(self, key, default: object = ""):
        v = self.d.get(key, default)
        if v is not None and not isinstance(v, str):
            raise self._err(key, "a string")
        return v

    def bool(self, key, default=False):
        v = self.d.get(key, default)
        if not isinstance(v, bool):
            raise self._err(key, "a boolean")
        return v

    def int(self, key, default: object = None):
        v = self.d.get(key, default)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise self._err(key, "an integer")
        return v

    def strs(self, key):
        v = self.d.get(key) or []
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self._err(key, "a list of strings")
        return list(v)

    def objs(self, key):
        v = self.d.get(key) or []
        if not isinstance(v, list):
            raise self._err(key, "a list")
        return [_R(x, f"{self.path}.{key}[{i}]") for i, x in enumerate(v)]

    def obj(self, key):
        v = self.d.get(key)
        return None if v is None else _R(v, f"{self.path}.{key}")

    def strmap(self, key):
        v = self.d.get(key) or {}
        if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
            raise self._err(key, "an object of strings")
        return dict(v)


@dataclass
class User:
    uid: int = 0
    gid: int = 0
    umask: int | None = None
    additional_gids: list[int] = field(default_factory=list)
    username: str = ""

    @classmethod
    def parse(cls, r: _R) -> "User":
        gids = r.d.get("additionalGids") or []
        if not isinstance(gids, list) or not all(isinstance(g, int) and g >= 0 for g in gids):
            raise SpecError(f"{r.path}.additionalGids must be a list of integers")
        uid, gid = r.int("uid", 0), r.int("gid", 0)
        if uid < 0 or gid < 0:
            raise SpecError(f"{r.path}: uid and gid must not be negative")
        return cls(uid, gid, r.int("umask"), gids, r.str("username", ""))


@dataclass
class Capabilities:
    bounding: list[str] = field(default_factory=list)
    effective: list[str] = field(default_factory=list)
    permitted: list[str] = field(default_factory=list)
    inheritable: list[str] = field(default_factory=list)
    ambient: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, r: _R) -> "Capabilities":
        return cls(*(r.strs(k) for k in ("bounding", "effective", "permitted", "inheritable", "ambient")))


@dataclass
class Rlimit:
    type: str
    soft: int
    hard: int


@dataclass
class Process:
    args: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    cwd: str = "/"
    terminal: bool = False
    console_size: tuple[int, int] | None = None  # (height, width)
    user: User = field(default_factory=User)
    capabilities: Capabilities | None = None
    rlimits: list[Rlimit] = field(default_factory=list)
    no_new_privileges: bool = False
    oom_score_adj: int | None = None
    apparmor_profile: str = ""
    selinux_label: str = ""

    @classmethod
    def parse(cls, r: _R) -> "Process":
        cwd = r.str("cwd", "/") or "/"
        if not cwd.startswith("/"):
            raise SpecError(f"{r.path}.cwd must be an absolute path, got {cwd!r}")
        caps = r.obj("capabilities")
        cs = r.obj("consoleSize")
        rlimits = []
        for x in r.objs("rlimits"):
            t = x.str("type")
            if not t.startswith("RLIMIT_"):
                raise SpecError(f"{x.path}.type: unknown rlimit {t!r}")
            rlimits.append(Rlimit(t, x.int("soft", 0), x.int("hard", 0)))
        user = r.obj("user")
        return cls(
            args=r.strs("args"),
            env=r.strs("env"),
            cwd=cwd,
            terminal=r.bool("terminal", False),
            console_size=(cs.int("height", 0), cs.int("width", 0)) if cs else None,
            user=User.parse(user) if user else User(),
            capabilities=Capabilities.parse(caps) if caps else None,
            rlimits=rlimits,
            no_new_privileges=r.bool("noNewPrivileges", False),
            oom_score_adj=r.int("oomScoreAdj"),
            apparmor_profile=r.str("apparmorProfile", ""),
            selinux_label=r.str("selinuxLabel", ""),
        )


@dataclass
class Mount:
    destination: str
    type: str = ""
    source: str = ""
    options: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, r: _R) -> "Mount":
        dest = r.str("destination")
        if not dest:
            raise SpecError(f"{r.path}.destination is required")
        return cls(dest, r.str("type", "") or "", r.str("source", "") or "", r.strs("options"))


@dataclass
class Hook:
    path: str
    args: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    timeout: int | None = None

    @classmethod
    def parse(cls, r: _R) -> "Hook":
        p = r.str("path")
        if not p.startswith("/"):
            raise SpecError(f"{r.path}.path must be an absolute path")
        t = r.int("timeout")
        if t is not None and t <= 0:
            raise SpecError(f"{r.path}.timeout must be positive")
        return cls(p, r.strs("args"), r.strs("env"), t)


HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")


@dataclass
class Namespace:
    type: str
    path: str = ""


@dataclass
class IDMapping:
    container_id: int
    host_id: int
    size: int

    @classmethod
    def parse_list(cls, r: _R, key: str) -> list["IDMapping"]:
        out = []
        for x in r.objs(key):
            m = cls(x.int("containerID", 0), x.int("hostID", 0), x.int("size", 0))
            if m.size <= 0 or m.container_id < 0 or m.host_id < 0:
                raise SpecError(f"{x.path}: invalid id mapping")
            out.append(m)
        return out


@dataclass
class Device:
    type: str
    path: str
    major: int = 0
    minor: int = 0
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None

    @classmethod
    def parse(cls, r: _R) -> "Device":
        t = r.str("type")
        if t not in ("c", "b", "u", "p"):
            raise SpecError(f"{r.path}.type must be one of c, b, u, p")
        p = r.str("path")
        if not p.startswith("/dev/"):
            raise SpecError(f"{r.path}.path must be under /dev, got {p!r}")
        return cls(t, p, r.int("major", 0), r.int("minor", 0), r.int("fileMode"), r.int("uid"), r.int("gid"))


@dataclass
class DeviceRule:
    allow: bool
    type: str = "a"
    major: int | None = None
    minor: int | None = None
    access: str = "rwm"


@dataclass
class Memory:
    limit: int | None = None
    reservation: int | None = None
    swap: int | None = None
    kernel: int | None = None
    kernel_tcp: int | None = None
    swappiness: int | None = None
    disable_oom_killer: bool | None = None
    use_hierarchy: bool | None = None


@dataclass
class CPU:
    shares: int | None = None
    quota: int | None = None
    burst: int | None = None
    period: int | None = None
    realtime_runtime: int | None = None
    realtime_period: int | None = None
    cpus: str = ""
    mems: str = ""
    idle: int | None = None


@dataclass
class WeightDevice:
    major: int
    minor: int
    weight: int | None = None
    leaf_weight: int | None = None


@dataclass
class ThrottleDevice:
    major: int
    minor: int
    rate: int


@dataclass
class BlockIO:
    weight: int | None = None
    leaf_weight: int | None = None
    weight_device: list[WeightDevice] = field(default_factory=list)
    throttle_read_bps: list[ThrottleDevice] = field(default_factory=list)
    throttle_write_bps: list[ThrottleDevice] = field(default_factory=list)
    throttle_read_iops: list[ThrottleDevice] = field(default_factory=list)
    throttle_write_iops: list[ThrottleDevice] = field(default_factory=list)


@dataclass
class Resources:
    devices: list[DeviceRule] = field(default_factory=list)
    memory: Memory | None = None
    cpu: CPU | None = None
    pids_limit: int | None = None
    block_io: BlockIO | None = None
    unified: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, r: _R) -> "Resources":
        devs = []
        for x in r.objs("devices"):
            access = x.str("access", "rwm") or "rwm"
            if not access or set(access) - set("rwm"):
                raise SpecError(f"{x.path}.access must be made of r, w, m")
            t = x.str("type", "a") or "a"
            if t not in ("a", "c", "b"):
                raise SpecError(f"{x.path}.type must be a, c or b")
            devs.append(DeviceRule(x.bool("allow", False), t, x.int("major"), x.int("minor"), access))
        mem = cpu = bio = None
        if (m := r.obj("memory")) is not None:
            dis = m.d.get("disableOOMKiller")
            uh = m.d.get("useHierarchy")
            mem = Memory(m.int("limit"), m.int("reservation"), m.int("swap"), m.int("kernel"), m.int("kernelTCP"),
                         m.int("swappiness"), None if dis is None else m.bool("disableOOMKiller"),
                         None if uh is None else m.bool("useHierarchy"))
        if (c := r.obj("cpu")) is not None:
            cpu = CPU(c.int("shares"), c.int("quota"), c.int("burst"), c.int("period"), c.int("realtimeRuntime"),
                      c.int("realtimePeriod"), c.str("cpus", "") or "", c.str("mems", "") or "", c.int("idle"))
        if (b := r.obj("blockIO")) is not None:
            def thr(key):
                return [ThrottleDevice(x.int("major", 0), x.int("minor", 0), x.int("rate", 0)) for x in b.objs(key)]
            bio = BlockIO(b.int("weight"), b.int("leafWeight"),
                          [WeightDevice(x.int("major", 0), x.int("minor", 0), x.int("weight"), x.int("leafWeight"))
                           for x in b.objs("weightDevice")],
                          thr("throttleReadBpsDevice"), thr("throttleWriteBpsDevice"),
                          thr("throttleReadIOPSDevice"), thr("throttleWriteIOPSDevice"))
        pids = r.obj("pids")
        return cls(devs, mem, cpu, pids.int("limit") if pids else None, bio, r.strmap("unified"))


@dataclass
class SeccompArg:
    index: int
    value: int
    value_two: int = 0
    op: str = "SCMP_CMP_EQ"


@dataclass
class SeccompSyscall:
    names: list[str]
    action: str
    errno_ret: int | None = None
    args: list[SeccompArg] = field(default_factory=list)


@dataclass
class Seccomp:
    default_action: str
    default_errno_ret: int | None = None
    architectures: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    listener_path: str = ""
    syscalls: list[SeccompSyscall] = field(default_factory=list)

    @classmethod
    def parse(cls, r: _R) -> "Seccomp":
        calls = []
        for x in r.objs("syscalls"):
            args = [SeccompArg(a.int("index", 0), a.int("value", 0), a.int("valueTwo", 0) or 0, a.str("op", "SCMP_CMP_EQ"))
                    for a in x.objs("args")]
            calls.append(SeccompSyscall(x.strs("names"), x.str("action"), x.int("errnoRet"), args))
        da = r.str("defaultAction")
        if not da:
            raise SpecError(f"{r.path}.defaultAction is required")
        return cls(da, r.int("defaultErrnoRet"), r.strs("architectures"), r.strs("flags"), r.str("listenerPath", ""), calls)


@dataclass
class Linux:
    namespaces: list[Namespace] = field(default_factory=list)
    uid_mappings: list[IDMapping] = field(default_factory=list)
    gid_mappings: list[IDMapping] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    cgroups_path: str = ""
    resources: Resources | None = None
    rootfs_propagation: str = ""
    seccomp: Seccomp | None = None
    sysctl: dict[str, str] = field(default_factory=dict)
    masked_paths: list[str] = field(default_factory=list)
    readonly_paths: list[str] = field(default_factory=list)
    mount_label: str = ""

    @classmethod
    def parse(cls, r: _R) -> "Linux":
        nss, seen = [], set()
        for x in r.objs("namespaces"):
            t = x.str("type")
            if t not in _NS_TYPES:
                raise SpecError(f"{x.path}.type: unknown namespace type {t!r}")
            if t in seen:
                raise SpecError(f"{x.path}: namespace {t!r} listed twice")
            seen.add(t)
            nss.append(Namespace(t, x.str("path", "") or ""))
        prop = r.str("rootfsPropagation", "") or ""
        if prop and prop not in ("private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"):
            raise SpecError(f"{r.path}.rootfsPropagation: unknown propagation {prop!r}")
        res, sec = r.obj("resources"), r.obj("seccomp")
        return cls(
            namespaces=nss,
            uid_mappings=IDMapping.parse_list(r, "uidMappings"),
            gid_mappings=IDMapping.parse_list(r, "gidMappings"),
            devices=[Device.parse(x) for x in r.objs("devices")],
            cgroups_path=r.str("cgroupsPath", "") or "",
            resources=Resources.parse(res) if res else None,
            rootfs_propagation=prop,
            seccomp=Seccomp.parse(sec) if sec else None,
            sysctl=r.strmap("sysctl"),
            masked_paths=r.strs("maskedPaths"),
            readonly_paths=r.strs("readonlyPaths"),
            mount_label=r.str("mountLabel", "") or "",
        )

    def namespace(self, kind: str) -> Namespace | None:
        return next((n for n in self.namespaces if n.type == kind), None)


@dataclass
class Spec:
    oci_version: str
    root_path: str
    root_readonly: bool = False
    process: Process | None = None
    hostname: str = ""
    domainname: str = ""
    mounts: list[Mount] = field(default_factory=list)
    hooks: dict[str, list[Hook]] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    linux: Linux = field(default_factory=Linux)
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: object) -> "Spec":
        r = _R(d, "config")
        ver = r.str("ociVersion", "")
        if not ver:
            raise SpecError("config.ociVersion is required")
        if not ver.startswith("1."):
            raise SpecError(f"config.ociVersion {ver!r} is not supported (need 1.x)")
        root = r.obj("root")
        if root is None or not root.str("path"):
            raise SpecError("config.root.path is required")
        hooks = {}
        if (h := r.obj("hooks")) is not None:
            for kind in HOOK_KINDS:
                hooks[kind] = [Hook.parse(x) for x in h.objs(kind)]
        proc = r.obj("process")
        lin = r.obj("linux")
        spec = cls(
            oci_version=ver,
            root_path=root.str("path"),
            root_readonly=root.bool("readonly", False),
            process=Process.parse(proc) if proc else None,
            hostname=r.str("hostname", "") or "",
            domainname=r.str("domainname", "") or "",
            mounts=[Mount.parse(x) for x in r.objs("mounts")],
            hooks=hooks,
            annotations=r.strmap("annotations"),
            linux=Linux.parse(lin) if lin else Linux(),
            raw=d,
        )
        if spec.hostname and not spec.linux.namespace("uts"):
            # runc refuses this too: the host's hostname would change
            raise SpecError("config.hostname requires a private uts namespace")
        return spec

    def hooks_of(self, kind: str) -> list[Hook]:
        return self.hooks.get(kind, [])


def load_spec(path: str) -> Spec:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise SpecError(f"config.json not found: {path}") from None
    except OSError as e:
        raise SpecError(f"cannot read {path}: {e.strerror}") from None
    try:
        d = json.loads(data)
    except ValueError as e:
        raise SpecError(f"invalid JSON in {path}: {e}") from None
    return Spec.from_dict(d)


def parse_resources(d: object) -> Resources:
    """Resources as given to ``update --resources`` (the linux.resources object)."""
    return Resources.parse(_R(d, "resources"))


def parse_process(d: object) -> Process:
    """A process.json as given to ``exec --process``."""
    return Process.parse(_R(d, "process"))
