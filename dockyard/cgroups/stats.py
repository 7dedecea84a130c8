"""Statistics read from cgroup v1 and v2 control files (for `docker stats`).

See Manager.stats for the shape. Missing files simply leave their values
out (a controller the host lacks), so callers use .get().
"""
from __future__ import annotations

import os

from .files import CgroupFiles, parse_kv
from .errors import CgroupError

UNLIMITED_V1 = 1 << 62  # v1 reports "no limit" as a huge page-rounded number


def _read(fs: CgroupFiles, d: str, name: str) -> str | None:
    try:
        return fs.read(d, name, name.split(".")[0])
    except CgroupError:
        return None


def _int(fs, d, name) -> int | None:
    t = _read(fs, d, name)
    if t is None:
        return None
    t = t.strip()
    if t == "max":
        return None
    try:
        return int(t)
    except ValueError:
        return None


def _limit(v: int | None) -> int | None:
    return None if v is None or v >= UNLIMITED_V1 else v


def v1_stats(dirs: dict[str, str], fs: CgroupFiles) -> dict[str, object]:
    out: dict[str, object] = {}
    if (d := dirs.get("memory")) is not None:
        out["memory"] = {
            "usage": _int(fs, d, "memory.usage_in_bytes") or 0,
            "max_usage": _int(fs, d, "memory.max_usage_in_bytes") or 0,
            "limit": _limit(_int(fs, d, "memory.limit_in_bytes")),
            "failcnt": _int(fs, d, "memory.failcnt") or 0,
            "stats": parse_kv(_read(fs, d, "memory.stat") or ""),
        }
    cpu: dict[str, object] = {}
    if (d := dirs.get("cpuacct")) is not None:
        tick_ns = 10**9 // (os.sysconf("SC_CLK_TCK") or 100)
        st = parse_kv(_read(fs, d, "cpuacct.stat") or "")
        cpu["usage_total"] = _int(fs, d, "cpuacct.usage") or 0
        cpu["usage_user"] = st.get("user", 0) * tick_ns
        cpu["usage_system"] = st.get("system", 0) * tick_ns
        cpu["percpu"] = [int(x) for x in (_read(fs, d, "cpuacct.usage_percpu") or "").split() if x.isdigit()]
    if (d := dirs.get("cpu")) is not None:
        st = parse_kv(_read(fs, d, "cpu.stat") or "")
        cpu["throttling"] = {"periods": st.get("nr_periods", 0), "throttled_periods": st.get("nr_throttled", 0),
                             "throttled_time": st.get("throttled_time", 0)}
    if cpu:
        out["cpu"] = cpu
    if (d := dirs.get("pids")) is not None:
        out["pids"] = {"current": _int(fs, d, "pids.current") or 0, "limit": _int(fs, d, "pids.max")}
    if (d := dirs.get("blkio")) is not None:
        blk = {}
        for key, names in (("io_service_bytes_recursive", ("blkio.throttle.io_service_bytes_recursive",
                                                           "blkio.io_service_bytes_recursive")),
                           ("io_serviced_recursive", ("blkio.throttle.io_serviced_recursive",
                                                      "blkio.io_serviced_recursive"))):
            text = next((t for t in (_read(fs, d, n) for n in names) if t is not None), "")
            blk[key] = _blkio_entries(text)
        out["blkio"] = blk
    return out


def _blkio_entries(text: str) -> list[dict[str, object]]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue
        maj, _, mnr = parts[0].partition(":")
        try:
            out.append({"major": int(maj), "minor": int(mnr), "op": parts[1], "value": int(parts[2])})
        except ValueError:
            continue
    return out


def v2_stats(d: str, fs: CgroupFiles) -> dict[str, object]:
    out: dict[str, object] = {}
    if fs.exists(d, "memory.current"):
        events = parse_kv(_read(fs, d, "memory.events") or "")
        out["memory"] = {
            "usage": _int(fs, d, "memory.current") or 0,
            "max_usage": _int(fs, d, "memory.peak") or 0,
            "limit": _int(fs, d, "memory.max"),
            "failcnt": events.get("max", 0),
            "stats": parse_kv(_read(fs, d, "memory.stat") or ""),
        }
    if fs.exists(d, "cpu.stat"):
        st = parse_kv(_read(fs, d, "cpu.stat") or "")
        out["cpu"] = {
            "usage_total": st.get("usage_usec", 0) * 1000,
            "usage_user": st.get("user_usec", 0) * 1000,
            "usage_system": st.get("system_usec", 0) * 1000,
            "percpu": [],
            "throttling": {"periods": st.get("nr_periods", 0), "throttled_periods": st.get("nr_throttled", 0),
                           "throttled_time": st.get("throttled_usec", 0) * 1000},
        }
    if fs.exists(d, "pids.current"):
        out["pids"] = {"current": _int(fs, d, "pids.current") or 0, "limit": _int(fs, d, "pids.max")}
    if fs.exists(d, "io.stat"):
        by, ios = [], []
        for line in (_read(fs, d, "io.stat") or "").splitlines():
            parts = line.split()
            if not parts or ":" not in parts[0]:
                continue
            maj, _, mnr = parts[0].partition(":")
            kv = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            try:
                dev = {"major": int(maj), "minor": int(mnr)}
                by += [dict(dev, op="Read", value=int(kv.get("rbytes", 0))),
                       dict(dev, op="Write", value=int(kv.get("wbytes", 0)))]
                ios += [dict(dev, op="Read", value=int(kv.get("rios", 0))),
                        dict(dev, op="Write", value=int(kv.get("wios", 0)))]
            except ValueError:
                continue
        out["blkio"] = {"io_service_bytes_recursive": by, "io_serviced_recursive": ios}
    return out
