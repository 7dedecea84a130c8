"""Docker's stats JSON (``types.StatsJSON``) from a cgroup manager's ``stats()``.

Field for field what dockerd 20.10 writes on Linux: ``omitempty`` fields are left out when zero,
nil lists are ``null``; cgroup v1 memory statistics are the 32 memory.stat keys dockerd copies,
v2 the ones it copies from memory.stat; an unlimited memory limit is the machine's memory;
``system_cpu_usage`` is the sum of the first seven fields of /proc/stat's ``cpu`` line in
nanoseconds and ``online_cpus`` the number of ``cpuN`` lines. A container that is not running gets
zeros (only its name and id), as from dockerd.
"""
from __future__ import annotations

import os

ZERO_TIME = "0001-01-01T00:00:00Z"
BLKIO_KEYS = ("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
              "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
              "io_time_recursive", "sectors_recursive")
V1_MEMORY_KEYS = (
    "cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout", "pgfault",
    "pgmajfault", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
    "hierarchical_memory_limit", "hierarchical_memsw_limit", "total_cache", "total_rss", "total_rss_huge",
    "total_mapped_file", "total_dirty", "total_writeback", "total_pgpgin", "total_pgpgout", "total_pgfault",
    "total_pgmajfault", "total_inactive_anon", "total_active_anon", "total_inactive_file",
    "total_active_file", "total_unevictable")
V2_MEMORY_KEYS = (
    "anon", "file", "kernel_stack", "slab", "sock", "shmem", "file_mapped", "file_dirty", "file_writeback",
    "anon_thp", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
    "slab_reclaimable", "slab_unreclaimable", "pgfault", "pgmajfault", "workingset_refault",
    "workingset_activate", "workingset_nodereclaim", "pgrefill", "pgscan", "pgsteal", "pgactivate",
    "pgdeactivate", "pglazyfree", "pglazyfreed", "thp_fault_alloc", "thp_collapse_alloc")


def zero_cpu() -> dict:
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def read_proc_stat(text: str) -> tuple[int, int]:
    """(system CPU time in ns, online CPUs) from the text of /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK") or 100
    system, online = 0, 0
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "cpu":
            if len(parts) < 8:
                raise ValueError("invalid number of cpu fields in /proc/stat")
            system = sum(int(x) for x in parts[1:8]) * 10**9 // tick
        elif parts[0].startswith("cpu") and parts[0][3:].isdigit():
            online += 1
    return system, online


def read_machine_memory(text: str) -> int:
    """MemTotal in bytes from the text of /proc/meminfo (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            return int(parts[1]) * (1024 if len(parts) > 2 and parts[2].lower() == "kb" else 1)
    return 0


def _omit_zero(d: dict) -> dict:
    return {k: v for k, v in d.items() if v}


def _cpu(raw: dict | None, system: int, online: int) -> dict:
    out = zero_cpu()
    if raw:
        usage = {"total_usage": raw.get("usage_total", 0)}
        if raw.get("percpu"):
            usage["percpu_usage"] = list(raw["percpu"])
        usage["usage_in_kernelmode"] = raw.get("usage_system", 0)
        usage["usage_in_usermode"] = raw.get("usage_user", 0)
        thr = raw.get("throttling") or {}
        out = {"cpu_usage": usage,
               "throttling_data": {"periods": thr.get("periods", 0), "throttled_periods": thr.get("throttled_periods", 0),
                                   "throttled_time": thr.get("throttled_time", 0)}}
    res = {"cpu_usage": out["cpu_usage"]}
    if system:
        res["system_cpu_usage"] = system
    if online:
        res["online_cpus"] = online
    res["throttling_data"] = out["throttling_data"]
    return res


def _memory(raw: dict | None, version: int, machine_memory: int) -> dict:
    if not raw:
        return {}
    keys = V1_MEMORY_KEYS if version == 1 else V2_MEMORY_KEYS
    stats = raw.get("stats") or {}
    limit = raw.get("limit")
    if machine_memory and (limit is None or limit > machine_memory):
        limit = machine_memory
    return _omit_zero({
        "usage": raw.get("usage", 0),
        "max_usage": raw.get("max_usage", 0) if version == 1 else 0,
        "stats": {k: stats.get(k, 0) for k in sorted(keys)},   # Go writes map keys sorted
        "failcnt": raw.get("failcnt", 0),
        "limit": limit or 0,
    })


def _blkio(raw: dict | None, version: int) -> dict:
    if raw is None:
        return {k: None for k in BLKIO_KEYS}
    if version == 2:   # dockerd: bytes only, ops in lower case, the rest unsupported
        entries = [dict(e, op=e["op"].lower()) for e in raw.get("io_service_bytes_recursive") or []]
        return {k: (entries or None) if k == "io_service_bytes_recursive" else None for k in BLKIO_KEYS}
    return {k: list(raw.get(k) or []) for k in BLKIO_KEYS}


def _pids(raw: dict | None) -> dict:
    if not raw:
        return {}
    return _omit_zero({"current": raw.get("current", 0), "limit": raw.get("limit") or 0})


def stats_json(name: str, cid: str, *, read: str = ZERO_TIME, preread: str = ZERO_TIME, raw: dict | None = None,
               version: int = 1, system: int = 0, online: int = 0, machine_memory: int = 0,
               precpu: dict | None = None) -> dict:
    """The document for one sample; ``raw`` None gives the zeros of a container that is not running."""
    if raw is None:
        cpu, mem, blk, pids = zero_cpu(), {}, _blkio(None, version), {}
    else:
        cpu = _cpu(raw.get("cpu"), system, online)
        mem = _memory(raw.get("memory"), version, machine_memory)
        blk = _blkio(raw.get("blkio"), version) if "blkio" in raw else _blkio(None, version)
        pids = _pids(raw.get("pids"))
    return {"read": read, "preread": preread, "pids_stats": pids, "blkio_stats": blk, "num_procs": 0,
            "storage_stats": {}, "cpu_stats": cpu, "precpu_stats": precpu or zero_cpu(), "memory_stats": mem,
            "name": name, "id": cid}
