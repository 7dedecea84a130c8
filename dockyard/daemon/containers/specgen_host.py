"""Facts about the host that spec generation depends on, probed once (``HostInfo.probe()``).

Everything is a plain attribute so tests build a ``HostInfo`` by hand: the capabilities this daemon
holds (what ``--privileged`` and ``--cap-add ALL`` grant), CPUs and memory nodes, which cgroup knobs the
kernel has (Docker discards, with a warning, what the kernel lacks), the host's hostname, resolv.conf
and hosts files, and the propagation of the host mounts bind sources live on.
"""
from __future__ import annotations

import os
import socket

from .defaults import INIT_CANDIDATES

# capability numbers (the kernel's); names in numeric order
CAP_BY_NUMBER = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)


def caps_from_mask(mask: int) -> tuple[str, ...]:
    return tuple(name for i, name in enumerate(CAP_BY_NUMBER) if mask >> i & 1)


def parse_cpu_list(text: str) -> set[int] | None:
    """'0-3,5' -> {0,1,2,3,5}; None when malformed."""
    out: set[int] = set()
    text = text.strip()
    if not text:
        return out
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            return None
        a, b = int(lo), int(hi) if dash else int(lo)
        if b < a or b > 1 << 16:
            return None
        out.update(range(a, b + 1))
    return out


def _read(path: str, default: str = "") -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


