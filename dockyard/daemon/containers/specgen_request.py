"""The Engine API ``ContainerCreateRequest`` body, read once into typed fields.

Only the fields spec generation uses are read; each is type-checked here and a wrong type is a
``SpecGenError`` naming it (``HostConfig.Memory: expected an integer, got string``). Absent and
``null`` are the same. ``Cmd`` and ``Entrypoint`` accept a bare string, as Docker's strslice does, and
keep the difference between absent (None), ``[]`` and ``[""]``, which the entrypoint rules need.
"""
from __future__ import annotations

from typing import Any

from .specgen_errors import SpecGenError

MAX_LIST = 10000


def _tname(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(v), type(v).__name__)


class _Obj:
    """Typed reads from one JSON object; errors name ``where.key``."""

    def __init__(self, d: Any, where: str):
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise SpecGenError(f"{where}: expected an object, got {_tname(d)}")
        self.d, self.where = d, where

    def fail(self, key: str, msg: str):
        raise SpecGenError(f"{self.where}.{key}: {msg}")

    def str(self, key: str, default: str = "") -> str:
        v = self.d.get(key)
        if v is None:
            return default
        if not isinstance(v, str):
            self.fail(key, f"expected a string, got {_tname(v)}")
        if "\x00" in v:
            self.fail(key, "contains a NUL byte")
        return v

    def bool(self, key: str, default: bool | None = False) -> bool | None:
        v = self.d.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            self.fail(key, f"expected a boolean, got {_tname(v)}")
        return v

    def int(self, key: str, default: int | None = 0) -> int | None:
        v = self.d.get(key)
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            if not (isinstance(v, float) and v.is_integer()):
                self.fail(key, f"expected an integer, got {_tname(v)}")
            v = int(v)
        if not -(1 << 63) <= v < (1 << 64):
            self.fail(key, f"{v} is out of range")
        return v

    def strs(self, key: str, str_ok: bool = False) -> list[str] | None:
        v = self.d.get(key)
        if v is None:
            return None
        if str_ok and isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            self.fail(key, f"expected an array of strings, got {_tname(v)}")
        if not all(isinstance(x, str) for x in v):
            self.fail(key, "expected an array of strings")
        if len(v) > MAX_LIST:
            self.fail(key, f"{len(v)} entries exceed the limit of {MAX_LIST}")
        if any("\x00" in x for x in v):
            self.fail(key, "contains a NUL byte")
        return list(v)

    def str_map(self, key: str) -> dict[str, str]:
        v = self.d.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            self.fail(key, f"expected an object of strings, got {_tname(v)}")
        if any("\x00" in k or "\x00" in x for k, x in v.items()):
            self.fail(key, "contains a NUL byte")
        return dict(v)

    def keys(self, key: str) -> list[str]:
        """Go's map[string]struct{}: the keys of an object."""
        v = self.d.get(key)
        if v is None:
            return []
        if not isinstance(v, dict):
            self.fail(key, f"expected an object, got {_tname(v)}")
        return list(v)

    def objs(self, key: str) -> list["_Obj"]:
        v = self.d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.fail(key, f"expected an array, got {_tname(v)}")
        if len(v) > MAX_LIST:
            self.fail(key, f"{len(v)} entries exceed the limit of {MAX_LIST}")
        return [_Obj(x, f"{self.where}.{key}[{i}]") for i, x in enumerate(v)]

    def raw_list(self, key: str) -> list:
        v = self.d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.fail(key, f"expected an array, got {_tname(v)}")
        return v

    def obj(self, key: str) -> "_Obj":
        return _Obj(self.d.get(key), f"{self.where}.{key}")


class Ulimit:
    __slots__ = ("name", "soft", "hard")

    def __init__(self, name: str, soft: int, hard: int):
        self.name, self.soft, self.hard = name, soft, hard


class DeviceMapping:
    __slots__ = ("path_on_host", "path_in_container", "permissions")

    def __init__(self, path_on_host: str, path_in_container: str, permissions: str):
        self.path_on_host, self.path_in_container, self.permissions = path_on_host, path_in_container, permissions


