"""Resources -> cgroup v1 control-file writes (planning only; see writes.py).

Follows runc's libcontainer/cgroups/fs semantics: an unset (None) or zero
value leaves a knob alone, -1 means unlimited where the kernel takes it.
"""
from __future__ import annotations

from ..util import lazylog as logging

from dockyard.spec.runtime import CPU, BlockIO, Memory, Resources

from . import devices
from .files import EOPNOTSUPP, CgroupFiles, parse_int
from .errors import CgroupError
from .writes import Write

log = logging.getLogger("dockyard.cgroups")

MEMSW = "memory.memsw.limit_in_bytes"
LIMIT = "memory.limit_in_bytes"


def plan(res: Resources, dirs: dict[str, str], fs: CgroupFiles) -> list[Write]:
    """``dirs`` maps a controller name to the container's directory for it."""
    if res.unified:
        raise CgroupError("cgroup: linux.resources.unified needs cgroup v2 (this host uses cgroup v1)")

    def need(ctrl):
        d = dirs.get(ctrl)
        if d is None:
            raise CgroupError(f"cgroup {ctrl}: controller not available on this host")
        return d

    out: list[Write] = []
    if res.cpu is not None and (res.cpu.cpus or res.cpu.mems):
        d = need("cpuset")
        if res.cpu.cpus:
            out.append(Write("cpuset", d, "cpuset.cpus", res.cpu.cpus))
        if res.cpu.mems:
            out.append(Write("cpuset", d, "cpuset.mems", res.cpu.mems))
    if res.devices:
        rules = devices.validate(res.devices)
        d = need("devices")
        out += [Write("devices", d, f, line) for f, line in devices.v1_writes(rules)]
    if res.memory is not None:
        out += _memory(res.memory, dirs, need, fs)
    if res.cpu is not None:
        out += _cpu(res.cpu, need, fs)
    if res.pids_limit is not None:
        out.append(Write("pids", need("pids"), "pids.max", "max" if res.pids_limit <= 0 else str(res.pids_limit)))
    if res.block_io is not None:
        out += _blkio(res.block_io, need, fs)
    return out


def _memory(m: Memory, dirs, need, fs: CgroupFiles) -> list[Write]:
    limit = m.limit or None
    swap = m.swap or None
    reservation = m.reservation or None
    wanted = [limit, swap, reservation, m.kernel, m.kernel_tcp, m.disable_oom_killer, m.use_hierarchy]
    if m.swappiness not in (None, -1):
        wanted.append(m.swappiness)
    if all(v is None for v in wanted):
        return []
    d = need("memory")
    for name, v in (("limit", limit), ("swap", swap), ("reservation", reservation)):
        if v is not None and v < -1:
            raise CgroupError(f"cgroup memory: invalid memory {name} {v}")
    if limit is not None and limit > 0 and swap is not None and 0 < swap < limit:
        raise CgroupError(f"cgroup memory: memory+swap limit {swap} is lower than the memory limit {limit}")
    has_memsw = fs.exists(d, MEMSW)
    if limit == -1 and swap is None and has_memsw:
        swap = -1  # unlimited memory means unlimited swap too
    if swap is not None and not has_memsw:
        log.debug("cgroup memory: swap limit not supported by this kernel; limiting memory without swap")
        swap = None

    out: list[Write] = []
    mem_w = Write("memory", d, LIMIT, str(limit)) if limit is not None else None
    swap_w = Write("memory", d, MEMSW, str(swap)) if swap is not None else None
    if mem_w and swap_w:
        # the kernel keeps limit <= memsw at every step: raise memsw first when
        # the new memsw is above the current limit, else lower the limit first
        cur = parse_int(fs.read(d, LIMIT, "memory"), LIMIT)
        out += [swap_w, mem_w] if swap == -1 or cur < swap else [mem_w, swap_w]
    else:
        out += [w for w in (mem_w, swap_w) if w]
    if reservation is not None:
        out.append(Write("memory", d, "memory.soft_limit_in_bytes", str(reservation)))
    if m.kernel is not None:  # deprecated; newer kernels drop or ignore it
        out.append(Write("memory", d, "memory.kmem.limit_in_bytes", str(m.kernel), optional=True,
                         ignore=(EOPNOTSUPP,)))
    if m.kernel_tcp is not None:
        out.append(Write("memory", d, "memory.kmem.tcp.limit_in_bytes", str(m.kernel_tcp), optional=True,
                         ignore=(EOPNOTSUPP,)))
    if m.swappiness not in (None, -1):
        if not 0 <= m.swappiness <= 100:
            raise CgroupError(f"cgroup memory: invalid swappiness {m.swappiness} (valid range is 0-100)")
        out.append(Write("memory", d, "memory.swappiness", str(m.swappiness)))
    if m.disable_oom_killer is not None:
        out.append(Write("memory", d, "memory.oom_control", "1" if m.disable_oom_killer else "0"))
    if m.use_hierarchy is not None:
        out.append(Write("memory", d, "memory.use_hierarchy", "1" if m.use_hierarchy else "0", optional=True))
    return out


