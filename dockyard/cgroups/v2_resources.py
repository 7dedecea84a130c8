"""Resources -> cgroup v2 control-file writes (planning only; see writes.py).

Conversions follow runc's libcontainer/cgroups/fs2: cpu.weight from shares,
io.weight from the blkio weight, memory.swap.max = swap - limit, "max" for
unlimited. Device rules are not files on v2 (see devicefilter.py).
"""
from __future__ import annotations

from ..util import lazylog as logging

from dockyard.spec.runtime import CPU, BlockIO, Memory, Resources

from .files import CgroupFiles
from .errors import CgroupError
from .writes import Write

log = logging.getLogger("dockyard.cgroups")

# unified keys a config may not write: moving processes is the runtime's job
_FORBIDDEN_UNIFIED = ("cgroup.procs", "cgroup.threads", "cgroup.kill")


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144) -> cpu.weight (1..10000)."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000) -> io.weight (1..10000)."""
    if weight == 0:
        return 0
    return 1 + ((weight - 10) * 9999) // 990


def swap_to_v2(swap: int | None, limit: int | None) -> int | None:
    """OCI memory+swap total -> memory.swap.max (swap alone); -1 = max."""
    if limit == -1 and swap is None:
        return -1  # unlimited memory and unset swap: both unlimited
    if swap is None or swap == -1:
        return swap
    if limit is None or limit == -1:
        raise CgroupError("cgroup memory: a swap limit needs a memory limit")
    if swap < limit:
        raise CgroupError(f"cgroup memory: memory+swap limit {swap} is lower than the memory limit {limit}")
    return swap - limit


def _num(v: int) -> str:
    return "max" if v == -1 else str(v)


def plan(res: Resources, d: str, fs: CgroupFiles) -> list[Write]:
    out: list[Write] = []
    if res.memory is not None:
        out += _memory(res.memory, d, fs)
    if res.cpu is not None:
        out += _cpu(res.cpu, d, fs)
    if res.pids_limit is not None:
        out.append(_need(Write("pids", d, "pids.max", "max" if res.pids_limit <= 0 else str(res.pids_limit)), fs))
    if res.block_io is not None:
        out += _io(res.block_io, d, fs)
    for key, value in res.unified.items():
        out += _unified(key, value, d, fs)
    return out


def _need(w: Write, fs: CgroupFiles) -> Write:
    if not fs.exists(w.directory, w.file):
        ctrl = w.file.split(".")[0]
        avail = fs.read(w.directory, "cgroup.controllers", "cgroup").split() \
            if fs.exists(w.directory, "cgroup.controllers") else []
        if ctrl not in avail:
            raise CgroupError(f"cgroup {w.controller}: cannot set {w.file}: controller {ctrl!r} "
                              f"is not enabled for this cgroup")
        raise CgroupError(f"cgroup {w.controller}: {w.file} is not supported by this kernel")
    return w


def _memory(m: Memory, d: str, fs: CgroupFiles) -> list[Write]:
    limit, swap, reservation = m.limit or None, m.swap or None, m.reservation or None
    for name, v in (("limit", limit), ("swap", swap), ("reservation", reservation)):
        if v is not None and v < -1:
            raise CgroupError(f"cgroup memory: invalid memory {name} {v}")
    if m.swappiness not in (None, -1):
        log.debug("cgroup memory: swappiness is not available on cgroup v2; ignored")
    if m.disable_oom_killer:
        log.warning("cgroup memory: disabling the OOM killer is not possible on cgroup v2; ignored")
    out: list[Write] = []
    sw = swap_to_v2(swap, limit)
    if sw is not None:
        w = Write("memory", d, "memory.swap.max", _num(sw))
        if fs.exists(d, "memory.swap.max"):
            out.append(w)
        elif sw not in (-1, 0):  # no swap accounting: "max" and "0" are moot
            out.append(_need(w, fs))
    if limit is not None:
        out.append(_need(Write("memory", d, "memory.max", _num(limit)), fs))
    if reservation is not None:
        out.append(_need(Write("memory", d, "memory.low", _num(reservation)), fs))
    return out


