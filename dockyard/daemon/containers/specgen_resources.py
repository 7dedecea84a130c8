"""``HostConfig`` resources -> ``linux.resources`` (memory, cpu, pids, blockIO) and ``process.rlimits``.

Validation and warnings follow dockerd's ``verifyPlatformContainerResources``: errors use its words;
a knob the kernel lacks is dropped with its warning (returned in the create answer's ``Warnings``).
Docker's defaults are kept: ``MemorySwap`` 0 with a memory limit means twice the limit, -1 means
unlimited swap; ``PidsLimit`` 0 or -1 means unlimited; ``NanoCpus`` becomes a quota over a 100 ms period.
"""
from __future__ import annotations

import os
import stat

from . import defaults as D
from .specgen_errors import SpecGenError
from .specgen_host import HostInfo, parse_cpu_list
from .specgen_request import HostConfig


def _check_cpuset(value: str, available: str, what: str, noun: str) -> None:
    if not value:
        return
    wanted = parse_cpu_list(value)
    if wanted is None:
        raise SpecGenError(f"Invalid value {value} for cpuset {what}")
    have = parse_cpu_list(available) or set()
    if not wanted <= have:
        raise SpecGenError(f"Requested {noun} are not available - requested {value}, available: {available}")


def _memory(h: HostConfig, host: HostInfo, warn) -> dict:
    mem, swap, res = h.memory, h.memory_swap, h.memory_reservation
    if mem < 0 or res < 0 or h.kernel_memory < 0 or h.kernel_memory_tcp < 0 or swap < -1:
        raise SpecGenError("invalid memory limit: values must not be negative")
    if mem and mem < D.MIN_MEMORY:
        raise SpecGenError("Minimum memory limit allowed is 6MB")
    if mem and not host.memory_limit:
        warn("Your kernel does not support memory limit capabilities or the cgroup is not mounted. "
             "Limitation discarded.")
        mem = swap = 0
    if mem > 0 and swap == 0:
        swap = 2 * mem
    if swap > 0 and not host.swap_limit:
        warn("Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
             "Memory limited without swap.")
        swap = -1
    if mem > 0 and swap > 0 and swap < mem:
        raise SpecGenError("Minimum memoryswap limit should be larger than memory limit, see usage")
    if mem == 0 and swap > 0:
        raise SpecGenError("You should always set the Memory limit when using Memoryswap limit, see usage")
    swappiness = h.memory_swappiness
    if swappiness is not None and swappiness != -1:
        if not host.swappiness:
            warn("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. "
                 "Memory swappiness discarded.")
            swappiness = None
        elif not 0 <= swappiness <= 100:
            raise SpecGenError(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    if res and not host.memory_reservation:
        warn("Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. "
             "Limitation discarded.")
        res = 0
    if mem > 0 and res > 0 and mem < res:
        raise SpecGenError("Minimum memory limit can not be less than memory reservation limit, see usage")
    kmem = h.kernel_memory
    if kmem:
        if kmem < D.MIN_KERNEL_MEMORY:
            raise SpecGenError("Minimum kernel memory limit allowed is 4MB")
        warn("Specifying a kernel memory limit is deprecated and will be removed in a future release.")
        if not host.kernel_memory:
            warn("Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. "
                 "Limitation discarded.")
            kmem = 0
    oom = h.oom_kill_disable
    if oom and not host.oom_kill_disable:
        warn("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
        oom = False
    if oom and mem == 0:
        warn("OOM killer is disabled for the container, but no memory limit is set, this can result in the "
             "system running out of resources.")
    out: dict = {}
    if mem > 0:
        out["limit"] = mem
    if res > 0:
        out["reservation"] = res
    if swap > 0:
        out["swap"] = swap
    if swappiness is not None and swappiness != -1:
        out["swappiness"] = swappiness
    if oom is not None:
        out["disableOOMKiller"] = oom
    if kmem:
        out["kernel"] = kmem
    if h.kernel_memory_tcp:
        out["kernelTCP"] = h.kernel_memory_tcp
    return out


def _cpu(h: HostConfig, host: HostInfo, warn) -> dict:
    shares, period, quota = h.cpu_shares, h.cpu_period, h.cpu_quota
    if h.nano_cpus and period:
        raise SpecGenError("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if h.nano_cpus and quota:
        raise SpecGenError("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if h.nano_cpus < 0 or h.nano_cpus > host.ncpu * 10 ** 9:
        raise SpecGenError(f"Range of CPUs is from 0.01 to {host.ncpu}.00, as there are only {host.ncpu} "
                           "CPUs available")
    if shares < 0:
        raise SpecGenError(f"Invalid value {shares} for CPU shares: it must not be negative")
    if shares and not host.cpu_shares:
        warn("Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
        shares = 0
    if 0 < shares < D.MIN_CPU_SHARES:
        warn(f"Changing requested CPUShares of {shares} to minimum allowed of {D.MIN_CPU_SHARES}")
        shares = D.MIN_CPU_SHARES
    if shares > D.MAX_CPU_SHARES:
        warn(f"Changing requested CPUShares of {shares} to maximum allowed of {D.MAX_CPU_SHARES}")
        shares = D.MAX_CPU_SHARES
    if (period or quota or h.nano_cpus) and not host.cpu_cfs:
        warn("Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
        period = quota = 0
    if period and not 1000 <= period <= 1000000:
        raise SpecGenError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if quota and 0 < quota < 1000:
        raise SpecGenError("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if h.cpu_count or h.cpu_percent:
        warn(f"Your kernel does not support CPU count or percent on {os.uname().sysname.lower()}. "
             "Settings discarded.")
    if h.cpuset_cpus or h.cpuset_mems:
        if not host.cpuset:
            raise SpecGenError("Your kernel does not support cpuset or the cgroup is not mounted.")
        _check_cpuset(h.cpuset_cpus, host.cpus, "cpus", "CPUs")
        _check_cpuset(h.cpuset_mems, host.mems, "mems", "memory nodes")
    out: dict = {"shares": shares}
    if h.nano_cpus and host.cpu_cfs:
        period = D.CPU_PERIOD_DEFAULT
        quota = h.nano_cpus * period // 10 ** 9
    if quota:
        out["quota"] = quota
    if period:
        out["period"] = period
    if h.cpu_rt_period or h.cpu_rt_runtime:
        if not host.cpu_realtime:
            raise SpecGenError("Your kernel does not support CPU real-time scheduler")
        if h.cpu_rt_period and h.cpu_rt_runtime > h.cpu_rt_period:
            raise SpecGenError("cpu real-time runtime cannot be higher than cpu real-time period")
        if h.cpu_rt_runtime:
            out["realtimeRuntime"] = h.cpu_rt_runtime
        if h.cpu_rt_period:
            out["realtimePeriod"] = h.cpu_rt_period
    if h.cpuset_cpus:
        out["cpus"] = h.cpuset_cpus
    if h.cpuset_mems:
        out["mems"] = h.cpuset_mems
    return out


def _block_device(path: str, what: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError as e:
        raise SpecGenError(f"{what}: {path}: {e.strerror}") from None
    if not stat.S_ISBLK(st.st_mode):
        raise SpecGenError(f"{what}: {path} is not a block device")
    return os.major(st.st_rdev), os.minor(st.st_rdev)


_THROTTLE = (("BlkioDeviceReadBps", "throttleReadBpsDevice", "BPS Block I/O read limit"),
             ("BlkioDeviceWriteBps", "throttleWriteBpsDevice", "BPS Block I/O write limit"),
             ("BlkioDeviceReadIOps", "throttleReadIOPSDevice", "IOPS Block I/O read limit"),
             ("BlkioDeviceWriteIOps", "throttleWriteIOPSDevice", "IOPS Block I/O write limit"))


def _block_io(h: HostConfig, host: HostInfo, warn) -> dict:
    weight = h.blkio_weight
    if weight and not host.blkio_weight:
        warn("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
        weight = 0
    if weight and not 10 <= weight <= 1000:
        raise SpecGenError("Range of blkio weight is from 10 to 1000")
    out: dict = {"weight": weight}
    if h.blkio_weight_device:
        if not host.blkio_weight_device:
            warn("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
                 "Weight-device discarded.")
        else:
            wd = []
            for path, w in h.blkio_weight_device:
                if not 10 <= w <= 1000:
                    raise SpecGenError(f"invalid weight for device {path}: {w} (range is 10 to 1000)")
                major, minor = _block_device(path, "BlkioWeightDevice")
                wd.append({"major": major, "minor": minor, "weight": w})
            out["weightDevice"] = wd
    for key, oci, what in _THROTTLE:
        entries = h.blkio_throttle.get(key) or []
        if not entries:
            continue
        if not host.blkio_throttle:
            warn(f"Your kernel does not support {what} or the cgroup is not mounted. Block I/O {what.split(' ', 1)[1]} "
                 "discarded.")
            continue
        lst = []
        for path, rate in entries:
            if rate < 0:
                raise SpecGenError(f"invalid rate for device {path}: {rate}")
            major, minor = _block_device(path, key)
            lst.append({"major": major, "minor": minor, "rate": rate})
        out[oci] = lst
    return out


def linux_resources(h: HostConfig, host: HostInfo, warn) -> dict:
    """``linux.resources`` without the device rules (those come with the devices)."""
    if h.io_maximum_iops or h.io_maximum_bandwidth:
        raise SpecGenError("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
    res: dict = {"memory": _memory(h, host, warn), "cpu": _cpu(h, host, warn)}
    if h.pids_limit is not None and h.pids_limit > 0:
        if not host.pids_limit:
            warn("Your kernel does not support pids limit capabilities or the cgroup is not mounted. "
                 "PIDs limit discarded.")
        else:
            res["pids"] = {"limit": h.pids_limit}
    res["blockIO"] = _block_io(h, host, warn)
    return res


def rlimits(h: HostConfig, default_ulimits=()) -> list[dict]:
    """``Ulimits`` (then the daemon's defaults for names not given) -> ``process.rlimits``."""
    out, seen = [], set()
    for u in list(h.ulimits) + [u for u in default_ulimits if u.name not in {x.name for x in h.ulimits}]:
        name = u.name.lower()
        if name not in D.ULIMIT_NAMES:
            raise SpecGenError(f"invalid ulimit type: {u.name}")
        if name in seen:
            raise SpecGenError(f"ulimit {name} is set twice")
        seen.add(name)
        soft = D.RLIM_INFINITY if u.soft == -1 else u.soft
        hard = D.RLIM_INFINITY if u.hard == -1 else u.hard
        if soft < 0 or hard < 0:
            raise SpecGenError(f"invalid ulimit {name}: limits must be -1 (unlimited) or positive")
        if soft > hard:
            raise SpecGenError(f"ulimit soft limit must be less than or equal to hard limit: {u.soft} > {u.hard}")
        out.append({"type": "RLIMIT_" + name.upper(), "hard": hard, "soft": soft})
    return out