class HostInfo:
    """What this host offers; ``probe()`` reads it from /proc and /sys."""

    def __init__(self, *, capabilities=CAP_BY_NUMBER, ncpu: int = 1, cpus: str = "0", mems: str = "0",
                 cgroup_version: int = 1, memory_limit: bool = True, swap_limit: bool = True,
                 memory_reservation: bool = True, swappiness: bool = True, kernel_memory: bool = True,
                 oom_kill_disable: bool = True, cpu_shares: bool = True, cpu_cfs: bool = True,
                 cpu_realtime: bool = True, cpuset: bool = True, pids_limit: bool = True,
                 blkio_weight: bool = True, blkio_weight_device: bool = True, blkio_throttle: bool = True,
                 hostname: str = "localhost", resolv_conf: str = "/etc/resolv.conf", hosts: str = "/etc/hosts",
                 dev_shm: bool = True, init_path: str | None = None, mountinfo: str = "/proc/self/mountinfo",
                 dev_root: str = "/dev"):
        self.capabilities = tuple(capabilities)
        self.ncpu, self.cpus, self.mems, self.cgroup_version = ncpu, cpus, mems, cgroup_version
        self.memory_limit, self.swap_limit, self.memory_reservation = memory_limit, swap_limit, memory_reservation
        self.swappiness, self.kernel_memory, self.oom_kill_disable = swappiness, kernel_memory, oom_kill_disable
        self.cpu_shares, self.cpu_cfs, self.cpu_realtime, self.cpuset = cpu_shares, cpu_cfs, cpu_realtime, cpuset
        self.pids_limit = pids_limit
        self.blkio_weight, self.blkio_weight_device, self.blkio_throttle = (blkio_weight, blkio_weight_device,
                                                                            blkio_throttle)
        self.hostname, self.resolv_conf, self.hosts = hostname, resolv_conf, hosts
        self.dev_shm, self.init_path, self.mountinfo, self.dev_root = dev_shm, init_path, mountinfo, dev_root

    @classmethod
    def probe(cls) -> "HostInfo":
        status = _read("/proc/self/status")
        bnd = next((line.split()[1] for line in status.splitlines() if line.startswith("CapBnd:")), "0")
        caps = caps_from_mask(int(bnd, 16))
        v2 = not os.path.isdir("/sys/fs/cgroup/memory") and os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        info = cls(capabilities=caps, ncpu=os.cpu_count() or 1, cgroup_version=2 if v2 else 1,
                   hostname=socket.gethostname(), resolv_conf=host_resolv_conf_path(),
                   dev_shm=os.path.isdir("/dev/shm"), init_path=find_init())
        if v2:
            root = "/sys/fs/cgroup"
            ctrls = set(_read(f"{root}/cgroup.controllers").split())
            info.cpus = _read(f"{root}/cpuset.cpus.effective").strip() or _online_cpus()
            info.mems = _read(f"{root}/cpuset.mems.effective").strip() or "0"
            info.memory_limit = info.memory_reservation = info.oom_kill_disable = "memory" in ctrls
            info.swap_limit = "memory" in ctrls
            info.swappiness = info.kernel_memory = False
            info.cpu_shares = info.cpu_cfs = "cpu" in ctrls
            info.cpu_realtime = False
            info.cpuset = "cpuset" in ctrls
            info.pids_limit = "pids" in ctrls
            info.blkio_weight = info.blkio_weight_device = info.blkio_throttle = "io" in ctrls
            return info
        mem, cpu, blk = "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/blkio"
        has = os.path.exists
        info.cpus = _read("/sys/fs/cgroup/cpuset/cpuset.cpus").strip() or _online_cpus()
        info.mems = _read("/sys/fs/cgroup/cpuset/cpuset.mems").strip() or "0"
        info.memory_limit = has(f"{mem}/memory.limit_in_bytes")
        info.swap_limit = has(f"{mem}/memory.memsw.limit_in_bytes")
        info.memory_reservation = has(f"{mem}/memory.soft_limit_in_bytes")
        info.swappiness = has(f"{mem}/memory.swappiness")
        info.kernel_memory = has(f"{mem}/memory.kmem.limit_in_bytes")
        info.oom_kill_disable = has(f"{mem}/memory.oom_control")
        info.cpu_shares = has(f"{cpu}/cpu.shares")
        info.cpu_cfs = has(f"{cpu}/cpu.cfs_quota_us")
        info.cpu_realtime = has(f"{cpu}/cpu.rt_runtime_us")
        info.cpuset = has("/sys/fs/cgroup/cpuset/cpuset.cpus")
        info.pids_limit = has("/sys/fs/cgroup/pids")
        info.blkio_weight = has(f"{blk}/blkio.weight") or has(f"{blk}/blkio.bfq.weight")
        info.blkio_weight_device = has(f"{blk}/blkio.weight_device") or has(f"{blk}/blkio.bfq.weight_device")
        info.blkio_throttle = has(f"{blk}/blkio.throttle.read_bps_device")
        return info

    def propagation_of(self, path: str) -> tuple[str, str]:
        """(mount point, 'shared' | 'slave' | 'private') of the host mount that holds ``path``."""
        best, best_len, where = "private", -1, "/"
        for line in _read(self.mountinfo).splitlines():
            f = line.split()
            if len(f) < 7:
                continue
            mp = f[4].replace("\\040", " ")
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and len(mp) >= best_len:
                opt = f[6:f.index("-")] if "-" in f else f[6:]
                best_len, where = len(mp), mp
                best = ("shared" if any(o.startswith("shared:") for o in opt)
                        else "slave" if any(o.startswith("master:") for o in opt) else "private")
        return where, best


def _online_cpus() -> str:
    return _read("/sys/devices/system/cpu/online").strip() or "0"


def host_resolv_conf_path(path: str = "/etc/resolv.conf",
                          resolved: str = "/run/systemd/resolve/resolv.conf") -> str:
    """/etc/resolv.conf, unless it only names systemd-resolved's stub (127.0.0.53): then resolved's file."""
    text = _read(path)
    servers = [ln.split()[1] for ln in text.splitlines() if ln.startswith("nameserver") and len(ln.split()) > 1]
    if servers and all(s == "127.0.0.53" for s in servers) and os.path.exists(resolved):
        return resolved
    return path


def find_init(candidates=INIT_CANDIDATES) -> str | None:
    """The first static init binary (tini-static, catatonit, …) found on this host."""
    return next((p for p in candidates if os.path.isfile(p) and os.access(p, os.X_OK)), None)