def _cpu(c: CPU, d: str, fs: CgroupFiles) -> list[Write]:
    out: list[Write] = []
    if c.realtime_runtime or c.realtime_period:
        raise CgroupError("cgroup cpu: realtime runtime/period are not supported on cgroup v2")
    if c.idle is not None:
        out.append(_need(Write("cpu", d, "cpu.idle", str(c.idle)), fs))
    if c.shares:
        if not 2 <= c.shares <= 262144:
            raise CgroupError(f"cgroup cpu: invalid cpu shares {c.shares} (valid range is 2-262144)")
        out.append(_need(Write("cpu", d, "cpu.weight", str(shares_to_weight(c.shares))), fs))
    burst = None
    if c.burst is not None:
        if c.quota and c.quota > 0 and c.burst > c.quota:
            raise CgroupError(f"cgroup cpu: cpu burst {c.burst} is larger than the quota {c.quota}")
        burst = Write("cpu", d, "cpu.max.burst", str(c.burst), optional=c.burst == 0)
        if c.burst:
            _need(burst, fs)
        out.append(burst)
    if c.quota or c.period:
        value = str(c.quota) if c.quota and c.quota > 0 else "max"
        if c.period:
            value += f" {c.period}"
        out.append(_need(Write("cpu", d, "cpu.max", value), fs))
        if burst is not None:
            out.append(burst)  # the kernel checks burst against the new quota
    if c.cpus:
        out.append(_need(Write("cpuset", d, "cpuset.cpus", c.cpus), fs))
    if c.mems:
        out.append(_need(Write("cpuset", d, "cpuset.mems", c.mems), fs))
    return out


def _io(b: BlockIO, d: str, fs: CgroupFiles) -> list[Write]:
    out: list[Write] = []
    bfq = fs.exists(d, "io.bfq.weight")
    if b.weight:
        if not 10 <= b.weight <= 1000:
            raise CgroupError(f"cgroup io: invalid blkio weight {b.weight} (valid range is 10-1000)")
        out.append(Write("io", d, "io.bfq.weight", str(b.weight)) if bfq else
                   _need(Write("io", d, "io.weight", str(blkio_to_io_weight(b.weight))), fs))
    for wd in b.weight_device:
        if wd.weight:
            if bfq:
                out.append(Write("io", d, "io.bfq.weight", f"{wd.major}:{wd.minor} {wd.weight}"))
            else:
                out.append(_need(Write("io", d, "io.weight",
                                       f"{wd.major}:{wd.minor} {blkio_to_io_weight(wd.weight)}"), fs))
    for key, entries in (("rbps", b.throttle_read_bps), ("wbps", b.throttle_write_bps),
                         ("riops", b.throttle_read_iops), ("wiops", b.throttle_write_iops)):
        for t in entries:
            if t.rate < 0 or t.major < 0 or t.minor < 0:
                raise CgroupError(f"cgroup io: invalid throttle {t.major}:{t.minor} {t.rate}")
            out.append(_need(Write("io", d, "io.max", f"{t.major}:{t.minor} {key}={t.rate or 'max'}"), fs))
    return out


def _unified(key: str, value: str, d: str, fs: CgroupFiles) -> list[Write]:
    if not key or "/" in key or key in (".", "..") or "\0" in key:
        raise CgroupError(f"cgroup: unified resource {key!r} must be a file name")
    if key in _FORBIDDEN_UNIFIED:
        raise CgroupError(f"cgroup: unified resource {key!r} cannot be set from the configuration")
    ctrl, dot, _ = key.partition(".")
    if not dot:
        raise CgroupError(f"cgroup: unified resource {key!r} must be of the form CONTROLLER.PARAMETER")
    w = _need(Write(ctrl, d, key, value), fs)
    # multi-line values (io.max for several devices) are written a line at a time
    lines = [ln for ln in value.split("\n") if ln.strip()] or [value]
    return [Write(w.controller, d, key, ln) for ln in lines]