def _cpu(c: CPU, need, fs: CgroupFiles) -> list[Write]:
    shares, period, quota = c.shares or None, c.period or None, c.quota or None
    rt_period, rt_runtime = c.realtime_period or None, c.realtime_runtime or None
    if all(v is None for v in (shares, period, quota, rt_period, rt_runtime, c.burst, c.idle)):
        return []
    d = need("cpu")
    out: list[Write] = []
    if shares is not None:
        if shares < 0:
            raise CgroupError(f"cgroup cpu: invalid cpu shares {shares}")
        out.append(Write("cpu", d, "cpu.shares", str(shares), verify=True))
    if period is not None:
        out.append(Write("cpu", d, "cpu.cfs_period_us", str(period), retry_after_next=quota is not None))
    if quota is not None:
        out.append(Write("cpu", d, "cpu.cfs_quota_us", str(quota)))
    if c.burst is not None:
        if quota is not None and quota > 0 and c.burst > quota:
            raise CgroupError(f"cgroup cpu: cpu burst {c.burst} is larger than the quota {quota}")
        out.append(_supported(Write("cpu", d, "cpu.cfs_burst_us", str(c.burst)), fs, c.burst == 0))
    if c.idle is not None:
        out.append(_supported(Write("cpu", d, "cpu.idle", str(c.idle)), fs, c.idle == 0))
    if rt_period is not None:
        out.append(Write("cpu", d, "cpu.rt_period_us", str(rt_period), retry_after_next=rt_runtime is not None))
    if rt_runtime is not None:
        out.append(Write("cpu", d, "cpu.rt_runtime_us", str(rt_runtime)))
    return out


def _supported(w: Write, fs: CgroupFiles, harmless: bool) -> Write:
    """A knob that must exist unless the request is the default value."""
    if not fs.exists(w.directory, w.file):
        if harmless:
            return Write(w.controller, w.directory, w.file, w.value, optional=True)
        raise CgroupError(f"cgroup {w.controller}: {w.file} is not supported by this kernel")
    return w


def _blkio(b: BlockIO, need, fs: CgroupFiles) -> list[Write]:
    throttles = (("blkio.throttle.read_bps_device", b.throttle_read_bps),
                 ("blkio.throttle.write_bps_device", b.throttle_write_bps),
                 ("blkio.throttle.read_iops_device", b.throttle_read_iops),
                 ("blkio.throttle.write_iops_device", b.throttle_write_iops))
    if not (b.weight or b.leaf_weight or b.weight_device or any(t for _, t in throttles)):
        return []
    d = need("blkio")
    out: list[Write] = []
    # weights only where the kernel has them (the spec says so); CFQ's
    # blkio.weight, else BFQ's blkio.bfq.weight, else nothing
    wfile = next((f for f in ("blkio.weight", "blkio.bfq.weight") if fs.exists(d, f)), None)
    for name, v in (("weight", b.weight), ("leaf weight", b.leaf_weight)):
        if v and not 10 <= v <= 1000:
            raise CgroupError(f"cgroup blkio: invalid {name} {v} (valid range is 10-1000)")
    if b.weight:
        if wfile:
            out.append(Write("blkio", d, wfile, str(b.weight)))
        else:
            log.debug("cgroup blkio: no weight file on this kernel; blkio weight not set")
    if b.leaf_weight:
        out.append(Write("blkio", d, "blkio.leaf_weight", str(b.leaf_weight), optional=True))
    for wd in b.weight_device:
        if wd.weight:
            if wfile:
                out.append(Write("blkio", d, wfile + "_device", f"{wd.major}:{wd.minor} {wd.weight}"))
            else:
                log.debug("cgroup blkio: no weight file on this kernel; device weight %d:%d not set",
                         wd.major, wd.minor)
        if wd.leaf_weight:
            out.append(Write("blkio", d, "blkio.leaf_weight_device", f"{wd.major}:{wd.minor} {wd.leaf_weight}",
                             optional=True))
    for f, entries in throttles:
        if entries and not fs.exists(d, f):
            raise CgroupError(f"cgroup blkio: {f} is not supported by this kernel")
        for t in entries:
            if t.rate < 0 or t.major < 0 or t.minor < 0:
                raise CgroupError(f"cgroup blkio: invalid throttle {t.major}:{t.minor} {t.rate}")
            out.append(Write("blkio", d, f, f"{t.major}:{t.minor} {t.rate}"))
    return out