class HostConfig:
    """``HostConfig`` (with its ``Resources``)."""

    def __init__(self, d: Any):
        o = _Obj(d, "HostConfig")
        self.binds = o.strs("Binds") or []
        self.mounts_raw = o.raw_list("Mounts")
        self.tmpfs = o.str_map("Tmpfs")
        self.volumes_from = o.strs("VolumesFrom") or []
        self.network_mode = o.str("NetworkMode")
        self.ipc_mode = o.str("IpcMode")
        self.pid_mode = o.str("PidMode")
        self.uts_mode = o.str("UTSMode")
        self.userns_mode = o.str("UsernsMode")
        self.cgroupns_mode = o.str("CgroupnsMode")
        self.cgroup = o.str("Cgroup")
        self.privileged = o.bool("Privileged")
        self.readonly_rootfs = o.bool("ReadonlyRootfs")
        self.cap_add = o.strs("CapAdd") or []
        self.cap_drop = o.strs("CapDrop") or []
        self.group_add = o.strs("GroupAdd") or []
        self.security_opt = o.strs("SecurityOpt") or []
        self.sysctls = o.str_map("Sysctls")
        self.oom_score_adj = o.int("OomScoreAdj")
        self.shm_size = o.int("ShmSize")
        self.init = o.bool("Init", None)
        self.masked_paths = o.strs("MaskedPaths")
        self.readonly_paths = o.strs("ReadonlyPaths")
        self.dns = o.strs("Dns") or []
        self.dns_search = o.strs("DnsSearch") or []
        self.dns_options = o.strs("DnsOptions") or []
        self.extra_hosts = o.strs("ExtraHosts") or []
        self.publish_all_ports = o.bool("PublishAllPorts")
        self.port_bindings = o.obj("PortBindings").d
        self.links = o.strs("Links") or []
        self.isolation = o.str("Isolation")
        rp, lc = o.obj("RestartPolicy"), o.obj("LogConfig")  # used by create: their types are checked here
        rp.str("Name"), rp.int("MaximumRetryCount"), lc.str("Type"), lc.str_map("Config")
        self.console_size = [x for x in (o.raw_list("ConsoleSize") or [])]
        if not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1 << 16 for x in self.console_size) \
                or len(self.console_size) not in (0, 2):
            o.fail("ConsoleSize", "expected [height, width]")
        # Resources
        self.cgroup_parent = o.str("CgroupParent")
        self.memory = o.int("Memory")
        self.memory_reservation = o.int("MemoryReservation")
        self.memory_swap = o.int("MemorySwap")
        self.memory_swappiness = o.int("MemorySwappiness", None)
        self.kernel_memory = o.int("KernelMemory")
        self.kernel_memory_tcp = o.int("KernelMemoryTCP")
        self.oom_kill_disable = o.bool("OomKillDisable", None)
        self.nano_cpus = o.int("NanoCpus")
        self.cpu_shares = o.int("CpuShares")
        self.cpu_period = o.int("CpuPeriod")
        self.cpu_quota = o.int("CpuQuota")
        self.cpu_rt_period = o.int("CpuRealtimePeriod")
        self.cpu_rt_runtime = o.int("CpuRealtimeRuntime")
        self.cpuset_cpus = o.str("CpusetCpus")
        self.cpuset_mems = o.str("CpusetMems")
        self.cpu_count = o.int("CpuCount")
        self.cpu_percent = o.int("CpuPercent")
        self.io_maximum_iops = o.int("IOMaximumIOps")
        self.io_maximum_bandwidth = o.int("IOMaximumBandwidth")
        self.pids_limit = o.int("PidsLimit", None)
        self.blkio_weight = o.int("BlkioWeight")
        self.blkio_weight_device = [(x.str("Path"), x.int("Weight")) for x in o.objs("BlkioWeightDevice")]
        self.blkio_throttle = {key: [(x.str("Path"), x.int("Rate")) for x in o.objs(key)]
                               for key in ("BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                                           "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps")}
        self.ulimits = [Ulimit(x.str("Name"), x.int("Soft"), x.int("Hard")) for x in o.objs("Ulimits")]
        self.devices = [DeviceMapping(x.str("PathOnHost"), x.str("PathInContainer"), x.str("CgroupPermissions"))
                        for x in o.objs("Devices")]
        self.device_cgroup_rules = o.strs("DeviceCgroupRules") or []
        self.device_requests = o.raw_list("DeviceRequests")


class CreateRequest:
    """The body of ``POST /containers/create``: ``Config`` fields at the top level, ``HostConfig``,
    ``NetworkingConfig``."""

    def __init__(self, body: Any):
        o = _Obj(body, "Config")
        self.raw = o.d
        self.hostname = o.str("Hostname")
        self.domainname = o.str("Domainname")
        self.user = o.str("User")
        self.tty = o.bool("Tty")
        self.open_stdin = o.bool("OpenStdin")
        self.env = o.strs("Env")
        self.cmd = o.strs("Cmd", str_ok=True)
        self.entrypoint = o.strs("Entrypoint", str_ok=True)
        self.image = o.str("Image")
        self.volumes = o.keys("Volumes")
        self.working_dir = o.str("WorkingDir")
        self.labels = o.str_map("Labels")
        self.stop_signal = o.str("StopSignal")
        self.stop_timeout = o.int("StopTimeout", None)
        self.mac_address = o.str("MacAddress")
        self.network_disabled = o.bool("NetworkDisabled")
        self.exposed_ports = o.keys("ExposedPorts")
        hc = o.obj("Healthcheck")  # used by the health monitor: its types are checked here
        hc.strs("Test"), [hc.int(k) for k in ("Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")]
        self.host = HostConfig(o.d.get("HostConfig"))
        self.networking = o.obj("NetworkingConfig").d


def parse_request(body: Any) -> CreateRequest:
    return body if isinstance(body, CreateRequest) else CreateRequest(body)
